package segment

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/mailtrail/mailtrail"
)

// benchOrg is a synthetic organization of customers with about perCust counted events
// each over 180 days and 50 campaigns of 6 links: the shape of bench/segments, smaller.
func benchOrg(customers, perCust int) *Org {
	r := rand.New(rand.NewPCG(1, 2))
	o := newOrg()
	o.bulk = true
	types := []mailtrail.EventType{mailtrail.EventSent, mailtrail.EventDelivered, mailtrail.EventOpened, mailtrail.EventOpened, mailtrail.EventClicked}
	const start = int64(20_000) * dayMS
	for c := range customers {
		cust := o.customer(fmt.Sprintf("cust-%08d", c))
		for range r.IntN(2 * perCust) {
			camp := o.campaign(fmt.Sprintf("camp-%02d", r.IntN(50)))
			t := types[r.IntN(len(types))]
			var link uint32
			if t == mailtrail.EventClicked {
				link = o.link(fmt.Sprintf("https://shop.example.com/c%d/l%d", camp, r.IntN(6)))
			}
			o.add(cust, camp, link, t, start+r.Int64N(180*dayMS), r.IntN(4) != 0)
		}
	}
	o.finish()
	return o
}

// BenchmarkSnapshotLoad times LoadSnapshot of one organization of 200,000 customers
// (about 4.8 million events), without a tail.
func BenchmarkSnapshotLoad(b *testing.B) {
	x := New(nil, nil)
	x.install(map[string]*Org{"org": benchOrg(200_000, 24)}, 1)
	var buf bytes.Buffer
	pos := Position{LastEventID: 1, Generation: 1}
	if err := x.WriteSnapshot(&buf, pos); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	for b.Loop() {
		y := New(nil, nil)
		if _, err := y.LoadSnapshot(context.Background(), bytes.NewReader(buf.Bytes()), pos); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSnapshotWrite times WriteSnapshot of the same organization.
func BenchmarkSnapshotWrite(b *testing.B) {
	x := New(nil, nil)
	x.install(map[string]*Org{"org": benchOrg(200_000, 24)}, 1)
	pos := Position{LastEventID: 1, Generation: 1}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := x.WriteSnapshot(&buf, pos); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}
