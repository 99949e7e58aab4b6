package main

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/classify"
	"github.com/mailtrail/mailtrail/internal/enrich"
)

func testTraffic(t testing.TB) (*trafficData, *campaign) {
	t.Helper()
	td, err := loadTrafficData("")
	if err != nil {
		t.Fatal(err)
	}
	c := &campaign{Name: "t", Prefix: 't', N: 20_000, Start: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC).UnixMilli(), SendSpan: 60_000, Seed: 42}
	c.init()
	return td, c
}

// BenchmarkEnrich is the enrich step's cost per open or click without disk: Enricher.Event
// over the benchmark's traffic mix. "copy" is the loop alone (event copy and Normalize), to
// subtract from the others.
//
//	go test -run - -bench Enrich ./bench/report
func BenchmarkEnrich(b *testing.B) {
	td, c := testTraffic(b)
	pool := normalizedPool(eventPool(td, c, 1<<16, 1))
	cl, err := classify.New()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("copy", func(b *testing.B) { benchEnrich(b, pool, nil) })
	e := &enrich.Enricher{Classifier: cl}
	b.Run("classify", func(b *testing.B) { benchEnrich(b, pool, e.Event) })
	// TODO(geo): with internal/geo merged, add "classify+geo" with Geo from geo.Open of a
	// test database (internal/geo/geotest writes one).
}

// TestSchedule checks the generated campaign has the shape the model promises: the mix
// of events, times inside the window, clicks of people after delivery.
func TestSchedule(t *testing.T) {
	_, c := testTraffic(t)
	m := defaultModel()
	if err := m.fit(3); err != nil {
		t.Fatal(err)
	}
	var plans [maxPlans]plan
	count := map[mailtrail.EventType]int{}
	total, openers, clickers := 0, 0, 0
	for i := range c.N {
		n, p := m.schedule(c, i, &plans)
		total += n
		var deliv int64
		opened, clicked := false, false
		for _, pl := range plans[:n] {
			count[pl.typ]++
			if pl.at < c.Start || pl.at > c.Start+m.Span+time.Hour.Milliseconds() {
				t.Fatalf("recipient %d: %s at %d outside the campaign", i, pl.typ, pl.at)
			}
			switch pl.typ {
			case mailtrail.EventDelivered:
				deliv = pl.at
			case mailtrail.EventOpened:
				opened = true
			case mailtrail.EventClicked:
				clicked = true
				if !p.scannerClicks() && pl.at-deliv < 30_000 {
					t.Fatalf("recipient %d: a person's click %d ms after delivery", i, pl.at-deliv)
				}
				if int(pl.link) >= len(c.links(i)) {
					t.Fatalf("recipient %d: link %d of %d", i, pl.link, len(c.links(i)))
				}
			}
		}
		if opened {
			openers++
		}
		if clicked {
			clickers++
		}
		// Deterministic: the same recipient gives the same events.
		var again [maxPlans]plan
		if n2, _ := m.schedule(c, i, &again); n2 != n || !slices.Equal(again[:n], plans[:n]) {
			t.Fatalf("recipient %d: schedule not deterministic", i)
		}
	}
	near := func(what string, got, want, tol float64) {
		if math.Abs(got-want) > tol {
			t.Errorf("%s: %.4f, want %.4f ± %.4f", what, got, want, tol)
		}
	}
	n := float64(c.N)
	near("events per recipient", float64(total)/n, 3, 0.05)
	near("sent", float64(count[mailtrail.EventSent])/n, 1, 0)
	near("bounced", float64(count[mailtrail.EventBounced])/n, m.Bounce, 0.005)
	near("openers", float64(openers)/n, m.Openers, 0.015)
	near("clickers", float64(clickers)/n, m.Clickers, 0.01)
}

// TestTrafficClassified checks the generated opens and clicks reach the classifier's
// branches in about the planned shares: Apple MPP machine opens, bots from the scanner
// agents and ranges, people otherwise.
func TestTrafficClassified(t *testing.T) {
	td, c := testTraffic(t)
	cl, err := classify.New()
	if err != nil {
		t.Fatal(err)
	}
	e := &enrich.Enricher{Classifier: cl}
	pool := normalizedPool(eventPool(td, c, 20_000, 7))
	got := map[mailtrail.EventType]map[mailtrail.Classification]int{mailtrail.EventOpened: {}, mailtrail.EventClicked: {}}
	for i := range pool {
		ev := pool[i]
		e.Event(&ev)
		got[ev.Type][ev.Classification]++
	}
	opens := float64(got[mailtrail.EventOpened][mailtrail.Human] + got[mailtrail.EventOpened][mailtrail.Machine] + got[mailtrail.EventOpened][mailtrail.Bot])
	clicks := float64(got[mailtrail.EventClicked][mailtrail.Human] + got[mailtrail.EventClicked][mailtrail.Bot])
	share := func(typ mailtrail.EventType, cl mailtrail.Classification, total float64) float64 {
		return float64(got[typ][cl]) / total
	}
	check := func(what string, v, want float64) {
		if math.Abs(v-want) > 0.03 {
			t.Errorf("%s: %.3f, want about %.3f", what, v, want)
		}
	}
	check("machine opens (Apple MPP)", share(mailtrail.EventOpened, mailtrail.Machine, opens), float64(openShare[openMPP])/100)
	check("bot opens (scanners)", share(mailtrail.EventOpened, mailtrail.Bot, opens), float64(openShare[openScannerUA]+openShare[openScannerIP])/100)
	check("bot clicks (scanners)", share(mailtrail.EventClicked, mailtrail.Bot, clicks), float64(clickShare[clickScannerUA]+clickShare[clickScannerIP])/100)
}
