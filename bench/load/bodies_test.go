package load

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestBatchBodies(t *testing.T) {
	bodies := NewEventBodies(50, 3, "run1")
	a, b := bodies.Stream(), bodies.Stream()
	seen := map[string]bool{}
	types := map[string]int{}
	for i := range 7 { // more bodies than templates: keys must still be new
		body := a()
		if !bytes.Equal(body, b()) {
			t.Fatalf("body %d differs between two streams", i)
		}
		var batch struct {
			Events []IngestEvent `json:"events"`
		}
		if err := json.Unmarshal(body, &batch); err != nil {
			t.Fatalf("body %d: %v", i, err)
		}
		if len(batch.Events) != 50 {
			t.Fatalf("body %d has %d events, want 50", i, len(batch.Events))
		}
		for _, e := range batch.Events {
			if seen[e.IdempotencyKey] {
				t.Fatalf("key %q repeated", e.IdempotencyKey)
			}
			seen[e.IdempotencyKey] = true
			types[e.EventType]++
			if e.EventType == "clicked" && e.Metadata["link_url"] == "" {
				t.Errorf("clicked event without link_url: %+v", e)
			}
		}
	}
	if types["sent"] == 0 || types["delivered"] == 0 || types["opened"] == 0 {
		t.Errorf("event mix %v lacks a main type", types)
	}
}
