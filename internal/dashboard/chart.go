package dashboard

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
)

// maxHourlyPoints bounds the hourly chart (two weeks); longer campaigns chart by day.
const maxHourlyPoints = 24 * 14

// fillTimeline returns the periods from the first to the last of tl, one per hour (or day
// in loc), with the periods tl leaves out (no activity) as zeros.
func fillTimeline(tl []mailtrail.TimelineBucket, loc *time.Location, daily bool) []mailtrail.TimelineBucket {
	if len(tl) == 0 {
		return nil
	}
	byStart := map[int64]mailtrail.TimelineBucket{}
	for _, b := range tl {
		byStart[b.Start.Unix()] = b
	}
	var out []mailtrail.TimelineBucket
	last := tl[len(tl)-1].Start
	for t := tl[0].Start.In(loc); !t.After(last); {
		b, ok := byStart[t.Unix()]
		if !ok {
			b = mailtrail.TimelineBucket{Start: t}
		}
		out = append(out, b)
		if len(out) > 5000 {
			break
		}
		if daily {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
		} else {
			t = t.Add(time.Hour)
		}
	}
	return out
}

type chartSeries struct {
	Name  string
	Class string // s1 (all), s2 (people): colours in the stylesheet
	Vals  []int64
}

// timelineCharts draws the sends, opens and clicks of a timeline.
func timelineCharts(tl []mailtrail.TimelineBucket, daily bool, loc *time.Location) []template.HTML {
	if len(tl) == 0 {
		return nil
	}
	labels := make([]string, len(tl))
	tips := make([]string, len(tl))
	pick := func(f func(b mailtrail.TimelineBucket) int64) []int64 {
		v := make([]int64, len(tl))
		for i, b := range tl {
			v[i] = f(b)
		}
		return v
	}
	for i, b := range tl {
		t := b.Start.In(loc)
		if daily {
			labels[i], tips[i] = t.Format("2 Jan"), t.Format("Mon 2 Jan 2006")
		} else {
			labels[i], tips[i] = t.Format("15:00"), t.Format("Mon 2 Jan 15:00")
			if t.Hour() == 0 || i == 0 {
				labels[i] = t.Format("2 Jan")
			}
		}
	}
	return []template.HTML{
		lineChart("Sent and delivered", labels, tips, []chartSeries{
			{"Sent", "s1", pick(func(b mailtrail.TimelineBucket) int64 { return b.Sent })},
			{"Delivered", "s2", pick(func(b mailtrail.TimelineBucket) int64 { return b.Delivered })}}),
		lineChart("Unique opens", labels, tips, []chartSeries{
			{"All", "s1", pick(func(b mailtrail.TimelineBucket) int64 { return b.OpensUnique })},
			{"People", "s2", pick(func(b mailtrail.TimelineBucket) int64 { return b.HumanOpensUnique })}}),
		lineChart("Unique clicks", labels, tips, []chartSeries{
			{"All", "s1", pick(func(b mailtrail.TimelineBucket) int64 { return b.ClicksUnique })},
			{"People", "s2", pick(func(b mailtrail.TimelineBucket) int64 { return b.HumanClicksUnique })}}),
	}
}

// niceMax rounds m up to 1, 2 or 5 times a power of ten (at least 1), for 4 even steps.
func niceMax(m int64) int64 {
	if m <= 4 {
		return 4
	}
	raw := float64(m) / 4
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, f := range []float64{1, 2, 2.5, 5, 10} {
		if step := f * p; step >= raw && step == math.Floor(step) {
			return int64(step) * 4
		}
	}
	return int64(10*p) * 4
}

// lineChart draws series over shared x labels as an SVG: gridlines and y ticks, sparse x
// labels, a legend with each series' total, and a hover column per period whose <title>
// lists every series' value.
func lineChart(title string, labels, tips []string, ss []chartSeries) template.HTML {
	const W, H, left, right, top, bottom = 720.0, 220.0, 48.0, 12.0, 14.0, 28.0
	n := len(labels)
	var m int64
	for _, s := range ss {
		for _, v := range s.Vals {
			m = max(m, v)
		}
	}
	ymax := niceMax(m)
	pw, ph := W-left-right, H-top-bottom
	x := func(i int) float64 {
		if n == 1 {
			return left + pw/2
		}
		return left + pw*float64(i)/float64(n-1)
	}
	y := func(v int64) float64 { return top + ph - ph*float64(v)/float64(ymax) }
	var b strings.Builder
	esc := html.EscapeString
	fmt.Fprintf(&b, `<figure class="chart"><figcaption><span class="chart-title">%s</span><span class="legend">`, esc(title))
	for _, s := range ss {
		var tot int64
		for _, v := range s.Vals {
			tot += v
		}
		fmt.Fprintf(&b, `<span class="key %s">%s <b>%s</b></span>`, s.Class, esc(s.Name), num(tot))
	}
	fmt.Fprintf(&b, `</span></figcaption><svg viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, W, H, esc(title))
	for i := 0; i <= 4; i++ {
		v := ymax * int64(i) / 4
		yy := y(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/><text class="ytick" x="%.1f" y="%.1f">%s</text>`,
			left, W-right, yy, yy, left-6, yy+4, num(v))
	}
	step := max(1, (n+7)/8)
	for i := 0; i < n; i += step {
		fmt.Fprintf(&b, `<text class="xtick" x="%.1f" y="%.1f">%s</text>`, x(i), H-8, esc(labels[i]))
	}
	for si, s := range ss {
		var pts strings.Builder
		for i, v := range s.Vals {
			fmt.Fprintf(&pts, "%.1f,%.1f ", x(i), y(v))
		}
		if si == 0 && n > 1 {
			fmt.Fprintf(&b, `<polygon class="area %s" points="%.1f,%.1f %s%.1f,%.1f"/>`, s.Class, x(0), y(0), pts.String(), x(n-1), y(0))
		}
		fmt.Fprintf(&b, `<polyline class="line %s" points="%s"/>`, s.Class, strings.TrimSpace(pts.String()))
		if n <= 60 {
			for i, v := range s.Vals {
				if v > 0 {
					fmt.Fprintf(&b, `<circle class="dot %s" cx="%.1f" cy="%.1f" r="3"/>`, s.Class, x(i), y(v))
				}
			}
		}
	}
	colW := pw / float64(max(1, n-1))
	if n == 1 {
		colW = pw
	}
	for i := range n {
		var t strings.Builder
		t.WriteString(tips[i])
		for _, s := range ss {
			fmt.Fprintf(&t, "\n%s: %s", s.Name, num(s.Vals[i]))
		}
		fmt.Fprintf(&b, `<rect class="hover" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s</title></rect>`,
			x(i)-colW/2, top, colW, ph, esc(t.String()))
	}
	b.WriteString(`</svg></figure>`)
	return template.HTML(b.String())
}
