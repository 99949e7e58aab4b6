package httpd

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/rules"
	"github.com/mailtrail/mailtrail/internal/suppression"
)

// SuppressionStore is what the suppression and settings handlers need of the store.
type SuppressionStore interface {
	Suppressions(ctx context.Context, orgID string, f mailtrail.SuppressionFilter) (*mailtrail.SuppressionPage, error)
	AddSuppressions(ctx context.Context, orgID string, in []mailtrail.SuppressionInput, source, actor string) (mailtrail.AddResult, error)
	RemoveSuppression(ctx context.Context, orgID, email, actor, why string) (*mailtrail.Suppression, error)
	SuppressionHistory(ctx context.Context, orgID, email string) ([]mailtrail.SuppressionChange, *mailtrail.Suppression, error)
	CheckSuppressions(ctx context.Context, orgID string, emails []string) (map[string]mailtrail.Suppression, error)
	CheckTopicSuppressions(ctx context.Context, orgID string, emails, topics []string) (map[string][]mailtrail.Suppression, error)
	RemoveTopicSuppression(ctx context.Context, orgID, email, topic, actor, why string) (*mailtrail.Suppression, error)
	Resubscribe(ctx context.Context, orgID string, rs []mailtrail.Resubscribe, actor string) (lifted int, err error)
	OrgSettings(ctx context.Context, orgID string) (*mailtrail.OrgSettings, error)
	UpdateOrgSettings(ctx context.Context, orgID string, s mailtrail.OrgSettings) error
	// TrackingHostOrg returns the organization whose tracking domain is host, or "".
	TrackingHostOrg(ctx context.Context, host string) (string, error)
	APIKeyID(ctx context.Context, secret string) (string, error)
}

// Limits of the suppression API.
const (
	MaxSuppressionAdd   = 10000   // addresses per POST /api/v1/suppressions
	MaxSuppressionCheck = 10000   // addresses per POST /api/v1/suppressions/check
	maxImportBody       = 4 << 30 // bytes of one CSV import
)

// actor names the API key of the request's principal for audit entries.
func (s *Server) actor(r *http.Request) (string, error) {
	id, err := s.store.APIKeyID(r.Context(), principalFrom(r.Context()).secret)
	if err != nil {
		return "", err
	}
	return "key:" + id, nil
}

// suppressionFilter reads the list and export filters from the query string.
func suppressionFilter(r *http.Request) (mailtrail.SuppressionFilter, error) {
	q := r.URL.Query()
	f := mailtrail.SuppressionFilter{Reason: q.Get("reason"), Source: q.Get("source"), Query: q.Get("q"), Cursor: q.Get("cursor")}
	if f.Reason != "" && rules.Rank(f.Reason) == 0 {
		return f, mailtrail.Errorf(mailtrail.EINVALID, "reason must be one of hard_bounce, soft_bounce, complaint, unsubscribed, manual, list_import")
	}
	switch f.Source {
	case "", mailtrail.SuppressSourceWebhook, mailtrail.SuppressSourceTrackingLink, mailtrail.SuppressSourceManual,
		mailtrail.SuppressSourceCSV, mailtrail.SuppressSourceAPI:
	default:
		return f, mailtrail.Errorf(mailtrail.EINVALID, "source must be one of webhook, tracking_link, manual, csv_import, api")
	}
	if err := timeRange(q, &f.Since, &f.Until); err != nil {
		return f, err
	}
	var err error
	if f.Limit, err = pageLimit(q); err != nil {
		return f, err
	}
	return f, nil
}

