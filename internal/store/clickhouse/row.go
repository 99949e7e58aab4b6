package clickhouse

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/projector"
)

// rowEnd is the value of the staging table's last column: a row whose last field was
// cut has "" there.
const rowEnd = "z"

// sums is what a staged block must add up to, checked on the server before the copy.
type sums struct {
	rows  uint64 // rows sent
	n     uint64 // the sum of the rows' n, 0…rows-1
	bytes uint64 // the bytes of the identifying strings (org, id, campaign, message, customer)
}

// encodeBlock writes the block's events as TabSeparated rows of events_stage, each
// tagged with the block's first position, the attempt and its index n in the block,
// and returns what the rows add up to.
func encodeBlock(buf *bytes.Buffer, recs []projector.Record, first, attempt uint64) sums {
	var s sums
	head := strconv.AppendUint(nil, first, 10)
	head = append(head, '\t')
	head = strconv.AppendUint(head, attempt, 10)
	head = append(head, '\t')
	var num []byte
	for _, r := range recs {
		for i, ev := range r.Events {
			buf.Write(head)
			num = strconv.AppendUint(num[:0], s.rows, 10)
			buf.Write(num)
			buf.WriteByte('\t')
			writeEvent(buf, ev, r.Pos, i)
			buf.WriteString("\t" + rowEnd + "\n")
			s.n += s.rows
			s.rows++
			s.bytes += uint64(len(ev.OrgID) + len(ev.ID) + len(ev.CampaignID) + len(ev.MessageID) + len(ev.CustomerID))
		}
	}
	return s
}

// writeEvent writes the event columns of ev (eventColumns, separated by tabs) at log
// position pos, index idx.
func writeEvent(buf *bytes.Buffer, ev *mailtrail.Event, pos uint64, idx int) {
	writeTSV(buf, ev.OrgID) // the first column, without a tab before it
	str := func(v string) {
		buf.WriteByte('\t')
		writeTSV(buf, v)
	}
	num := func(v uint64) {
		buf.WriteByte('\t')
		var b [20]byte
		buf.Write(strconv.AppendUint(b[:0], v, 10))
	}
	md := &ev.Metadata
	str(ev.ID)
	num(uint64(ev.Type))
	num(seconds(ev.OccurredAt))
	num(uint64(ev.OccurredAt.Nanosecond() / int(time.Millisecond)))
	num(seconds(ev.ReceivedAt))
	str(ev.CampaignID)
	str(ev.MessageID)
	str(ev.CustomerID)
	str(string(ev.Source))
	str(string(ev.Classification))
	str(strings.Join(ev.Reasons, ","))
	str(ev.ESPMessageID)
	str(md.LinkURL)
	str(string(md.BounceType))
	str(md.Client)
	str(md.Device)
	str(md.Country)
	str(md.City)
	num(pos)
	num(uint64(idx))
}

// seconds returns t as a DateTime's Unix seconds, held within the type's range so that
// no event can make a block the server refuses forever.
func seconds(t time.Time) uint64 {
	s := t.Unix()
	switch {
	case s < 0:
		return 0
	case s > math.MaxUint32:
		return math.MaxUint32
	}
	return uint64(s)
}

// writeTSV writes s escaped for TabSeparated: backslash, tab, newline, carriage return
// and NUL as escape sequences, every other byte as is.
func writeTSV(buf *bytes.Buffer, s string) {
	start := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '\\':
			esc = `\\`
		case '\t':
			esc = `\t`
		case '\n':
			esc = `\n`
		case '\r':
			esc = `\r`
		case 0:
			esc = `\0`
		default:
			continue
		}
		buf.WriteString(s[start:i])
		buf.WriteString(esc)
		start = i + 1
	}
	buf.WriteString(s[start:])
}
