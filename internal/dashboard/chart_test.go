package dashboard

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// The y axis fits the data in at most five nice steps.
func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct{ m, step, top int64 }{
		{0, 1, 1}, {1, 1, 1}, {4, 1, 4}, {5, 1, 5}, {7, 2, 8}, {11, 5, 15}, {37, 10, 40},
		{101, 25, 125}, {950, 200, 1000}, {2027, 500, 2500}, {4000, 1000, 4000}, {123456, 25000, 125000},
	} {
		step, top := niceTicks(tc.m)
		if step != tc.step || top != tc.top {
			t.Errorf("niceTicks(%d) = %d, %d; want %d, %d", tc.m, step, top, tc.step, tc.top)
		}
		if top < tc.m || top/step > 5 || tc.m > 0 && top-tc.m >= step {
			t.Errorf("niceTicks(%d): top %d step %d do not fit", tc.m, top, step)
		}
	}
}

func hours(from time.Time, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = from.Add(time.Duration(i) * time.Hour)
	}
	return out
}

// An hourly axis labels every midnight with its date, and the first label with the first
// day's; the year shows when the range crosses one.
func TestTimeTicksHourly(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	starts := hours(time.Date(2026, 12, 3, 14, 0, 0, 0, paris), 60) // 3 Dec 14:00 → 6 Dec 01:00
	ticks := timeTicks(starts, false, 656)
	dated := map[int]string{}
	for _, x := range ticks {
		if x.Line2 != "" {
			dated[x.I] = x.Line2
		}
		if starts[x.I].Hour()%6 != 0 && x.I != 0 {
			t.Errorf("tick at %s", starts[x.I])
		}
	}
	for i, s := range starts {
		if s.Hour() == 0 && dated[i] == "" {
			t.Errorf("midnight of %s has no date: %+v", s, ticks)
		}
	}
	if ticks[0].Line2 != "Thu 3 Dec" || dated[10] != "Fri 4 Dec" {
		t.Errorf("dates %v", dated)
	}
	if len(ticks) > 656/60 {
		t.Errorf("%d labels for 656 px", len(ticks))
	}
	// A range starting late in the day labels its first hour with its date when there is room.
	late := timeTicks(hours(time.Date(2026, 12, 3, 13, 0, 0, 0, time.UTC), 70), false, 656) // labels every 12 h
	if late[0].I != 0 || late[0].Line2 != "Thu 3 Dec" || late[1].I != 11 || late[1].Line2 != "Fri 4 Dec" {
		t.Errorf("late start: %+v", late)
	}
	// Across New Year the dates carry the year.
	ny := timeTicks(hours(time.Date(2026, 12, 31, 20, 0, 0, 0, time.UTC), 10), false, 656)
	var got []string
	for _, x := range ny {
		if x.Line2 != "" {
			got = append(got, x.Line2)
		}
	}
	if strings.Join(got, "|") != "31 Dec 2026|1 Jan 2027" {
		t.Errorf("new year: %q", got)
	}
	// Two weeks: one label a day, every one a date.
	two := timeTicks(hours(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 24*14), false, 656)
	if len(two) != 14 || two[0].Line1 != "1 Mar" || two[13].Line1 != "14 Mar" {
		t.Errorf("two weeks: %+v", two)
	}
}

func TestTimeTicksDaily(t *testing.T) {
	var days []time.Time
	for i := range 40 {
		days = append(days, time.Date(2026, 12, 10+i, 0, 0, 0, 0, time.UTC))
	}
	ticks := timeTicks(days, true, 656)
	if len(ticks) > 10 || ticks[0].Line2 != "2026" {
		t.Errorf("%+v", ticks)
	}
	var years []string
	for _, x := range ticks {
		if x.Line2 != "" {
			years = append(years, x.Line2)
		}
	}
	if strings.Join(years, " ") != "2026 2027" {
		t.Errorf("years %v in %+v", years, ticks)
	}
}

// Labels at the edges are anchored inside the chart, never cut.
func TestTextAnchor(t *testing.T) {
	for _, tc := range []struct {
		x     float64
		chars int
		want  string
	}{{20, 9, "start"}, {360, 9, "middle"}, {715, 5, "end"}, {700, 2, "middle"}} {
		if got := textAnchor(tc.x, tc.chars, 0, 720); got != tc.want {
			t.Errorf("textAnchor(%v, %d) = %s, want %s", tc.x, tc.chars, got, tc.want)
		}
	}
}

// Gaps in a timeline are filled with zeros, hour by hour and day by day across DST; the
// range runs from the first to the last period with something to draw.
func TestFillTimeline(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	h0 := time.Date(2026, 3, 29, 0, 0, 0, 0, paris) // 02:00 → 03:00 that night
	tl := []mailtrail.TimelineBucket{{Start: h0.Add(-time.Hour)}, {Start: h0, Sent: 1}, {Start: h0.Add(4 * time.Hour), Sent: 2}, {Start: h0.Add(9 * time.Hour)}}
	got := fillTimeline(tl, paris, false)
	if len(got) != 5 || got[0].Sent != 1 || got[4].Sent != 2 || got[2].Sent != 0 {
		t.Errorf("hourly: %+v", got)
	}
	d0 := time.Date(2026, 3, 28, 0, 0, 0, 0, paris)
	got = fillTimeline([]mailtrail.TimelineBucket{{Start: d0, Sent: 1}, {Start: time.Date(2026, 3, 31, 0, 0, 0, 0, paris), Sent: 3}}, paris, true)
	if len(got) != 4 || got[3].Sent != 3 || !got[1].Start.Equal(time.Date(2026, 3, 29, 0, 0, 0, 0, paris)) {
		t.Errorf("daily: %+v", got)
	}
	svg := string(timelineCharts(got, true, true, paris)[0])
	if !strings.Contains(svg, `data-tip="Sat 28 Mar 2026 · Sent 1 · Delivered 0"`) || strings.Contains(svg, "style=") {
		t.Errorf("chart: %s", svg)
	}
}

