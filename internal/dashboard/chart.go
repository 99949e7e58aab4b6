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

// active tells whether a period has anything the charts draw.
func active(b mailtrail.TimelineBucket) bool {
	return b.Sent|b.Delivered|b.OpensTotal|b.OpensUnique|b.ClicksTotal|b.ClicksUnique|
		b.HumanOpensTotal|b.HumanOpensUnique|b.HumanClicksTotal|b.HumanClicksUnique != 0
}

// fillTimeline returns the periods from the first to the last of tl that the charts draw
// something for (a period with bounces only does not stretch the range), one per hour (or
// day in loc), with the periods between them that had nothing as zeros.
func fillTimeline(tl []mailtrail.TimelineBucket, loc *time.Location, daily bool) []mailtrail.TimelineBucket {
	for len(tl) > 0 && !active(tl[0]) {
		tl = tl[1:]
	}
	for len(tl) > 0 && !active(tl[len(tl)-1]) {
		tl = tl[:len(tl)-1]
	}
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

// chartSeries is one part of a chart; Class (s1, s2, …) picks its colour in the stylesheet.
type chartSeries struct {
	Name  string
	Class string
	Vals  []int64
}

// chart is one timeline chart. Stacked charts draw their parts one on another, so the
// top of the stack is their whole (named Whole) at every period and no part can rise
// above it; others draw the parts side by side (bars) or as lines.
type chart struct {
	ID, Title string
	Parts     []chartSeries
	Stacked   bool
	Running   bool     // running totals: the table leaves out the periods where none moved
	Whole     string   // stacked: the name of the sum of the parts
	Bars      bool     // bars, else lines (or areas when stacked)
	Legend    []string // "Name figure" of each key, in the order of Parts then Whole
	Note      string   // what the figures count, under the title
}

// timelineCharts draws the sends, opens and clicks of a filled timeline. unique: opens and
// clicks count people who opened (clicked) as a running total, each counted once; else
// every open (click) in the period it happened.
func timelineCharts(tl []mailtrail.TimelineBucket, daily, unique bool, loc *time.Location) []template.HTML {
	if len(tl) == 0 {
		return nil
	}
	pick := func(f func(b mailtrail.TimelineBucket) int64) []int64 {
		v := make([]int64, len(tl))
		for i, b := range tl {
			v[i] = f(b)
		}
		return v
	}
	per := "hour"
	if daily {
		per = "day"
	}
	sent := pick(func(b mailtrail.TimelineBucket) int64 { return b.Sent })
	dlv := pick(func(b mailtrail.TimelineBucket) int64 { return b.Delivered })
	sends := chart{ID: "chart-sends", Title: "Sent and delivered", Note: "Emails per " + per + ".",
		Parts: []chartSeries{{"Sent", "s1", sent}, {"Delivered", "s2", dlv}}, Bars: sparse(sent, dlv)}
	sends.Legend = []string{"Sent " + num(sum(sent)), "Delivered " + num(sum(dlv))}
	charts := []chart{sends}
	for _, k := range []struct {
		id, noun, verb               string
		all, people, allTot, peopTot func(b mailtrail.TimelineBucket) int64
	}{
		{"opens", "opens", "opened",
			func(b mailtrail.TimelineBucket) int64 { return b.OpensUnique }, func(b mailtrail.TimelineBucket) int64 { return b.HumanOpensUnique },
			func(b mailtrail.TimelineBucket) int64 { return b.OpensTotal }, func(b mailtrail.TimelineBucket) int64 { return b.HumanOpensTotal }},
		{"clicks", "clicks", "clicked",
			func(b mailtrail.TimelineBucket) int64 { return b.ClicksUnique }, func(b mailtrail.TimelineBucket) int64 { return b.HumanClicksUnique },
			func(b mailtrail.TimelineBucket) int64 { return b.ClicksTotal }, func(b mailtrail.TimelineBucket) int64 { return b.HumanClicksTotal }},
	} {
		c := chart{ID: "chart-" + k.id, Stacked: true, Bars: len(tl) <= 60}
		if unique {
			people, machines := stackUniques(pick(k.all), pick(k.people))
			c.Running = true
			c.Title = "Recipients who " + k.verb + ", running total"
			c.Note = "Each recipient counts once: a person at their first own " + strings.TrimSuffix(k.noun, "s") +
				", a recipient only a privacy proxy or link scanner " + k.verb + " at its first."
			c.Whole = "All who " + k.verb
			c.Parts = []chartSeries{{"People", "s2", people}, {"Machines only", "s1", machines}}
			n := len(tl) - 1
			c.Legend = []string{"People " + num(people[n]), "Machines only " + num(machines[n]), c.Whole + " " + num(people[n]+machines[n])}
		} else {
			all, people := pick(k.allTot), pick(k.peopTot)
			machines := make([]int64, len(all))
			for i := range all {
				machines[i] = max(0, all[i]-people[i])
			}
			c.Title = "All " + k.noun + " per " + per
			c.Note = "Every " + strings.TrimSuffix(k.noun, "s") + ", repeats included, in the " + per + " it happened."
			c.Whole = "All " + k.noun
			c.Parts = []chartSeries{{"People", "s2", people}, {"Machines", "s1", machines}}
			c.Legend = []string{"People " + num(sum(people)), "Machines " + num(sum(machines)), c.Whole + " " + num(sum(people)+sum(machines))}
		}
		charts = append(charts, c)
	}
	starts := make([]time.Time, len(tl))
	for i, b := range tl {
		starts[i] = b.Start.In(loc)
	}
	out := make([]template.HTML, len(charts))
	for i, c := range charts {
		out[i] = c.svg(starts, daily)
	}
	return out
}

// stackUniques turns per-period uniques (each recipient counted in the period of their
// first open, and of their first human open: not nested period by period) into running
// totals that are: people who opened so far, and recipients opened so far by machines
// only. Their sum is everyone who opened so far, and ends at the campaign's unique figure.
func stackUniques(all, people []int64) (ppl, machines []int64) {
	ppl, machines = make([]int64, len(all)), make([]int64, len(all))
	var ca, cp int64
	for i := range all {
		ca += all[i]
		cp += people[i]
		ppl[i], machines[i] = cp, max(0, ca-cp)
	}
	return ppl, machines
}

func sum(v []int64) int64 {
	var s int64
	for _, x := range v {
		s += x
	}
	return s
}

// sparse tells whether bars suit the series better than lines: few periods, or activity in
// fewer than half of them (a send at 9:00 is a spike, not a slope).
func sparse(ss ...[]int64) bool {
	n, on := 0, 0
	for i := range ss[0] {
		n++
		for _, s := range ss {
			if s[i] != 0 {
				on++
				break
			}
		}
	}
	return n <= 48 || on*2 < n
}

// niceTicks returns the step and the top of a y axis that shows 0 to m in at most five
// steps of 1, 2, 2.5 or 5 times a power of ten (whole numbers): 2,027 → 500 and 2,500.
func niceTicks(m int64) (step, top int64) {
	if m <= 0 {
		return 1, 1
	}
	raw := float64(m) / 5
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	step = int64(10 * p)
	for _, f := range []float64{1, 2, 2.5, 5} {
		if s := f * p; s >= raw && s >= 1 && s == math.Floor(s) {
			step = int64(s)
			break
		}
	}
	step = max(step, 1)
	return step, (m + step - 1) / step * step
}

// xTick is one label of the time axis: Line1 under the axis, Line2 (a date or a year)
// under it where the day (or year) changes and at the first tick.
type xTick struct {
	I            int
	Line1, Line2 string
}

// timeTicks places the labels of a time axis over periods starting at starts: hours that
// divide the day (so every midnight is labelled, with its date) or days, at most about
// one label per 60 px of width; years are written when the range crosses one.
func timeTicks(starts []time.Time, daily bool, width float64) []xTick {
	n := len(starts)
	if n == 0 {
		return nil
	}
	years := starts[0].Year() != starts[n-1].Year()
	date := func(t time.Time) string {
		if years {
			return t.Format("2 Jan 2006")
		}
		return t.Format("Mon 2 Jan")
	}
	maxLabels := max(2, int(width/60))
	var out []xTick
	if daily {
		step := 1
		for _, s := range []int{1, 2, 7, 14, 28, 56, 91, 182, 364} {
			step = s
			if (n+s-1)/s <= maxLabels {
				break
			}
		}
		for i := 0; i < n; i += step {
			t := xTick{I: i, Line1: starts[i].Format("2 Jan")}
			if i == 0 || starts[i].Year() != starts[i-step].Year() {
				t.Line2 = starts[i].Format("2006")
			}
			out = append(out, t)
		}
		return out
	}
	step := 24
	for _, s := range []int{1, 2, 3, 4, 6, 12, 24} {
		if n/s <= maxLabels {
			step = s
			break
		}
	}
	if step == 24 {
		// One label a day: the date alone, short enough to fit two weeks.
		for i, t := range starts {
			if t.Hour() == 0 {
				l := t.Format("2 Jan")
				if years {
					l = t.Format("2 Jan 06")
				}
				out = append(out, xTick{I: i, Line1: l})
			}
		}
		if len(out) == 0 || float64(out[0].I)*width/float64(n) > 70 {
			out = append([]xTick{{I: 0, Line1: starts[0].Format("15:00"), Line2: date(starts[0])}}, out...)
		}
		return out
	}
	first := true
	for i, t := range starts {
		if t.Hour()%step != 0 {
			continue
		}
		x := xTick{I: i, Line1: t.Format("15:00")}
		if first || t.Hour() == 0 {
			x.Line2 = date(t)
		}
		first = false
		out = append(out, x)
	}
	// A range that starts late in a day has its first label at the next midnight: the
	// first period gets a label of its own, with its date, where there is room for it.
	if len(out) > 0 && out[0].I > 0 && starts[out[0].I].Hour() == 0 && float64(out[0].I)*width/float64(n) >= 100 {
		out = append([]xTick{{I: 0, Line1: starts[0].Format("15:00"), Line2: date(starts[0])}}, out...)
	}
	return out
}

// textAnchor keeps a label of about chars characters at x inside [lo, hi]: centred when
// it fits, else flush with the edge it would cross.
func textAnchor(x float64, chars int, lo, hi float64) string {
	half := float64(chars) * 6.2 / 2 // 11 px system font, about 6.2 px a character
	switch {
	case x-half < lo:
		return "start"
	case x+half > hi:
		return "end"
	}
	return "middle"
}

// periodName names a period for its tooltip and table row.
func periodName(t time.Time, daily bool) string {
	if daily {
		return t.Format("Mon 2 Jan 2006")
	}
	return t.Format("Mon 2 Jan 2006, 15:00") + "–" + t.Add(time.Hour).Format("15:00")
}

// svg draws the chart in a figure: a legend, the SVG (y gridlines at nice ticks, the time
// axis, one hit column per period carrying its figures in data attributes, shown on hover
// and on tap by app.js and in a <title>), and a table of the figures for screen readers
// and for reading exact values.
func (c chart) svg(starts []time.Time, daily bool) template.HTML {
	const W, H, right, top, bottom = 720.0, 236.0, 14.0, 12.0, 40.0
	n := len(starts)
	esc := html.EscapeString
	wholeAt := func(i int) int64 {
		var s int64
		for _, p := range c.Parts {
			s += p.Vals[i]
		}
		return s
	}
	var m int64
	for i := range n {
		if c.Stacked {
			m = max(m, wholeAt(i))
			continue
		}
		for _, p := range c.Parts {
			m = max(m, p.Vals[i])
		}
	}
	step, ymax := niceTicks(m)
	// The left margin holds the longest y label (1,250,000 needs more than 2,500).
	left := max(52.0, float64(len(num(ymax)))*6.2+14)
	pw, ph := W-left-right, H-top-bottom
	band := pw / float64(n)
	x := func(i int) float64 { return left + band*(float64(i)+0.5) }
	y := func(v int64) float64 { return top + ph - ph*float64(v)/float64(ymax) }

	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart" id="%s"%s><figcaption><span class="chart-title">%s</span><span class="legend">`,
		c.ID, map[bool]string{true: ` data-stacked="true"`, false: ""}[c.Stacked], esc(c.Title))
	for i, l := range c.Legend {
		cls := "s0"
		if i < len(c.Parts) {
			cls = c.Parts[i].Class
		}
		name, fig, _ := cutLast(l)
		fmt.Fprintf(&b, `<span class="key %s">%s <b>%s</b></span>`, cls, esc(name), esc(fig))
	}
	fmt.Fprintf(&b, `</span></figcaption><p class="muted small chart-note">%s</p>`, esc(c.Note))
	fmt.Fprintf(&b, `<div class="chart-box"><svg viewBox="0 0 %.0f %.0f" role="img" aria-label="%s: %s">`, W, H, esc(c.Title), esc(strings.Join(c.Legend, ", ")))
	for v := int64(0); v <= ymax; v += step {
		yy := y(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/><text class="ytick" x="%.1f" y="%.1f">%s</text>`,
			left, W-right, yy, yy, left-6, yy+4, num(v))
	}
	for _, t := range timeTicks(starts, daily, pw) {
		xx := x(t.I)
		chars := max(len(t.Line1), len(t.Line2))
		fmt.Fprintf(&b, `<line class="xmark" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, xx, xx, top+ph, top+ph+4)
		fmt.Fprintf(&b, `<text class="xtick" text-anchor="%s" x="%.1f" y="%.1f">%s`, textAnchor(xx, chars, 0, W), xx, top+ph+16, esc(t.Line1))
		if t.Line2 != "" {
			fmt.Fprintf(&b, `<tspan class="xdate" x="%.1f" dy="13">%s</tspan>`, xx, esc(t.Line2))
		}
		b.WriteString(`</text>`)
	}
	switch {
	case c.Stacked && c.Bars:
		bw := max(1, band*0.7)
		for i := range n {
			var base int64
			for _, p := range c.Parts {
				v := p.Vals[i]
				if v > 0 {
					fmt.Fprintf(&b, `<rect class="bar %s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, p.Class, x(i)-bw/2, y(base+v), bw, y(base)-y(base+v))
				}
				base += v
			}
		}
	case c.Stacked:
		lower := make([]int64, n)
		for _, p := range c.Parts {
			var pts strings.Builder
			for i := range n {
				fmt.Fprintf(&pts, "%.1f,%.1f ", x(i), y(lower[i]+p.Vals[i]))
			}
			for i := n - 1; i >= 0; i-- {
				fmt.Fprintf(&pts, "%.1f,%.1f ", x(i), y(lower[i]))
			}
			fmt.Fprintf(&b, `<polygon class="layer %s" points="%s"/>`, p.Class, strings.TrimSpace(pts.String()))
			for i := range n {
				lower[i] += p.Vals[i]
			}
		}
	case c.Bars:
		k := float64(len(c.Parts))
		bw := max(1, band*0.8/k)
		for pi, p := range c.Parts {
			for i, v := range p.Vals {
				if v > 0 {
					fmt.Fprintf(&b, `<rect class="bar %s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`,
						p.Class, x(i)-band*0.4+bw*float64(pi), y(v), bw, y(0)-y(v))
				}
			}
		}
	default:
		for _, p := range c.Parts {
			var pts strings.Builder
			for i, v := range p.Vals {
				fmt.Fprintf(&pts, "%.1f,%.1f ", x(i), y(v))
			}
			fmt.Fprintf(&b, `<polyline class="line %s" points="%s"/>`, p.Class, strings.TrimSpace(pts.String()))
		}
	}
	// One hit column per period: hover, tap and the browser tests read its figures.
	for i := range n {
		var tip strings.Builder
		tip.WriteString(periodName(starts[i], daily))
		parts := make([]string, len(c.Parts))
		for pi, p := range c.Parts {
			parts[pi] = fmt.Sprint(p.Vals[i])
			fmt.Fprintf(&tip, " · %s %s", p.Name, num(p.Vals[i]))
		}
		whole := ""
		if c.Stacked {
			whole = fmt.Sprintf(` data-whole="%d"`, wholeAt(i))
			fmt.Fprintf(&tip, " · %s %s", c.Whole, num(wholeAt(i)))
		}
		fmt.Fprintf(&b, `<rect class="hit" x="%.1f" y="%.1f" width="%.1f" height="%.1f" data-parts="%s"%s data-tip="%s"><title>%s</title></rect>`,
			x(i)-band/2, top, band, ph, strings.Join(parts, " "), whole, esc(tip.String()), esc(tip.String()))
	}
	b.WriteString(`</svg></div><p class="chart-readout small" aria-live="polite"></p>`)
	// The figures as a table, for screen readers and exact reading; periods with nothing
	// are left out.
	b.WriteString(`<details class="chart-table"><summary>Table of figures</summary><div class="table-wrap"><table class="compact"><thead><tr><th scope="col">Period</th>`)
	for _, p := range c.Parts {
		fmt.Fprintf(&b, `<th scope="col" class="r">%s</th>`, esc(p.Name))
	}
	if c.Stacked {
		fmt.Fprintf(&b, `<th scope="col" class="r">%s</th>`, esc(c.Whole))
	}
	b.WriteString(`</tr></thead><tbody>`)
	for i := range n {
		row := false
		for _, p := range c.Parts {
			row = row || p.Vals[i] != 0
		}
		if !row || c.Running && i > 0 && same(c.Parts, i) {
			continue
		}
		fmt.Fprintf(&b, `<tr><th scope="row">%s</th>`, esc(periodName(starts[i], daily)))
		for _, p := range c.Parts {
			fmt.Fprintf(&b, `<td class="r">%s</td>`, num(p.Vals[i]))
		}
		if c.Stacked {
			fmt.Fprintf(&b, `<td class="r">%s</td>`, num(wholeAt(i)))
		}
		b.WriteString(`</tr>`)
	}
	b.WriteString(`</tbody></table></div></details></figure>`)
	return template.HTML(b.String())
}

// same tells whether every part has the value at i it had at i-1 (a running total that
// did not move: its table row says nothing new).
func same(ps []chartSeries, i int) bool {
	for _, p := range ps {
		if p.Vals[i] != p.Vals[i-1] {
			return false
		}
	}
	return true
}

// cutLast splits "All who opened 1,234" into the name and the figure.
func cutLast(s string) (string, string, bool) {
	i := strings.LastIndexByte(s, ' ')
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}