func (s *Server) listSuppressions(w http.ResponseWriter, r *http.Request) error {
	f, err := suppressionFilter(r)
	if err != nil {
		return err
	}
	page, err := s.store.Suppressions(r.Context(), principalFrom(r.Context()).orgID(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// addSuppressionsRequest is {"suppressions": [...]} or, with its fields at the top
// level, one address.
type addSuppressionsRequest struct {
	Suppressions []mailtrail.SuppressionInput `json:"suppressions"`
	mailtrail.SuppressionInput
}

func (s *Server) addSuppressions(w http.ResponseWriter, r *http.Request) error {
	var req addSuppressionsRequest
	if err := decodeJSON(w, r, s.opt.MaxBody, &req); err != nil {
		return err
	}
	if req.Suppressions == nil && req.Email != "" {
		req.Suppressions = []mailtrail.SuppressionInput{req.SuppressionInput}
	}
	if len(req.Suppressions) == 0 || len(req.Suppressions) > MaxSuppressionAdd {
		return mailtrail.Errorf(mailtrail.EINVALID, "suppressions must hold 1 to %d entries", MaxSuppressionAdd)
	}
	var details []mailtrail.ItemError
	for i := range req.Suppressions {
		if err := suppression.Validate(&req.Suppressions[i], mailtrail.ReasonManual); err != nil {
			d := mailtrail.ItemError{Index: i, Code: mailtrail.EINVALID, Message: err.Error()}
			if fe, ok := err.(*suppression.FieldError); ok {
				d.Field = fe.Field
			}
			details = append(details, d)
		}
	}
	if len(details) > 0 {
		return &mailtrail.Error{Code: mailtrail.EINVALID, Details: details,
			Message: fmt.Sprintf("%d of %d entries are invalid; nothing was stored", len(details), len(req.Suppressions))}
	}
	actor, err := s.actor(r)
	if err != nil {
		return err
	}
	res, err := s.store.AddSuppressions(r.Context(), principalFrom(r.Context()).orgID(), req.Suppressions, mailtrail.SuppressSourceAPI, actor)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) removeSuppression(w http.ResponseWriter, r *http.Request) error {
	why := strings.TrimSpace(r.URL.Query().Get("reason"))
	if why == "" || len(why) > 1000 {
		return mailtrail.Errorf(mailtrail.EINVALID, "reason is required (why the address may be mailed again, at most 1000 characters)")
	}
	actor, err := s.actor(r)
	if err != nil {
		return err
	}
	org := principalFrom(r.Context()).orgID()
	var sup *mailtrail.Suppression
	if topic := strings.TrimSpace(r.URL.Query().Get("topic")); topic != "" {
		sup, err = s.store.RemoveTopicSuppression(r.Context(), org, r.PathValue("email"), topic, actor, why)
	} else {
		sup, err = s.store.RemoveSuppression(r.Context(), org, r.PathValue("email"), actor, why)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"removed": sup})
	return nil
}

func (s *Server) suppressionHistory(w http.ResponseWriter, r *http.Request) error {
	email := mailtrail.NormalizeEmail(r.PathValue("email"))
	hist, cur, err := s.store.SuppressionHistory(r.Context(), principalFrom(r.Context()).orgID(), email)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"email": email, "suppression": cur, "history": hist})
	return nil
}

type checkRequest struct {
	Emails []string `json:"emails"`
	Topics []string `json:"topics"`
}

// MaxCheckTopics bounds the topics of one check.
const MaxCheckTopics = 100

// checkResult is one suppressed address of a check, as the client sent it. With topics
// in the request, Topics lists those the address must not be mailed for: all of them
// when it is suppressed organization-wide (the suppression shown then), else the ones it
// unsubscribed from (the first one's suppression shown).
type checkResult struct {
	Email string `json:"email"`
	mailtrail.Suppression
	Topics []string `json:"topics,omitempty"`
}