var hitRE = regexp.MustCompile(`data-parts="([0-9 ]+)" data-whole="([0-9]+)"`)

// Uniques are not nested hour by hour (a recipient's first open may be a proxy's hours
// before their own): the stack of running totals never puts people above everyone, its
// parts add up to the whole at every period, and it ends at the campaign's figures.
func TestStackedOpens(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	tl := []mailtrail.TimelineBucket{
		{Start: t0, Sent: 10, OpensUnique: 6, OpensTotal: 6},                                               // proxies open at once
		{Start: t0.Add(time.Hour), OpensUnique: 1, HumanOpensUnique: 4, OpensTotal: 5, HumanOpensTotal: 5}, // people later
		{Start: t0.Add(2 * time.Hour), HumanOpensUnique: 1, OpensTotal: 2, HumanOpensTotal: 1},
	}
	people, machines := stackUniques([]int64{6, 1, 0}, []int64{0, 4, 1})
	if people[2] != 5 || machines[2] != 2 || people[1] != 4 || machines[1] != 3 {
		t.Errorf("people %v machines %v", people, machines)
	}
	for _, unique := range []bool{true, false} {
		svg := string(timelineCharts(tl, false, unique, time.UTC)[1])
		hits := hitRE.FindAllStringSubmatch(svg, -1)
		if len(hits) != 3 {
			t.Fatalf("unique=%v: %d hit columns in %s", unique, len(hits), svg)
		}
		var totals int64
		for _, h := range hits {
			var s int64
			for _, f := range strings.Fields(h[1]) {
				v, _ := strconv.ParseInt(f, 10, 64)
				s += v
			}
			w, _ := strconv.ParseInt(h[2], 10, 64)
			if s != w {
				t.Errorf("unique=%v: parts %s, whole %d", unique, h[1], w)
			}
			totals += w
		}
		if unique && hits[2][2] != "7" {
			t.Errorf("the running total ends at %s, not the 7 who opened", hits[2][2])
		}
		if !unique && totals != 13 {
			t.Errorf("every open: %d, want 13", totals)
		}
	}
}

// Breakdowns name values as people say them and put Unknown last; figures stay.
func TestDimTables(t *testing.T) {
	b := mailtrail.Breakdown{
		Client:  []mailtrail.DimValue{{Value: "", Total: 9}, {Value: "apple_mail", Total: 5, HumanTotal: 1}, {Value: "some_app", Total: 1}},
		Country: []mailtrail.DimValue{{Value: "FR", Total: 3}, {Value: "GB", Total: 2}, {Value: "ZZ", Total: 1}},
		City:    []mailtrail.DimValue{{Value: "", Total: 4}, {Value: "US/Austin", Total: 2}},
		Device:  []mailtrail.DimValue{{Value: "mobile", Total: 2}},
	}
	var got []string
	for _, tb := range dimTables(b) {
		for _, r := range tb.Rows {
			got = append(got, r.Name+"="+strconv.FormatInt(r.Total, 10))
		}
	}
	want := "Apple Mail=5 some app=1 Unknown=9 Phone=2 France=3 United Kingdom=2 ZZ=1 Austin (US)=2 Unknown=4"
	if strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
	if tb := dimTables(b)[0]; tb.Max != 9 {
		t.Errorf("max %d", tb.Max)
	}
}

var ytickRE = regexp.MustCompile(`<text class="ytick" x="([0-9.]+)" y="[0-9.]+">([0-9,]+)</text>`)

// Y labels stay inside the chart however long they are.
func TestYLabelsFit(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	for _, sent := range []int64{3, 2027, 1234567} {
		svg := string(timelineCharts([]mailtrail.TimelineBucket{{Start: t0, Sent: sent}}, false, true, time.UTC)[0])
		ticks := ytickRE.FindAllStringSubmatch(svg, -1)
		if len(ticks) < 2 {
			t.Fatalf("%d: ticks %v", sent, ticks)
		}
		for _, m := range ticks {
			x, _ := strconv.ParseFloat(m[1], 64)
			if x-float64(len(m[2]))*6.2 < 0 { // anchored at its end
				t.Errorf("%d: label %s at x=%v is cut", sent, m[2], x)
			}
		}
		if sent == 2027 && ticks[len(ticks)-1][2] != "2,500" {
			t.Errorf("2,027 tops at %s", ticks[len(ticks)-1][2])
		}
	}
}

// TestDimLabelBrowsers: the browsers a click names as its client are named for people.
func TestDimLabelBrowsers(t *testing.T) {
	for v, want := range map[string]string{"chrome": "Chrome", "safari": "Safari", "firefox": "Firefox", "edge": "Edge", "samsung_internet": "Samsung Internet", "opera": "Opera", "gmail": "Gmail", "": "Unknown"} {
		if got := dimLabel("client", v); got != want {
			t.Errorf("dimLabel(client, %q) = %q, want %q", v, got, want)
		}
	}
}
