package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/suppression"
)

// Imports started from the dashboard run in the background, so a closed tab or a slow
// network does not stop them, and their page shows the progress. They live in memory:
// a restart forgets the pages (the committed batches stay). With Options.Imports, each
// import's status is also written there at its start, after each batch and at its end,
// so that its page answers on every API node of the cluster mode; it runs on the node
// that took the upload.
const (
	importBatch   = 500       // rows per committed batch: progress moves even on small files
	maxImportJobs = 50        // jobs kept, running or finished
	maxOrgImports = 2         // imports running at once per organization
	importJobTTL  = time.Hour // how long a finished import's page stays
)

// The states of an import.
const (
	importRunning = "running"
	importDone    = "done"
	importFailed  = "failed"
)

var (
	errOrgImporting  = errors.New("dashboard: the organization's imports are running already")
	errImportsFull   = errors.New("dashboard: too many imports running")
	errImportsClosed = errors.New("dashboard: imports closed")
)

// importStatus is what the import page and its JSON show.
type importStatus struct {
	ID                       string `json:"id"`
	File                     string `json:"file"`
	State                    string `json:"state"`
	Percent                  int    `json:"percent"`
	BytesRead                int64  `json:"bytes_read"`
	Size                     int64  `json:"size"`
	suppression.ImportResult        // the counts after the last committed batch, the rejected rows
	Error                    string `json:"error,omitempty"` // why a failed import stopped
}

// importJob is one import. The registry's mutex guards every field but read.
type importJob struct {
	id, orgID, file string
	size            int64
	read            atomic.Int64 // bytes of the file read so far
	state           string
	res             suppression.ImportResult
	err             string
	finished        time.Time
	cancel          context.CancelFunc // ends the import's context; nil before run
}

// ImportStore keeps the status of the dashboard's imports where every process serving the
// dashboard finds it (the cluster's PostgreSQL).
type ImportStore interface {
	// PutImport stores or replaces the status (JSON) of import id of orgID, kept until
	// expires; it may remove the statuses expired before now.
	PutImport(ctx context.Context, id, orgID string, status []byte, expires, now time.Time) error
	// GetImport returns the status of import id of orgID; ENOTFOUND when there is none
	// (another organization's, or expired).
	GetImport(ctx context.Context, id, orgID string) ([]byte, error)
}

// importJobs holds the imports of every organization, bounded in number and age.
type importJobs struct {
	mu     sync.Mutex
	m      map[string]*importJob // by random id
	now    func() time.Time
	wg     sync.WaitGroup // running imports
	closed bool
	store  ImportStore  // nil: the statuses live in m only
	log    *slog.Logger // a status store's failures
}

func newImportJobs(now func() time.Time, store ImportStore, log *slog.Logger) *importJobs {
	return &importJobs{m: map[string]*importJob{}, now: now, store: store, log: log}
}

// save writes j's status to the store (when there is one); a failure is logged, the
// import goes on.
func (js *importJobs) save(j *importJob) {
	if js.store == nil {
		return
	}
	js.mu.Lock()
	s := js.status(j)
	expires := js.now().Add(importJobTTL)
	if !j.finished.IsZero() {
		expires = j.finished.Add(importJobTTL)
	}
	js.mu.Unlock()
	b, _ := json.Marshal(s)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := js.store.PutImport(ctx, j.id, j.orgID, b, expires, js.now()); err != nil {
		js.log.Warn("dashboard import: status not stored; other nodes do not see its progress", slog.String("err", err.Error()))
	}
}

