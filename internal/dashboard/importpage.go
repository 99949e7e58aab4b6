package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/suppression"
)

// importSuppressions saves the uploaded CSV to a temporary file, starts its import in the
// background and sends the browser to the import's page (303).
func (h *Handler) importSuppressions(w http.ResponseWriter, r *http.Request) {
	st, rq := h.supStore(w, r)
	if st == nil {
		return
	}
	if r.MultipartForm == nil {
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				h.errorPage(w, r, rq, http.StatusRequestEntityTooLarge, "The file is over 32 MB: split it, or import it with the API.")
				return
			}
			h.errorPage(w, r, rq, http.StatusBadRequest, "Choose a CSV file to import.")
			return
		}
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		h.errorPage(w, r, rq, http.StatusBadRequest, "Choose a CSV file to import.")
		return
	}
	defer f.Close()
	j, err := h.imports.add(rq.org.ID, shorten(hdr.Filename, 200), hdr.Size)
	switch {
	case errors.Is(err, errOrgImporting):
		h.errorPage(w, r, rq, http.StatusTooManyRequests, "An import is already running for this organization (at most 2 run at a time). Wait for one to finish, then try again.")
		return
	case errors.Is(err, errImportsFull):
		h.errorPage(w, r, rq, http.StatusTooManyRequests, "Too many imports are running on this service. Try again in a few minutes.")
		return
	case errors.Is(err, errImportsClosed):
		h.errorPage(w, r, rq, http.StatusServiceUnavailable, "The service is restarting. Try again in a minute.")
		return
	}
	tmp, err := h.saveUpload(f)
	if err != nil {
		h.imports.drop(j)
		h.fail(w, r, rq, err)
		return
	}
	h.imports.started(j)
	h.imports.run(r.Context(), j, func(ctx context.Context) { h.runImport(ctx, j, st, tmp) })
	http.Redirect(w, r, importPath+"/"+j.id, http.StatusSeeOther)
}

// saveUpload copies an upload to a temporary file of its own (the request's are removed
// when it ends), positioned at its start. The file's name is removed at once where the
// system allows it, so that even a crash leaves nothing behind; runImport removes it too.
func (h *Handler) saveUpload(f multipart.File) (*os.File, error) {
	tmp, err := os.CreateTemp(h.opt.TempDir, "mailtrail-import-*.csv")
	if err != nil {
		return nil, err
	}
	_ = os.Remove(tmp.Name()) // fails on Windows while open: runImport removes it then
	if _, err := io.Copy(tmp, f); err != nil {
		closeTemp(tmp)
		return nil, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		closeTemp(tmp)
		return nil, err
	}
	return tmp, nil
}

func closeTemp(f *os.File) {
	_ = f.Close()
	_ = os.Remove(f.Name())
}

// runImport imports the file of j in batches, recording progress and the outcome, and
// removes the file.
func (h *Handler) runImport(ctx context.Context, j *importJob, st Suppressions, f *os.File) {
	defer closeTemp(f)
	opt := suppression.ImportOptions{BatchSize: importBatch,
		Progress: func(res suppression.ImportResult) { h.imports.progress(j, res) }}
	res, err := st.Import(ctx, countingReader{r: f, n: &j.read}, j.orgID, actor, opt)
	var e *mailtrail.Error
	switch {
	case err == nil:
		h.imports.finish(j, res, "")
	case errors.As(err, &e) && e.Code == mailtrail.EINVALID:
		h.imports.finish(j, res, e.Message)
	case errors.Is(err, context.Canceled):
		h.imports.finish(j, res, "The service restarted during the import. The rows counted here are stored; "+
			"import the file again to add the rest (the addresses already added count as already suppressed).")
	default:
		h.log.Error("dashboard import failed", slog.String("org", j.orgID), slog.Int("rows", res.Rows), slog.String("err", err.Error()))
		h.imports.finish(j, res, "The import stopped because of an error on our side. The rows counted here are stored; "+
			"import the file again to add the rest (the addresses already added count as already suppressed).")
	}
}

// importPage shows an import of the session's organization: GET …/import/{job} the page,
// …/import/{job}.json its status for the page's script. Other organizations' imports, and
// imports finished over an hour ago, are 404.
func (h *Handler) importPage(w http.ResponseWriter, r *http.Request) {
	rq := from(r)
	id, asJSON := strings.CutSuffix(r.PathValue("job"), ".json")
	s, ok, err := h.imports.get(r.Context(), id, rq.org.ID)
	if err != nil {
		h.log.ErrorContext(r.Context(), "dashboard import status unavailable", slog.String("err", err.Error()))
		w.Header().Set("Retry-After", "1")
		h.errorPage(w, r, rq, http.StatusServiceUnavailable, "The import's status cannot be read right now. Try again in a moment.")
		return
	}
	if asJSON {
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":"not_found"}`)
			return
		}
		_ = json.NewEncoder(w).Encode(s)
		return
	}
	if !ok {
		h.errorPage(w, r, rq, http.StatusNotFound, "There is no such import: an import's page is kept for an hour after it ends.")
		return
	}
	p := h.page(rq, "Import suppressions", "suppressions", s)
	p.Refresh = s.State == importRunning
	h.render(w, r, http.StatusOK, "import", p)
}

// shorten cuts s to at most n bytes of whole characters.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
