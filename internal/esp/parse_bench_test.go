package esp

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
)

// hookBenchSendGrid returns a SendGrid batch of n events in the mix and shape of
// bench/cmd/compare's webhook scenario (600‰ delivered, 250 open, 100 click, 30 bounce,
// 10 spamreport, 10 unsubscribe; attributed by address).
func hookBenchSendGrid(n int) []byte {
	kinds := []struct {
		event  string
		permil int
	}{{"delivered", 600}, {"open", 250}, {"click", 100}, {"bounce", 30}, {"spamreport", 10}, {"unsubscribe", 10}}
	seed := uint64(n)
	buf := []byte{'['}
	for j := range n {
		if j > 0 {
			buf = append(buf, ',')
		}
		seed = seed*6364136223846793005 + 1442695040888963407
		c := int(seed>>33)%5000 + 1
		kind, draw := "delivered", int(seed>>20)%1000
		for _, k := range kinds {
			if draw < k.permil {
				kind = k.event
				break
			}
			draw -= k.permil
		}
		ev := map[string]any{"email": "c" + strconv.Itoa(c) + "@example.com", "timestamp": 1717000000 + j,
			"event": kind, "sg_event_id": fmt.Sprintf("sg-bench-%012d", j), "sg_message_id": "sgm" + strconv.Itoa(c) + ".filter0001",
			"smtp-id": "<sgm" + strconv.Itoa(c) + "@ismtpd0001>", "category": []string{"bench"}}
		switch kind {
		case "bounce":
			ev["type"], ev["status"], ev["reason"] = "bounce", "5.1.1", "550 5.1.1 user unknown"
		case "click":
			ev["url"] = "https://example.com/a"
			fallthrough
		case "open":
			ev["useragent"], ev["ip"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36", "192.0.2.1"
		}
		enc, _ := json.Marshal(ev)
		buf = append(buf, enc...)
	}
	return append(buf, ']')
}

// BenchmarkSendGridParse parses SendGrid batches of 100 and 1,000 events.
func BenchmarkSendGridParse(b *testing.B) {
	for _, n := range []int{100, 1000} {
		body := hookBenchSendGrid(n)
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			v := NewSendGrid()
			r := &Request{Body: body}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				res, err := v.Parse(context.Background(), r)
				if err != nil || len(res.Events) != n {
					b.Fatalf("%d events, %v", len(res.Events), err)
				}
			}
		})
	}
}
