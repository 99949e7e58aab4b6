package httpd

import (
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/token"
)

// pixelGIF is a 1×1 transparent GIF, 43 bytes.
var pixelGIF = []byte{
	0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
}

func noCache(h http.Header) {
	h.Set("Cache-Control", "no-store, no-cache, must-revalidate, private, max-age=0")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "0")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	h.Set("Referrer-Policy", "no-referrer")
}

// trackEvent records a tracking event, waiting for its commit at most TrackingWait. The
// recipient is never failed: past the bound, or when the store fails, the caller answers
// anyway and the event is counted as unrecorded. The submission is detached from the
// request, so a hit answered before its commit stays queued (the pipeline withdraws
// submissions whose context ends) and is still stored unless the queue gives up on it.
func (s *Server) trackEvent(r *http.Request, kind string, ev *mailtrail.Event) {
	done := make(chan error, 1)
	go func() {
		_, err := s.ingest.Submit(context.WithoutCancel(r.Context()), []*mailtrail.Event{ev})
		done <- err
	}()
	wait := time.NewTimer(s.opt.TrackingWait)
	defer wait.Stop()
	select {
	case err := <-done:
		if err != nil {
			s.m.trackUnrecorded.Inc(kind)
		}
	case <-wait.C:
		s.m.trackUnrecorded.Inc(kind)
	}
}

// withinBudget tells whether a hit of the token may be stored (Options.TrackingBudget);
// one past the budget is counted in mailtrail_tracking_over_budget_total.
func (s *Server) withinBudget(kind string, ref token.Ref, link int) bool {
	if s.budget.allow(ref, link) {
		return true
	}
	s.m.trackOverBudget.Inc(kind)
	return false
}

func (s *Server) trackingEvent(r *http.Request, typ mailtrail.EventType, ref token.Ref) *mailtrail.Event {
	ev := &mailtrail.Event{Type: typ, MessageID: ref.String(), Source: mailtrail.SourceTracking}
	ev.Metadata.UserAgent = truncate(r.UserAgent(), 512)
	ev.Metadata.IP = s.clientIP(r)
	ev.Metadata.Method = r.Method
	return ev
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// trackOpen always serves the pixel; a valid token also records an open. HEAD requests are
// answered alike and record nothing.
func (s *Server) trackOpen(w http.ResponseWriter, r *http.Request) {
	ref, _, err := s.signer.Verify(token.Open, r.PathValue("token"))
	if err != nil {
		s.m.trackInvalid.Inc("open")
	} else if r.Method == http.MethodGet && s.withinBudget("open", ref, -1) {
		s.trackEvent(r, "open", s.trackingEvent(r, mailtrail.EventOpened, ref))
	}
	s.servePixel(w, r)
}

func (s *Server) servePixel(w http.ResponseWriter, r *http.Request) {
	noCache(w.Header())
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Content-Length", "43")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(pixelGIF)
	}
}

// trackClick redirects to the URL recorded for the token's link when the message was
// instrumented, and records a click (not for HEAD). Anything invalid: 404 without Location.
func (s *Server) trackClick(w http.ResponseWriter, r *http.Request) {
	ref, link, err := s.signer.Verify(token.Click, r.PathValue("token"))
	if err != nil {
		s.notFound(w, r)
		return
	}
	if link == mailtrail.HoneypotLink {
		s.honeypot(w, r, ref)
		return
	}
	owner, target, err := s.store.ClickTarget(r.Context(), ref.String(), link)
	if err == nil {
		// On an organization's tracking domain, only its own links are followed: a domain
		// does not lend its reputation to another organization's destinations.
		var hostOrg string
		if hostOrg, err = s.store.TrackingHostOrg(r.Context(), r.Host); err == nil && hostOrg != "" && hostOrg != owner {
			s.notFound(w, r)
			return
		}
	}
	if err != nil {
		if mailtrail.ErrorCode(err) == mailtrail.ENOTFOUND {
			s.notFound(w, r)
			return
		}
		// The store cannot be read: there is no recorded URL to send the recipient to, and
		// no other may be used. A plain page asks them to try again; the hit is counted.
		// (A client that went away cancelled the lookup: nothing failed.)
		if r.Context().Err() == nil {
			s.log.ErrorContext(r.Context(), "click target lookup failed", "err", err.Error())
		}
		s.m.trackUnrecorded.Inc("click")
		w.Header().Set("Retry-After", "5")
		s.page(w, r, http.StatusServiceUnavailable, pageClickRetry)
		return
	}
	if u, perr := url.Parse(target); perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Only http(s) URLs are ever recorded; anything else is not followed.
		s.notFound(w, r)
		return
	}
	if r.Method == http.MethodGet && s.withinBudget("click", ref, link) {
		ev := s.trackingEvent(r, mailtrail.EventClicked, ref)
		ev.Metadata.LinkURL = target
		ev.Metadata.LinkIndex = &link
		s.trackEvent(r, "click", ev)
	}
	noCache(w.Header())
	w.Header().Set("Location", asciiURI(target))
	w.WriteHeader(http.StatusFound)
}