func (s *Server) checkSuppressions(w http.ResponseWriter, r *http.Request) error {
	var req checkRequest
	if err := decodeJSON(w, r, s.opt.MaxBody, &req); err != nil {
		return err
	}
	if len(req.Emails) == 0 || len(req.Emails) > MaxSuppressionCheck {
		return mailtrail.Errorf(mailtrail.EINVALID, "emails must hold 1 to %d addresses", MaxSuppressionCheck)
	}
	if len(req.Topics) > MaxCheckTopics {
		return mailtrail.Errorf(mailtrail.EINVALID, "topics must hold at most %d names", MaxCheckTopics)
	}
	for i, t := range req.Topics {
		if req.Topics[i] = strings.TrimSpace(t); req.Topics[i] == "" || len(req.Topics[i]) > 200 {
			return mailtrail.Errorf(mailtrail.EINVALID, "topics must be names of 1 to 200 characters")
		}
	}
	org := principalFrom(r.Context()).orgID()
	found, err := s.store.CheckSuppressions(r.Context(), org, req.Emails)
	if err != nil {
		return err
	}
	var scoped map[string][]mailtrail.Suppression
	if len(req.Topics) > 0 {
		if scoped, err = s.store.CheckTopicSuppressions(r.Context(), org, req.Emails, req.Topics); err != nil {
			return err
		}
	}
	out := make([]checkResult, 0, len(found))
	for _, e := range req.Emails {
		key := mailtrail.NormalizeEmail(e)
		if sup, ok := found[key]; ok {
			out = append(out, checkResult{Email: e, Suppression: sup, Topics: req.Topics})
			continue
		}
		if res, ok := topicResult(e, req.Topics, scoped[key]); ok {
			out = append(out, res)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"checked": len(req.Emails), "suppressed": out})
	return nil
}

// topicResult is the check's answer for an address with scoped suppressions only: the
// requested topics it unsubscribed from, in the request's order, and the first one's
// suppression.
func topicResult(email string, topics []string, sups []mailtrail.Suppression) (checkResult, bool) {
	res := checkResult{Email: email}
	for _, t := range topics {
		for _, s := range sups {
			if s.Topic == t && !slices.Contains(res.Topics, t) {
				if len(res.Topics) == 0 {
					res.Suppression = s
				}
				res.Topics = append(res.Topics, t)
			}
		}
	}
	return res, len(res.Topics) > 0
}

// extendDeadlines keeps a long import or export alive past the server's timeouts.
func extendDeadlines(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(time.Minute))
	_ = rc.SetWriteDeadline(time.Now().Add(2 * time.Minute))
}

func (s *Server) importSuppressions(w http.ResponseWriter, r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "text/csv" {
			return mailtrail.Errorf(mailtrail.EINVALID, "send the file as Content-Type: text/csv")
		}
	}
	actor, err := s.actor(r)
	if err != nil {
		return err
	}
	extendDeadlines(w)
	body := http.MaxBytesReader(w, r.Body, maxImportBody)
	res, err := suppression.Import(r.Context(), body, s.store, principalFrom(r.Context()).orgID(), actor, suppression.ImportOptions{
		Progress: func(suppression.ImportResult) { extendDeadlines(w) },
	})
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = mailtrail.Errorf(mailtrail.ETOOLARGE, "CSV over %d bytes; %d rows were stored, split the file", int64(maxImportBody), res.Added+res.Existing)
		}
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// exportColumns are the columns of the CSV export.
var exportColumns = []string{"email", "reason", "source", "customer_id", "event_id", "detail", "note", "suppressed_at", "created_at", "email_hash", "topic"}

// ServeSuppressionExport serves the CSV export of org's suppressions exactly as GET
// /api/v1/suppressions/export does (same filters): the dashboard authenticates by its
// session, then answers through this.
func (s *Server) ServeSuppressionExport(w http.ResponseWriter, r *http.Request, org *mailtrail.Organization) {
	s.handle(s.exportSuppressions)(w, asPrincipal(r, org))
}

