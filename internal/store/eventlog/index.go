package eventlog

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
)

// key is a dedupe or idempotency key as the Sink indexes and filters it: the 16 bytes of
// ingest.DedupeKey or ingest.IdempotencyKey, its kind, and for an idempotency key its
// organization's number in the Sink (those keys are per organization; a dedupe key's
// bytes include its organization already). It holds no pointer, so the index's map is not
// scanned by the garbage collector and hashing a key reads 24 bytes.
type key struct {
	b    [16]byte
	org  uint32
	kind uint8 // kindIdem or kindDedupe; 0 for no key
}

const (
	kindIdem uint8 = 1 + iota
	kindDedupe
)

// hash returns 64 well-mixed bits of k for the filter (murmur3's finaliser over the
// key's words: their last 8 bytes are a digest already, the first 8 an event time in a
// dedupe key).
func (k key) hash() uint64 {
	hi, lo := binary.BigEndian.Uint64(k.b[:8]), binary.BigEndian.Uint64(k.b[8:])
	h := lo ^ (hi * 0x9e3779b97f4a7c15) ^ ((uint64(k.org)<<8 | uint64(k.kind)) * 0xc2b2ae3d27d4eb4f)
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// orgNum returns the Sink's number for an organization's public id. Called with mu held.
func (s *Sink) orgNum(org string) uint32 {
	n, ok := s.orgs[org]
	if !ok {
		n = uint32(len(s.orgs) + 1)
		s.orgs[org] = n
	}
	return n
}

// eventKeys returns the keys an event is unique under, in the order the store checks
// them: its idempotency key in its organization, then its dedupe key (kind 0: none).
// Called with mu held.
func (s *Sink) eventKeys(ev *mailtrail.Event) (idem, ded key) {
	if ingest.IdempotencyKeyInto(ev, &idem.b) {
		idem.kind, idem.org = kindIdem, s.orgNum(ev.OrgID)
	}
	if ingest.DedupeKeyInto(ev, &ded.b) {
		ded.kind = kindDedupe
	}
	return idem, ded
}

// storedKey returns the key of one StoredKeys reports (org "" for a dedupe key; keys of
// other lengths than 16 bytes, which no event's key can equal, are left out by the
// caller). Called with mu held.
func (s *Sink) storedKey(org string, b [16]byte) key {
	if org == "" {
		return key{b: b, kind: kindDedupe}
	}
	return key{b: b, org: s.orgNum(org), kind: kindIdem}
}

// segment is one appended message's part of the index: the ids of its events that first
// hold a key, and those keys, to forget them once the store applied the message. The
// index's table (keyTable) names each key by its place here.
type segment struct {
	seq  uint64
	ids  []string
	keys []key
}

// hashes returns the hashes of keys, in s.hashBuf. Called with mu held.
func (s *Sink) hashes(keys []key) []uint64 {
	hs := s.hashBuf[:0]
	for _, k := range keys {
		hs = append(hs, k.hash())
	}
	s.hashBuf = hs
	return hs
}

// index records that the events of one message (seq), each holding keys[i] (kind 0 for
// none), are in the log: their keys enter the index and the filters. With first, a key
// the index holds already keeps its event (a tail read again at Resume: the first event
// holding a key is the one stored); without, the caller knows the keys are new. Called
// with mu held.
func (s *Sink) index(events []*mailtrail.Event, keys [][2]key, seq uint64, first bool) {
	no := s.base + uint64(len(s.segs))
	s.segs = append(s.segs, segment{seq: seq}) // first: the table's slots name its keys
	seg := &s.segs[len(s.segs)-1]
	hs := s.hashBuf[:0]
	for i := range events {
		for _, k := range keys[i] {
			if k.kind != 0 {
				hs = append(hs, k.hash())
			}
		}
	}
	s.hashBuf = hs
	j, kept := 0, 0 // hs[:kept]: the hashes of seg.keys, for the filter
	for i, ev := range events {
		idx := -1
		for _, k := range keys[i] {
			if k.kind == 0 {
				continue
			}
			if j%filterWindow == 0 {
				s.keys.fetch(hs[j:min(len(hs), j+filterWindow)])
			}
			h := hs[j]
			j++
			if first && s.keys.find(h, k, s.segs, s.base) >= 0 {
				continue
			}
			if idx < 0 {
				idx = len(seg.ids)
				seg.ids = append(seg.ids, ev.ID)
			}
			seg.keys = append(seg.keys, k)
			s.keys.put(h, k, no, uint32(len(seg.keys)-1), uint32(idx), s.segs, s.base)
			hs[kept] = h // kept ≤ j: a hash already read
			kept++
		}
	}
	s.filterAdd(hs[:kept])
}

// lookup returns the id of the appended event holding k, if the index holds k. Called
// with mu held.
func (s *Sink) lookup(k key) (string, bool) {
	if k.kind == 0 {
		return "", false
	}
	i := s.keys.find(k.hash(), k, s.segs, s.base)
	if i < 0 {
		return "", false
	}
	sl := &s.keys.slots[i]
	return s.segs[sl.seg-1-s.base].ids[sl.idx], true
}

// prune forgets the keys of messages up to applied: the projection store holds them.
func (s *Sink) prune(applied uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for n < len(s.segs) && s.segs[n].seq <= applied {
		no := s.base + uint64(n)
		ks := s.segs[n].keys
		hs := s.hashes(ks)
		for j, k := range ks {
			if j%filterWindow == 0 {
				s.keys.fetch(hs[j:min(len(hs), j+filterWindow)])
			}
			s.keys.remove(hs[j], k, no, s.segs, s.base)
		}
		n++
	}
	if n > 0 {
		// The rest moves to the front: segments are few (one per message appended
		// and not applied), their keys stay where they are.
		m := copy(s.segs, s.segs[n:])
		clear(s.segs[m:])
		s.segs = s.segs[:m]
		s.base += uint64(n)
	}
}

// keyedID returns the id a new event holding a key is appended under: the same for every
// copy of it that reaches a Sink on the same UTC day of receipt, whichever node's Sink,
// so that a retry appended on one node before another node's copy reached the stream
// (that node killed mid-append) is answered with the id the projection keeps, the first
// copy's. The id keeps the format of ingest.NewEventID (22 characters: 6 bytes of
// milliseconds, here the start of the day of receipt, then 10 bytes, here of a digest of
// the organization, the event's first key and that day), so ids still sort roughly by
// time. The day is in it so that a key used again past the dedupe horizon
// (ingest.IdempotencyHorizon, longer than a day), a new event by then, never gets an id
// stored before. "" for an event without a key (it keeps its random id).
func keyedID(ev *mailtrail.Event, keys [2]key) string {
	k := keys[0]
	if k.kind == 0 {
		k = keys[1]
	}
	if k.kind == 0 {
		return ""
	}
	const day = 24 * 3_600_000
	dayStart := uint64(ev.ReceivedAt.UnixMilli()) / day * day
	h := sha256.New()
	var buf [8]byte
	h.Write([]byte("mailtrail keyed event id\x00"))
	h.Write([]byte(ev.OrgID))
	h.Write([]byte{0, k.kind})
	h.Write(k.b[:])
	binary.BigEndian.PutUint64(buf[:], dayStart)
	h.Write(buf[:])
	var rest [10]byte
	copy(rest[:], h.Sum(nil))
	return ingest.EventID(dayStart, rest)
}