// add registers a running import of orgID with a random id. Finished imports older than
// importJobTTL are swept; when maxImportJobs are kept the oldest finished one makes room.
// It returns errOrgImporting when orgID has maxOrgImports running, errImportsFull when
// every kept import is running, errImportsClosed after close.
func (js *importJobs) add(orgID, file string, size int64) (*importJob, error) {
	now := js.now()
	js.mu.Lock()
	defer js.mu.Unlock()
	if js.closed {
		return nil, errImportsClosed
	}
	running := 0
	var oldest *importJob
	for id, j := range js.m {
		switch {
		case j.state == importRunning:
			if j.orgID == orgID {
				running++
			}
		case now.Sub(j.finished) > importJobTTL:
			delete(js.m, id)
		case oldest == nil || j.finished.Before(oldest.finished):
			oldest = j
		}
	}
	if running >= maxOrgImports {
		return nil, errOrgImporting
	}
	if len(js.m) >= maxImportJobs {
		if oldest == nil {
			return nil, errImportsFull
		}
		delete(js.m, oldest.id)
	}
	j := &importJob{id: randomToken(), orgID: orgID, file: file, size: size, state: importRunning,
		res: suppression.ImportResult{Errors: []suppression.RowError{}}}
	js.m[j.id] = j
	return j, nil
}

// started records a new import's status in the store.
func (js *importJobs) started(j *importJob) { js.save(j) }

// drop forgets an import that could not start.
func (js *importJobs) drop(j *importJob) {
	js.mu.Lock()
	defer js.mu.Unlock()
	delete(js.m, j.id)
}

// run calls fn on its own goroutine with a context detached from ctx (the request's) that
// only close ends. After close, fn runs at once with an ended context.
func (js *importJobs) run(ctx context.Context, j *importJob, fn func(context.Context)) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	js.mu.Lock()
	if js.closed {
		js.mu.Unlock()
		cancel()
		fn(ctx)
		return
	}
	j.cancel = cancel
	js.wg.Add(1)
	js.mu.Unlock()
	go func() {
		defer js.wg.Done()
		defer cancel()
		fn(ctx)
	}()
}

// progress records the counts after a committed batch.
func (js *importJobs) progress(j *importJob, res suppression.ImportResult) {
	res.Errors = append([]suppression.RowError{}, res.Errors...) // Import appends to its own
	js.mu.Lock()
	j.res = res
	js.mu.Unlock()
	js.save(j)
}

// finish records the outcome: done when msg is empty, else failed with msg.
func (js *importJobs) finish(j *importJob, res suppression.ImportResult, msg string) {
	js.mu.Lock()
	j.res, j.err, j.finished = res, msg, js.now()
	j.state = importDone
	if msg != "" {
		j.state = importFailed
	}
	js.mu.Unlock()
	js.save(j)
}

// get returns the status of the import id of orgID; false when there is none (another
// organization's, or finished more than importJobTTL ago). An import this process does
// not run is looked up in the store, as its node last wrote it.
func (js *importJobs) get(ctx context.Context, id, orgID string) (importStatus, bool, error) {
	js.mu.Lock()
	j, ok := js.m[id]
	if ok && j.orgID == orgID && (j.state == importRunning || js.now().Sub(j.finished) <= importJobTTL) {
		s := js.status(j)
		js.mu.Unlock()
		return s, true, nil
	}
	js.mu.Unlock()
	if ok || js.store == nil {
		return importStatus{}, false, nil
	}
	b, err := js.store.GetImport(ctx, id, orgID)
	if mailtrail.ErrorCode(err) == mailtrail.ENOTFOUND {
		return importStatus{}, false, nil
	}
	if err != nil {
		return importStatus{}, false, err
	}
	var s importStatus
	if err := json.Unmarshal(b, &s); err != nil {
		return importStatus{}, false, fmt.Errorf("dashboard: import status: %w", err)
	}
	return s, true, nil
}

// status is j's status now. Called with mu held.
func (js *importJobs) status(j *importJob) importStatus {
	s := importStatus{ID: j.id, File: j.file, State: j.state, BytesRead: j.read.Load(), Size: j.size, ImportResult: j.res, Error: j.err}
	switch {
	case s.State == importDone:
		s.Percent = 100
	case s.Size > 0:
		s.Percent = int(min(s.BytesRead*100/s.Size, 99)) // the last batch is not committed yet
	}
	return s
}

// close ends the running imports' contexts and waits for them to return; later imports
// are refused.
func (js *importJobs) close() {
	js.mu.Lock()
	js.closed = true
	for _, j := range js.m {
		if j.cancel != nil {
			j.cancel()
		}
	}
	js.mu.Unlock()
	js.wg.Wait()
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