func (s *Server) exportSuppressions(w http.ResponseWriter, r *http.Request) error {
	f, err := suppressionFilter(r)
	if err != nil {
		return err
	}
	org := principalFrom(r.Context()).orgID()
	f.Limit = 10000
	// The first page before any byte is written: its errors are still JSON answers.
	page, err := s.store.Suppressions(r.Context(), org, f)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="suppressions.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	_ = cw.Write(exportColumns)
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	for {
		extendDeadlines(w)
		for _, x := range page.Suppressions {
			_ = cw.Write([]string{x.Email, x.Reason, x.Source, x.CustomerID, x.EventID, x.Detail, x.Note, ts(x.SuppressedAt), ts(x.CreatedAt), x.EmailHash, x.Topic})
		}
		cw.Flush()
		if page.NextCursor == "" || cw.Error() != nil {
			return nil
		}
		f.Cursor = page.NextCursor
		if page, err = s.store.Suppressions(r.Context(), org, f); err != nil {
			// Headers are gone: cut the body short so the client sees a broken transfer.
			s.log.ErrorContext(r.Context(), "suppression export failed", "err", err.Error())
			panic(http.ErrAbortHandler)
		}
	}
}

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) error {
	st, err := s.store.OrgSettings(r.Context(), principalFrom(r.Context()).orgID())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// settingsPatch holds the settings a PATCH changes; absent fields keep their value.
type settingsPatch struct {
	SoftBounceLimit *int    `json:"soft_bounce_limit"`
	KeepFullIP      *bool   `json:"keep_full_ip"`
	RetentionDays   *int    `json:"retention_days"`
	TrackingURL     *string `json:"tracking_url"`
	BrandLogoURL    *string `json:"brand_logo_url"`
	BrandColor      *string `json:"brand_color"`
}

var brandColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// brandLogo validates a brand_logo_url: empty (none), or an absolute https URL of at most
// 2 KiB with a host, no credentials and no spaces or control characters.
func brandLogo(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(v) > 2048 ||
		strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '"' || r == '\'' || r == '<' || r == '>' }) {
		return "", mailtrail.Errorf(mailtrail.EINVALID, "brand_logo_url must be an https:// URL of at most 2048 bytes, or empty")
	}
	return v, nil
}

// trackingBase validates a tracking_url and returns it as scheme://host[:port] in lower
// case ("" stays "": the service's public URL).
func trackingBase(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	bad := mailtrail.Errorf(mailtrail.EINVALID, "tracking_url must be http(s)://host[:port] with no path, query or credentials, e.g. https://click.brand.example")
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" ||
		u.Fragment != "" || (u.Path != "" && u.Path != "/") || len(v) > 300 {
		return "", bad
	}
	if h := u.Hostname(); h == "" || strings.ContainsAny(h, "%_ ") {
		return "", bad
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

func (s *Server) patchSettings(w http.ResponseWriter, r *http.Request) error {
	var req settingsPatch
	if err := decodeJSON(w, r, 64<<10, &req); err != nil {
		return err
	}
	org := principalFrom(r.Context()).orgID()
	st, err := s.store.OrgSettings(r.Context(), org)
	if err != nil {
		return err
	}
	if req.SoftBounceLimit != nil {
		if n := *req.SoftBounceLimit; n < 1 || n > rules.MaxSoftBounceLimit {
			return mailtrail.Errorf(mailtrail.EINVALID, "soft_bounce_limit must be 1 to %d", rules.MaxSoftBounceLimit)
		}
		st.SoftBounceLimit = *req.SoftBounceLimit
	}
	if req.KeepFullIP != nil {
		st.KeepFullIP = *req.KeepFullIP
	}
	if req.RetentionDays != nil {
		if n := *req.RetentionDays; n != 0 && (n < mailtrail.MinRetentionDays || n > 36500) {
			return mailtrail.Errorf(mailtrail.EINVALID, "retention_days must be 0 (keep forever) or %d to 36500", mailtrail.MinRetentionDays)
		}
		st.RetentionDays = *req.RetentionDays
	}
	if req.TrackingURL != nil {
		v, err := trackingBase(*req.TrackingURL)
		if err != nil {
			return err
		}
		st.TrackingURL = v
	}
	if req.BrandLogoURL != nil {
		v, err := brandLogo(*req.BrandLogoURL)
		if err != nil {
			return err
		}
		st.BrandLogoURL = v
	}
	if req.BrandColor != nil {
		v := strings.ToLower(strings.TrimSpace(*req.BrandColor))
		if v != "" && !brandColor.MatchString(v) {
			return mailtrail.Errorf(mailtrail.EINVALID, "brand_color must be #rrggbb (six hex digits), or empty")
		}
		st.BrandColor = v
	}
	if err := s.store.UpdateOrgSettings(r.Context(), org, *st); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}
