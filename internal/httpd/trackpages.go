package httpd

import (
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// The pages a recipient can meet on a tracking URL, by key.
const (
	pageBroken       = "broken"        // a click link that is invalid, expired or not ours
	pageClickRetry   = "click-retry"   // the store cannot say where a click goes
	pageUnsubInvalid = "unsub-invalid" // an unsubscribe link that is not valid
	pageUnsubConfirm = "unsub-confirm" // the unsubscribe page's question
	pageUnsubBad     = "unsub-bad"     // a POST without List-Unsubscribe=One-Click
	pageUnsubRetry   = "unsub-retry"   // an unsubscribe that could not be recorded
	pageUnsubDone    = "unsub-done"    // an unsubscribe recorded
	// With a message's topic (%s in texts and buttons is the topic's name):
	pageUnsubTopic     = "unsub-topic"      // the question: that topic, or every email
	pageUnsubDoneTopic = "unsub-done-topic" // an unsubscribe from the topic recorded
	pageHoneypot       = "honeypot"         // the hidden link only scanners follow
)

// pageLangs are the languages of the recipient pages; the first is the default.
var pageLangs = []string{"en", "fr", "de", "es"}

// pageTexts holds each page's title and text, and the unsubscribe button, by language.
var pageTexts = map[string]map[string][2]string{
	"en": {
		pageBroken:         {"This link does not work", "The link may be broken or out of date. Use the link in the most recent email you received, or go to the sender's website."},
		pageClickRetry:     {"Try again in a moment", "This link cannot be opened right now. Please try again in a few seconds."},
		pageUnsubInvalid:   {"Link not valid", "This unsubscribe link is not valid. Use the link in your most recent email."},
		pageUnsubConfirm:   {"Unsubscribe", "Confirm that you no longer want to receive these emails."},
		pageUnsubBad:       {"Bad request", "The request must carry List-Unsubscribe=One-Click."},
		pageUnsubRetry:     {"Please try again", "We could not record your request just now. Please try again in a minute."},
		pageUnsubDone:      {"You are unsubscribed", "You will not receive these emails any more."},
		pageHoneypot:       {"Nothing here", "This link has no destination."},
		"button":           {"Unsubscribe"},
		pageUnsubTopic:     {"Unsubscribe", "Choose which emails you no longer want to receive."},
		pageUnsubDoneTopic: {"You are unsubscribed", "You will not receive emails about %s any more."},
		"button-topic":     {"Unsubscribe from %s"},
		"button-all":       {"Unsubscribe from all emails"},
	},
	"fr": {
		pageBroken:         {"Ce lien ne fonctionne pas", "Le lien est peut-être incomplet ou expiré. Utilisez le lien de l'e-mail le plus récent que vous avez reçu, ou rendez-vous sur le site de l'expéditeur."},
		pageClickRetry:     {"Réessayez dans un instant", "Ce lien ne peut pas être ouvert pour le moment. Réessayez dans quelques secondes."},
		pageUnsubInvalid:   {"Lien non valide", "Ce lien de désinscription n'est pas valide. Utilisez le lien de votre e-mail le plus récent."},
		pageUnsubConfirm:   {"Se désinscrire", "Confirmez que vous ne souhaitez plus recevoir ces e-mails."},
		pageUnsubBad:       {"Requête invalide", "La requête doit contenir List-Unsubscribe=One-Click."},
		pageUnsubRetry:     {"Veuillez réessayer", "Nous n'avons pas pu enregistrer votre demande. Réessayez dans une minute."},
		pageUnsubDone:      {"Désinscription enregistrée", "Vous ne recevrez plus ces e-mails."},
		pageHoneypot:       {"Rien ici", "Ce lien ne mène nulle part."},
		"button":           {"Me désinscrire"},
		pageUnsubTopic:     {"Se désinscrire", "Choisissez les e-mails que vous ne souhaitez plus recevoir."},
		pageUnsubDoneTopic: {"Désinscription enregistrée", "Vous ne recevrez plus d'e-mails concernant %s."},
		"button-topic":     {"Me désinscrire de %s"},
		"button-all":       {"Me désinscrire de tous les e-mails"},
	},
	"de": {
		pageBroken:         {"Dieser Link funktioniert nicht", "Der Link ist möglicherweise fehlerhaft oder abgelaufen. Verwenden Sie den Link aus Ihrer neuesten E-Mail oder besuchen Sie die Website des Absenders."},
		pageClickRetry:     {"Bitte gleich noch einmal versuchen", "Dieser Link kann gerade nicht geöffnet werden. Bitte versuchen Sie es in ein paar Sekunden erneut."},
		pageUnsubInvalid:   {"Ungültiger Link", "Dieser Abmeldelink ist ungültig. Verwenden Sie den Link aus Ihrer neuesten E-Mail."},
		pageUnsubConfirm:   {"Abmelden", "Bestätigen Sie, dass Sie diese E-Mails nicht mehr erhalten möchten."},
		pageUnsubBad:       {"Ungültige Anfrage", "Die Anfrage muss List-Unsubscribe=One-Click enthalten."},
		pageUnsubRetry:     {"Bitte erneut versuchen", "Ihre Anfrage konnte gerade nicht gespeichert werden. Bitte versuchen Sie es in einer Minute erneut."},
		pageUnsubDone:      {"Sie sind abgemeldet", "Sie erhalten diese E-Mails nicht mehr."},
		pageHoneypot:       {"Hier ist nichts", "Dieser Link hat kein Ziel."},
		"button":           {"Abmelden"},
		pageUnsubTopic:     {"Abmelden", "Wählen Sie, welche E-Mails Sie nicht mehr erhalten möchten."},
		pageUnsubDoneTopic: {"Sie sind abgemeldet", "Sie erhalten keine E-Mails zu %s mehr."},
		"button-topic":     {"Von %s abmelden"},
		"button-all":       {"Von allen E-Mails abmelden"},
	},
	"es": {
		pageBroken:         {"Este enlace no funciona", "Es posible que el enlace esté dañado o haya caducado. Use el enlace del correo más reciente que recibió o visite el sitio web del remitente."},
		pageClickRetry:     {"Vuelva a intentarlo en un momento", "Este enlace no se puede abrir ahora. Vuelva a intentarlo en unos segundos."},
		pageUnsubInvalid:   {"Enlace no válido", "Este enlace para darse de baja no es válido. Use el enlace de su correo más reciente."},
		pageUnsubConfirm:   {"Darse de baja", "Confirme que ya no desea recibir estos correos."},
		pageUnsubBad:       {"Solicitud incorrecta", "La solicitud debe incluir List-Unsubscribe=One-Click."},
		pageUnsubRetry:     {"Vuelva a intentarlo", "No pudimos registrar su solicitud en este momento. Vuelva a intentarlo en un minuto."},
		pageUnsubDone:      {"Se ha dado de baja", "Ya no recibirá estos correos."},
		pageHoneypot:       {"Aquí no hay nada", "Este enlace no tiene destino."},
		"button":           {"Darme de baja"},
		pageUnsubTopic:     {"Darse de baja", "Elija qué correos ya no desea recibir."},
		pageUnsubDoneTopic: {"Se ha dado de baja", "Ya no recibirá correos sobre %s."},
		"button-topic":     {"Darme de baja de %s"},
		"button-all":       {"Darme de baja de todos los correos"},
	},
}

// pageLang picks the language of a recipient page from Accept-Language: the supported
// language (en, fr, de, es, by primary subtag) with the highest q, the header's order
// breaking ties; English without a match.
func pageLang(r *http.Request) string {
	best, bestQ := pageLangs[0], 0.0
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if _, ok := pageTexts[primary]; ok && q > bestQ {
			best, bestQ = primary, q
		}
	}
	return best
}