// asciiURI maps an IRI to a URI (RFC 3987 §3.1): every byte outside printable ASCII is
// percent-encoded, so a Location header carries no raw UTF-8. An internationalized host
// comes out percent-encoded too (RFC 3986 reg-name), which browsers resolve through IDNA.
func asciiURI(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

// honeypot answers a click on the hidden honeypot link: only scanners follow it. The click
// is recorded (the rules then mark the message's clicks around it as a bot's) and answered
// with an empty page: there is no destination to redirect to.
func (s *Server) honeypot(w http.ResponseWriter, r *http.Request, ref token.Ref) {
	if r.Method == http.MethodGet && s.withinBudget("click", ref, mailtrail.HoneypotLink) {
		ev := s.trackingEvent(r, mailtrail.EventClicked, ref)
		link := mailtrail.HoneypotLink
		ev.Metadata.LinkIndex = &link
		s.trackEvent(r, "click", ev)
	}
	s.page(w, r, http.StatusOK, pageHoneypot)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.page(w, r, http.StatusNotFound, pageBroken)
}

// unsubscribePage shows a confirmation page and changes nothing: scanners follow every
// GET, so only a POST unsubscribes.
// When the message named a topic the page offers to leave that topic (the default, as
// the one-click POST does) or every email.
func (s *Server) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	ref, _, err := s.signer.Verify(token.Unsubscribe, r.PathValue("token"))
	if err != nil {
		s.page(w, r, http.StatusNotFound, pageUnsubInvalid)
		return
	}
	key, topic, org := pageUnsubConfirm, "", ""
	if m, err := s.store.Message(r.Context(), "", ref.String()); err == nil {
		org = m.OrgID
		if m.Topic != "" {
			key, topic = pageUnsubTopic, m.Topic
		}
	}
	s.topicPage(w, r, http.StatusOK, key, topic, s.brandOf(r, org))
}

// unsubscribe records the unsubscribe (the page's button or an RFC 8058 one-click POST,
// form-encoded or multipart) and answers 200 once it is durable, never a redirect.
// Repeating it changes nothing more.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	ref, _, err := s.signer.Verify(token.Unsubscribe, r.PathValue("token"))
	if err != nil {
		s.page(w, r, http.StatusNotFound, pageUnsubInvalid)
		return
	}
	oneClick, all := oneClickBody(w, r)
	if !oneClick {
		s.page(w, r, http.StatusBadRequest, pageUnsubBad)
		return
	}
	// The message's topic scopes the unsubscribe, unless the page's "all emails" was chosen.
	topic, org := "", ""
	if !all {
		m, err := s.store.Message(r.Context(), "", ref.String())
		switch {
		case err == nil:
			topic, org = m.Topic, m.OrgID
		case mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND:
			w.Header().Set("Retry-After", "5")
			s.page(w, r, http.StatusServiceUnavailable, pageUnsubRetry)
			return
		}
	}
	ev := &mailtrail.Event{Type: mailtrail.EventUnsubscribed, MessageID: ref.String(), Source: mailtrail.SourceTracking,
		DedupeKey: ingest.OncePrefix + "unsubscribe:" + ref.String()}
	if topic != "" {
		ev.Metadata.Topic = topic
		ev.DedupeKey += ":topic" // leaving everything later is another event
	}
	if _, err := s.ingest.Submit(r.Context(), []*mailtrail.Event{ev}); err != nil {
		w.Header().Set("Retry-After", "5")
		s.page(w, r, http.StatusServiceUnavailable, pageUnsubRetry)
		return
	}
	if org == "" {
		if m, err := s.store.Message(r.Context(), "", ref.String()); err == nil {
			org = m.OrgID
		}
	}
	if topic != "" {
		s.topicPage(w, r, http.StatusOK, pageUnsubDoneTopic, topic, s.brandOf(r, org))
		return
	}
	s.topicPage(w, r, http.StatusOK, pageUnsubDone, "", s.brandOf(r, org))
}

// oneClickBody reports whether the body carries List-Unsubscribe=One-Click, form-encoded or
// multipart (RFC 8058 §3.2), reading at most 64 KiB, and whether the page's form asked to
// leave every email (scope=all, form-encoded; one-click clients never send it).
func oneClickBody(w http.ResponseWriter, r *http.Request) (oneClick, all bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return false, false
			}
			if p.FormName() == "List-Unsubscribe" {
				v, err := io.ReadAll(io.LimitReader(p, 64))
				return err == nil && strings.TrimSpace(string(v)) == "One-Click", false
			}
		}
	case "application/x-www-form-urlencoded", "":
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return false, false
		}
		v, err := url.ParseQuery(string(b))
		return err == nil && v.Get("List-Unsubscribe") == "One-Click", v.Get("scope") == "all"
	}
	return false, false
}
