package dashboard

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/connection"
	"github.com/mailtrail/mailtrail/internal/esp"
)

// fieldLabels spell the credential fields on the forms.
var fieldLabels = map[esp.CredentialField]string{esp.FieldSigningKey: "signing key", esp.FieldUsername: "username",
	esp.FieldPassword: "password", esp.FieldBearerToken: "bearer token", esp.FieldTopicARN: "SNS topic ARN"}

// vendorChoice is a vendor of the create form, with the credentials it needs.
type vendorChoice struct {
	Name, Needs string
	Fields      string // the credential fields it may use, space separated (data-fields)
}

func vendorChoices() []vendorChoice {
	vendors := esp.Names() // in the API's order
	out := make([]vendorChoice, 0, len(vendors))
	for _, v := range vendors {
		c := vendorFields(v)
		var fields []string
		for _, f := range []struct {
			on   bool
			name esp.CredentialField
		}{{c.SigningKey, esp.FieldSigningKey}, {c.Username, esp.FieldUsername}, {c.Password, esp.FieldPassword},
			{c.BearerToken, esp.FieldBearerToken}, {c.TopicARN, esp.FieldTopicARN}} {
			if f.on {
				fields = append(fields, string(f.name))
			}
		}
		out = append(out, vendorChoice{Name: v, Needs: vendorNeeds(v), Fields: strings.Join(fields, " ")})
	}
	return out
}

// vendorNeeds says in words which credentials vendor's webhooks are verified with.
func vendorNeeds(vendor string) string {
	sets, hint, ok := esp.CredentialNeeds(vendor)
	if !ok {
		return ""
	}
	alts := make([]string, len(sets))
	for i, set := range sets {
		names := make([]string, len(set))
		for j, f := range set {
			names[j] = fieldLabels[f]
		}
		alts[i] = strings.Join(names, " and ")
	}
	s := alts[0]
	if len(alts) > 1 {
		s = strings.Join(alts[:len(alts)-1], ", ") + " or " + alts[len(alts)-1]
	}
	if hint != "" {
		for f, l := range fieldLabels {
			hint = strings.ReplaceAll(hint, string(f), l)
		}
		s += " (" + hint + ")"
	}
	return s
}

// credFields are the credential fields a form shows.
type credFields struct{ SigningKey, Username, Password, BearerToken, TopicARN bool }

var allCredFields = credFields{true, true, true, true, true}

// vendorFields returns the credential fields vendor can use (all for an unknown vendor).
func vendorFields(vendor string) credFields {
	sets, _, ok := esp.CredentialNeeds(vendor)
	if !ok {
		return allCredFields
	}
	var c credFields
	for _, set := range sets {
		for _, f := range set {
			switch f {
			case esp.FieldSigningKey:
				c.SigningKey = true
			case esp.FieldUsername:
				c.Username = true
			case esp.FieldPassword:
				c.Password = true
			case esp.FieldBearerToken:
				c.BearerToken = true
			case esp.FieldTopicARN:
				c.TopicARN = true
			}
		}
	}
	if esp.OptionalBasicAuth(vendor) { // basic auth on top of the required credential
		c.Username, c.Password = true, true
	}
	return c
}

// formCredentials are the credential fields of a form.
func formCredentials(f url.Values) esp.Credentials {
	return esp.Credentials{SigningKey: f.Get("signing_key"), Username: f.Get("username"), Password: f.Get("password"),
		BearerToken: f.Get("bearer_token"), TopicARN: f.Get("topic_arn")}
}

// createConnection creates a connection from the form, then shows it with its setup.
func (h *Handler) createConnection(w http.ResponseWriter, r *http.Request) {
	rq := from(r)
	if h.opt.Connections == nil {
		h.errorPage(w, r, rq, http.StatusNotFound, "There is no such page.")
		return
	}
	f := r.PostForm
	c, err := h.opt.Connections.Create(r.Context(), rq.org.ID, connection.Input{Vendor: f.Get("vendor"), Name: f.Get("name"), Credentials: formCredentials(f)})
	if mailtrail.ErrorCode(err) == mailtrail.EINVALID {
		// The credentials are never written back into the form.
		d := connectionsData{Vendor: f.Get("vendor"), Name: f.Get("name"), Error: errMessage(err)}
		h.renderConnections(w, r, rq, http.StatusBadRequest, &d)
		return
	}
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	http.Redirect(w, r, "/dashboard/connections?"+url.Values{"created": {c.ID}}.Encode()+"#"+c.ID, http.StatusSeeOther)
}

// rotationGraces are the choices of how long the previous credentials stay valid.
var rotationGraces = map[string]time.Duration{"0": 0, "1h": time.Hour, "24h": 24 * time.Hour, "168h": 7 * 24 * time.Hour}

// rotateConnection gives a connection the form's new credentials.
func (h *Handler) rotateConnection(w http.ResponseWriter, r *http.Request) {
	rq := from(r)
	if h.opt.Connections == nil {
		h.errorPage(w, r, rq, http.StatusNotFound, "There is no such page.")
		return
	}
	id := r.PathValue("conn")
	grace, ok := rotationGraces[r.PostForm.Get("grace")]
	if !ok {
		grace = 24 * time.Hour
	}
	_, err := h.opt.Connections.Rotate(r.Context(), rq.org.ID, id, formCredentials(r.PostForm), grace)
	if mailtrail.ErrorCode(err) == mailtrail.EINVALID {
		d := connectionsData{Vendor: "generic", Error: errMessage(err)}
		h.renderConnections(w, r, rq, http.StatusBadRequest, &d)
		return
	}
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	http.Redirect(w, r, "/dashboard/connections?"+url.Values{"rotated": {id}}.Encode()+"#"+id, http.StatusSeeOther)
}

func (h *Handler) disableConnection(w http.ResponseWriter, r *http.Request) {
	h.setDisabled(w, r, true)
}

func (h *Handler) enableConnection(w http.ResponseWriter, r *http.Request) {
	h.setDisabled(w, r, false)
}

func (h *Handler) setDisabled(w http.ResponseWriter, r *http.Request, disabled bool) {
	rq := from(r)
	if h.opt.Connections == nil {
		h.errorPage(w, r, rq, http.StatusNotFound, "There is no such page.")
		return
	}
	id := r.PathValue("conn")
	if _, err := h.opt.Connections.SetDisabled(r.Context(), rq.org.ID, id, disabled); err != nil {
		h.fail(w, r, rq, err)
		return
	}
	k := "enabled"
	if disabled {
		k = "disabled"
	}
	http.Redirect(w, r, "/dashboard/connections?"+url.Values{k: {id}}.Encode()+"#"+id, http.StatusSeeOther)
}