var trackPage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Title}}</title>
<style>{{if .Brand.Color}}:root{--brand:{{.Brand.Color}};--ink:{{.Brand.Ink}}}{{else}}:root{--brand:#2f6fed;--ink:#fff}{{end}}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f6f7f9;color:#1f2933;display:flex;min-height:100vh;align-items:center;justify-content:center;margin:0}
main{background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:2rem 2.5rem;max-width:28rem;text-align:center;margin:1rem}
.org{display:flex;flex-direction:column;align-items:center;gap:.5rem;margin:0 0 1rem;font-weight:600;color:#3e4c59}
.org img{max-width:10rem;max-height:4rem;object-fit:contain}
main{border-top:4px solid var(--brand)}
button{background:var(--brand);color:var(--ink);border:0;border-radius:8px;padding:.75rem 1.5rem;font-size:1rem;cursor:pointer}
button.alt{background:#fff;color:#1f2933;border:1px solid var(--brand);margin-top:.75rem}</style></head>
<body><main>{{with .Brand.Name}}<div class="org" id="org">{{if $.Brand.Logo}}<img src="{{$.Brand.Logo}}" alt="" referrerpolicy="no-referrer">{{end}}<span>{{.}}</span></div>{{end}}<h1>{{.Title}}</h1><p>{{.Text}}</p>{{if .Form}}<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">{{.Button}}</button></form>
{{if .ButtonAll}}<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><input type="hidden" name="scope" value="all"><button class="alt" type="submit">{{.ButtonAll}}</button></form>{{end}}{{end}}</main></body></html>
`))

// pageBrand is what an unsubscribe page shows of the organization that sent the email:
// its display name, and its logo and colour when set (OrgSettings). Nothing else of it.
type pageBrand struct {
	Name, Logo, Color string
	Ink               string // the buttons' text on Color: dark on a light colour, else white
}

// inkOn returns a readable text colour on the #rrggbb background c: dark when its
// relative luminance (sRGB, WCAG) is above 0.4, else white.
func inkOn(c string) string {
	v, err := strconv.ParseUint(strings.TrimPrefix(c, "#"), 16, 32)
	if err != nil {
		return "#fff"
	}
	lin := func(x uint64) float64 {
		f := float64(x) / 255
		if f <= 0.04045 {
			return f / 12.92
		}
		return math.Pow((f+0.055)/1.055, 2.4)
	}
	if 0.2126*lin(v>>16&255)+0.7152*lin(v>>8&255)+0.0722*lin(v&255) > 0.4 {
		return "#1f2933"
	}
	return "#fff"
}

// brandOf returns the brand of the organization orgID; any failure gives no brand (the
// page still works, unbranded).
func (s *Server) brandOf(r *http.Request, orgID string) pageBrand {
	if orgID == "" {
		return pageBrand{}
	}
	org, err := s.store.Org(r.Context(), orgID)
	if err != nil {
		return pageBrand{}
	}
	b := pageBrand{Name: org.Name}
	if st, err := s.store.OrgSettings(r.Context(), orgID); err == nil {
		if strings.HasPrefix(st.BrandLogoURL, "https://") {
			b.Logo = st.BrandLogoURL
		}
		if brandColor.MatchString(st.BrandColor) {
			b.Color, b.Ink = st.BrandColor, inkOn(st.BrandColor)
		}
	}
	return b
}

// page answers a recipient page (key: page…) in the request's language, never cached.
func (s *Server) page(w http.ResponseWriter, r *http.Request, status int, key string) {
	s.topicPage(w, r, status, key, "", pageBrand{})
}

// topicPage is page for a message's topic: the texts and the button name it, and the
// question (pageUnsubTopic) offers every email as well.
// brand dresses it as the organization's (the logo is allowed by the CSP only when set).
func (s *Server) topicPage(w http.ResponseWriter, r *http.Request, status int, key, topic string, brand pageBrand) {
	lang := pageLang(r)
	t := pageTexts[lang]
	h := w.Header()
	noCache(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", lang)
	h.Add("Vary", "Accept-Language")
	csp := "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
	if brand.Logo != "" {
		csp += "; img-src https:"
	}
	h.Set("Content-Security-Policy", csp)
	w.WriteHeader(status)
	d := struct {
		Lang, Title, Text, Button, ButtonAll string
		Form                                 bool
		Brand                                pageBrand
	}{Lang: lang, Title: t[key][0], Text: t[key][1], Button: t["button"][0], Form: key == pageUnsubConfirm || key == pageUnsubTopic, Brand: brand}
	if topic != "" {
		d.Text = strings.ReplaceAll(d.Text, "%s", topic)
		if key == pageUnsubTopic {
			d.Button, d.ButtonAll = strings.ReplaceAll(t["button-topic"][0], "%s", topic), t["button-all"][0]
		}
	}
	_ = trackPage.Execute(w, d)
}
