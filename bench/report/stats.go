package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"time"
)

// lat summarizes one series of latencies.
type lat struct {
	n                  int
	p50, p90, p99, max time.Duration
}

// summarize returns nearest-rank percentiles of d (which it sorts).
func summarize(d []time.Duration) lat {
	if len(d) == 0 {
		return lat{}
	}
	slices.Sort(d)
	q := func(p float64) time.Duration {
		i := int(p*float64(len(d))+0.999999) - 1
		return d[min(max(i, 0), len(d)-1)]
	}
	return lat{n: len(d), p50: q(0.50), p90: q(0.90), p99: q(0.99), max: d[len(d)-1]}
}

// median of xs (which it sorts); the mean of the middle two for an even count.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spread is (max − min) ÷ median: the noise of a series of rounds.
func spread(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	m := median(xs)
	if m == 0 {
		return 0
	}
	return (slices.Max(xs) - slices.Min(xs)) / m
}

// medianOf applies f to every item and returns the median of the results.
func medianOf[T any](items []T, f func(T) float64) float64 {
	xs := make([]float64, len(items))
	for i, it := range items {
		xs[i] = f(it)
	}
	return median(xs)
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fms(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// thousands formats n with thin separators: 12,345.
func thousands(n float64) string {
	s := strconv.FormatInt(int64(n+0.5), 10)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return strconv.FormatFloat(a/b, 'f', 2, 64)
}

// progress reports on stderr, keeping stdout for the tables.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}
