package httpd

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
)

// recipientFilter reads ?activity=opened|clicked|bounced|complained|unsubscribed
// &human=true&link=URL&bounce=hard|soft&cursor=&limit=.
func recipientFilter(r *http.Request) (mailtrail.RecipientFilter, error) {
	q := r.URL.Query()
	f := mailtrail.RecipientFilter{LinkURL: q.Get("link"), Cursor: q.Get("cursor")}
	switch a := q.Get("activity"); a {
	case "opened", "":
		f.Activity = mailtrail.EventOpened
		if f.LinkURL != "" && a == "" {
			f.Activity = mailtrail.EventClicked
		}
	case "clicked":
		f.Activity = mailtrail.EventClicked
	case "bounced":
		f.Activity = mailtrail.EventBounced
	case "complained":
		f.Activity = mailtrail.EventComplained
	case "unsubscribed":
		f.Activity = mailtrail.EventUnsubscribed
	default:
		return f, mailtrail.Errorf(mailtrail.EINVALID, "activity must be opened, clicked, bounced, complained or unsubscribed")
	}
	switch b := mailtrail.BounceType(q.Get("bounce")); b {
	case "":
	case mailtrail.BounceHard, mailtrail.BounceSoft:
		if f.Activity != mailtrail.EventBounced {
			return f, mailtrail.Errorf(mailtrail.EINVALID, "bounce needs activity=bounced")
		}
		f.Bounce = b
	default:
		return f, mailtrail.Errorf(mailtrail.EINVALID, "bounce must be hard or soft")
	}
	engaged := f.Activity == mailtrail.EventOpened || f.Activity == mailtrail.EventClicked
	if !engaged && (q.Get("human") != "" || f.LinkURL != "") {
		return f, mailtrail.Errorf(mailtrail.EINVALID, "human and link apply to activity=opened or clicked only")
	}
	switch h := q.Get("human"); h {
	case "", "false", "0":
	case "true", "1":
		f.HumanOnly = true
	default:
		return f, mailtrail.Errorf(mailtrail.EINVALID, "human must be true or false")
	}
	var err error
	if f.Limit, err = pageLimit(q); err != nil {
		return f, err
	}
	return f, nil
}

// recipients lists who opened or clicked a campaign: JSON pages, or with format=csv the
// whole list as one CSV download.
func (s *Server) recipients(w http.ResponseWriter, r *http.Request) error {
	f, err := recipientFilter(r)
	if err != nil {
		return err
	}
	org, camp := principalFrom(r.Context()).orgID(), r.PathValue("campaign")
	csvOut := r.URL.Query().Get("format") == "csv"
	if csvOut {
		f.Limit, f.Cursor = 1000, ""
	}
	// The first page before any byte is written: its errors are still JSON answers.
	page, err := s.query.Recipients(r.Context(), org, camp, f)
	if err != nil {
		return err
	}
	if !csvOut {
		writeJSON(w, http.StatusOK, page)
		return nil
	}
	name := f.Activity.String()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	ts := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	cols := []string{"customer_id", "customer_email", "message_id", "first_open", "first_human_open", "first_click", "first_human_click"}
	var more func(x mailtrail.Recipient) []string // the columns of the list's activity
	switch f.Activity {
	case mailtrail.EventBounced:
		cols = append(cols[:3], "bounced_at", "bounce_type", "reason")
		more = func(x mailtrail.Recipient) []string {
			return []string{ts(x.Bounced), string(x.BounceType), csvCell(x.Reason)}
		}
	case mailtrail.EventComplained:
		cols = append(cols[:3], "complained_at", "feedback_type")
		more = func(x mailtrail.Recipient) []string { return []string{ts(x.Complained), csvCell(x.Reason)} }
	case mailtrail.EventUnsubscribed:
		cols = append(cols[:3], "unsubscribed_at")
		more = func(x mailtrail.Recipient) []string { return []string{ts(x.Unsubscribed)} }
	default:
		if f.LinkURL != "" {
			cols = append(cols, "link_clicks", "link_human_clicks")
		}
	}
	_ = cw.Write(cols)
	for {
		extendDeadlines(w)
		for _, x := range page.Recipients {
			row := []string{csvCell(x.CustomerID), csvCell(x.Email), x.MessageID}
			if more != nil {
				_ = cw.Write(append(row, more(x)...))
				continue
			}
			row = append(row, ts(x.FirstOpen), ts(x.FirstHumanOpen), ts(x.FirstClick), ts(x.FirstHumanClick))
			if f.LinkURL != "" && x.Clicks != nil && x.HumanClicks != nil {
				row = append(row, strconv.FormatInt(*x.Clicks, 10), strconv.FormatInt(*x.HumanClicks, 10))
			}
			_ = cw.Write(row)
		}
		cw.Flush()
		if page.NextCursor == "" || cw.Error() != nil {
			return nil
		}
		f.Cursor = page.NextCursor
		if page, err = s.query.Recipients(r.Context(), org, camp, f); err != nil {
			// Headers are gone: cut the body short so the client sees a broken transfer.
			s.log.ErrorContext(r.Context(), "recipient export failed", "err", err.Error())
			panic(http.ErrAbortHandler)
		}
	}
}

// ServeRecipients serves the recipient list of r.PathValue("campaign") (JSON, or the CSV
// download with format=csv) for org, exactly as GET /api/v1/campaigns/{campaign}/recipients
// does: the dashboard authenticates by its session, then answers through this.
func (s *Server) ServeRecipients(w http.ResponseWriter, r *http.Request, org *mailtrail.Organization) {
	s.handle(s.recipients)(w, asPrincipal(r, org))
}

// csvCell keeps a spreadsheet from reading a cell as a formula (OWASP CSV injection): a
// value starting with = + - @ or a control character gets a leading apostrophe.
func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// customerEvents is a customer's activity timeline: the events list for one customer.
func (s *Server) customerEvents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	q.Set("customer_id", r.PathValue("customer"))
	r.URL.RawQuery = q.Encode()
	s.listEvents(w, r)
	return nil
}
