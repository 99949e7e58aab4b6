package realtime

import "testing"

func TestHubWakesOnlyItsOrganization(t *testing.T) {
	h := New()
	a, b := h.Subscribe("org_a"), h.Subscribe("org_b")
	h.Notify("org_a")
	h.Notify("org_a") // coalesces, never blocks
	select {
	case <-a.C:
	default:
		t.Fatal("org_a's subscriber was not woken")
	}
	select {
	case <-b.C:
		t.Fatal("org_b's subscriber was woken by org_a's commit")
	default:
	}
	if h.Len() != 2 {
		t.Fatalf("Len = %d, want 2", h.Len())
	}
	a.Cancel()
	a.Cancel()
	if h.Len() != 1 {
		t.Fatalf("Len after cancel = %d, want 1", h.Len())
	}
	h.Close()
	<-b.Done()
	if c := h.Subscribe("org_a"); c.Done() == nil {
		t.Fatal("nil Done")
	} else {
		<-c.Done()
	}
	if h.Len() != 0 {
		t.Fatalf("Len after close = %d", h.Len())
	}
}
