package dashboard

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/suppression"
)

// At most maxOrgImports run per organization; a finished one frees its slot; an import is
// only shown to its organization, and a finished one for importJobTTL.
func TestImportJobsPerOrg(t *testing.T) {
	now := time.Unix(1e9, 0)
	js := newImportJobs(func() time.Time { return now }, nil, nil)
	a1, err1 := js.add("org_a", "1.csv", 10)
	a2, err2 := js.add("org_a", "2.csv", 10)
	if err1 != nil || err2 != nil || a1.id == a2.id || len(a1.id) < 40 {
		t.Fatalf("add: %v %v %q %q", err1, err2, a1.id, a2.id)
	}
	if _, err := js.add("org_a", "3.csv", 10); !errors.Is(err, errOrgImporting) {
		t.Fatalf("third running import of org_a: %v", err)
	}
	if _, err := js.add("org_b", "1.csv", 10); err != nil {
		t.Fatalf("org_b is limited by org_a's imports: %v", err)
	}
	js.finish(a1, suppression.ImportResult{Rows: 3, Added: 3}, "")
	a3, err := js.add("org_a", "3.csv", 10)
	if err != nil {
		t.Fatalf("a finished import still counts as running: %v", err)
	}
	if _, ok := get(js, a3.id, "org_b"); ok {
		t.Error("org_b sees org_a's import")
	}
	if _, ok := get(js, "nope", "org_a"); ok {
		t.Error("an unknown id is found")
	}
	if s, ok := get(js, a1.id, "org_a"); !ok || s.State != importDone || s.Percent != 100 || s.Added != 3 || s.File != "1.csv" {
		t.Errorf("finished import: %v %+v", ok, s)
	}
	now = now.Add(importJobTTL + time.Second)
	if _, ok := get(js, a1.id, "org_a"); ok {
		t.Error("a finished import is shown after its hour")
	}
	if s, ok := get(js, a2.id, "org_a"); !ok || s.State != importRunning {
		t.Errorf("a running import expired: %v %+v", ok, s)
	}
	js.finish(a2, suppression.ImportResult{}, "it broke")
	if s, _ := get(js, a2.id, "org_a"); s.State != importFailed || s.Error != "it broke" {
		t.Errorf("failed import: %+v", s)
	}
}

// No more than maxImportJobs are kept: the oldest finished one makes room, and when all
// of them run a new one is refused.
func TestImportJobsBound(t *testing.T) {
	now := time.Unix(1e9, 0)
	js := newImportJobs(func() time.Time { return now }, nil, nil)
	var jobs []*importJob
	for i := range maxImportJobs {
		j, err := js.add(string(rune('A'+i/2)), "f.csv", 1)
		if err != nil {
			t.Fatalf("job %d: %v", i, err)
		}
		jobs = append(jobs, j)
	}
	if _, err := js.add("other", "f.csv", 1); !errors.Is(err, errImportsFull) {
		t.Fatalf("51st import while 50 run: %v", err)
	}
	js.finish(jobs[7], suppression.ImportResult{}, "")
	now = now.Add(time.Minute)
	js.finish(jobs[3], suppression.ImportResult{}, "")
	if _, err := js.add("other", "f.csv", 1); err != nil {
		t.Fatalf("no room made: %v", err)
	}
	if _, ok := get(js, jobs[7].id, jobs[7].orgID); ok {
		t.Error("the oldest finished import was kept")
	}
	if _, ok := get(js, jobs[3].id, jobs[3].orgID); !ok {
		t.Error("a newer finished import was dropped")
	}
	if len(js.m) != maxImportJobs {
		t.Errorf("%d jobs kept", len(js.m))
	}
}

// The percentage follows the bytes read, stays under 100 until the import is done.
func TestImportPercent(t *testing.T) {
	js := newImportJobs(time.Now, nil, nil)
	j, _ := js.add("org_a", "f.csv", 1000)
	for read, want := range map[int64]int{0: 0, 250: 25, 999: 99, 1000: 99} {
		j.read.Store(read)
		if s, _ := get(js, j.id, "org_a"); s.Percent != want || s.BytesRead != read || s.Size != 1000 {
			t.Errorf("read %d: %+v", read, s)
		}
	}
	js.finish(j, suppression.ImportResult{}, "")
	if s, _ := get(js, j.id, "org_a"); s.Percent != 100 {
		t.Errorf("done: %d%%", s.Percent)
	}
}

// close ends the running imports' contexts, waits for them, and refuses new ones.
func TestImportJobsClose(t *testing.T) {
	js := newImportJobs(time.Now, nil, nil)
	j, _ := js.add("org_a", "f.csv", 1)
	ended := false
	js.run(context.Background(), j, func(ctx context.Context) {
		<-ctx.Done()
		ended = true // read after close: close waits for run's goroutine
	})
	js.close()
	if !ended {
		t.Error("close returned before the import")
	}
	if _, err := js.add("org_a", "f.csv", 1); !errors.Is(err, errImportsClosed) {
		t.Errorf("add after close: %v", err)
	}
}

// get is importJobs.get of an in-memory registry.
func get(js *importJobs, id, orgID string) (importStatus, bool) {
	s, ok, _ := js.get(context.Background(), id, orgID)
	return s, ok
}
