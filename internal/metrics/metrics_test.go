package metrics

import (
	"bytes"
	"strings"
	"testing"
)

func TestRegistryWritesFamilies(t *testing.T) {
	r := New()
	c := r.NewCounter("t_requests_total", "Requests.", "route")
	c.Inc("/a")
	c.Add(2, "/a")
	c.Inc("too", "many") // a wrong label count records nothing instead of panicking
	plain := r.NewCounter("t_plain_total", "Plain.")
	r.NewGauge("t_depth", "Depth.", func() float64 { return 7 })
	r.NewGaugeVec("t_ready", "Ready.", "component", func() map[string]float64 { return map[string]float64{"store": 1} })
	h := r.NewHistogram("t_seconds", "Seconds.", .1, 1)
	h.Observe(.5)
	hv := r.NewHistogramVec("t_group_seconds", "By group.", []float64{.1, 1}, "group")
	hv.Init("idle")
	hv.Observe(2, "busy")
	// Registering a family again shares it.
	if again := r.NewCounter("t_requests_total", "Requests.", "route"); again.Value("/a") != 3 {
		t.Fatalf("re-registered counter = %d, want 3", again.Value("/a"))
	}
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`t_requests_total{route="/a"} 3`,
		"t_plain_total 0",
		"t_depth 7",
		`t_ready{component="store"} 1`,
		`t_seconds_bucket{le="1"} 1`,
		`t_group_seconds_count{group="idle"} 0`,
		`t_group_seconds_bucket{group="busy",le="+Inf"} 1`,
		"# TYPE go_goroutines gauge",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if plain.Value() != 0 {
		t.Fatal("plain counter not 0")
	}
	want := []string{"t_depth", "t_group_seconds", "t_plain_total", "t_ready", "t_requests_total", "t_seconds"}
	if got := strings.Join(r.Names(), ","); got != strings.Join(want, ",") {
		t.Fatalf("Names() = %s, want %s", got, strings.Join(want, ","))
	}
}
