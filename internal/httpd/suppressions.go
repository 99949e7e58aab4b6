package httpd

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/rules"
	"github.com/mailtrail/mailtrail/internal/suppression"
)

// SuppressionStore is what the suppression and settings handlers need of the store: the
// suppressions use case's (suppression.Service) and the rest.
type SuppressionStore interface {
	suppression.Store
	Resubscribe(ctx context.Context, orgID string, rs []mailtrail.Resubscribe, actor string) (lifted int, err error)
	OrgSettings(ctx context.Context, orgID string) (*mailtrail.OrgSettings, error)
	UpdateOrgSettings(ctx context.Context, orgID string, s mailtrail.OrgSettings) error
	// TrackingHostOrg returns the organization whose tracking domain is host, or "".
	TrackingHostOrg(ctx context.Context, host string) (string, error)
	APIKeyID(ctx context.Context, secret string) (string, error)
}

// maxImportBody bounds the bytes of one CSV import (the other limits are the
// suppressions use case's: suppression.MaxAdd, MaxCheck, MaxCheckTopics).
const maxImportBody = 4 << 30

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
	page, err := s.sups.List(r.Context(), principalFrom(r.Context()).orgID(), f)
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
	actor, err := s.actor(r)
	if err != nil {
		return err
	}
	res, err := s.sups.Add(r.Context(), principalFrom(r.Context()).orgID(), req.Suppressions, mailtrail.SuppressSourceAPI, actor)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) removeSuppression(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	actor, err := s.actor(r)
	if err != nil {
		return err
	}
	sup, err := s.sups.Remove(r.Context(), principalFrom(r.Context()).orgID(), r.PathValue("email"), q.Get("topic"), actor, q.Get("reason"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"removed": sup})
	return nil
}

func (s *Server) suppressionHistory(w http.ResponseWriter, r *http.Request) error {
	email, hist, cur, err := s.sups.History(r.Context(), principalFrom(r.Context()).orgID(), r.PathValue("email"))
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

func (s *Server) checkSuppressions(w http.ResponseWriter, r *http.Request) error {
	var req checkRequest
	if err := decodeJSON(w, r, s.opt.MaxBody, &req); err != nil {
		return err
	}
	out, err := s.sups.Check(r.Context(), principalFrom(r.Context()).orgID(), req.Emails, req.Topics)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"checked": len(req.Emails), "suppressed": out})
	return nil
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
	res, err := s.sups.Import(r.Context(), body, principalFrom(r.Context()).orgID(), actor, suppression.ImportOptions{
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
	err = s.sups.Export(r.Context(), principalFrom(r.Context()).orgID(), f, func() io.Writer {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="suppressions.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		return w
	}, func() { extendDeadlines(w) })
	if errors.Is(err, suppression.ErrExportCut) {
		// Headers are gone: cut the body short so the client sees a broken transfer.
		s.log.ErrorContext(r.Context(), "suppression export failed", "err", err.Error())
		panic(http.ErrAbortHandler)
	}
	return err
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
	if req.RetentionDays != nil && s.opt.Segments != nil {
		// Segment answers follow the new retention at once here (other nodes within
		// segment.HorizonInterval); if the read fails they follow it then.
		if err := s.opt.Segments.RefreshHorizons(r.Context()); err != nil {
			s.log.Warn("segment index: retention of the organizations not read again", "err", err.Error())
		}
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}
