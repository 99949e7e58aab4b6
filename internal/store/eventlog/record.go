package eventlog

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mailtrail/mailtrail"
)

// The log's formats. A JetStream message of the log is one group commit: a version byte,
// then the appends it carries (their ids and record counts), then the records. A record is
// one mailtrail.Event as a list of fields, each a tag, a length and the bytes of its value;
// empty fields are left out, and a reader skips tags it does not know, so a field added
// later needs a new tag, not a new version. A change that old readers must not misread
// (a tag reused, a value's encoding changed) takes a new version byte.
const (
	groupVersion byte = 1
)

// Field tags of a record. Their numbers are persisted: never renumber or reuse them.
const (
	tagID              = 1
	tagOrgID           = 2
	tagCampaignID      = 3
	tagCustomerID      = 4
	tagCustomerEmail   = 5
	tagMessageID       = 6
	tagType            = 7
	tagOccurredAt      = 8
	tagReceivedAt      = 9
	tagESPMessageID    = 10
	tagSource          = 11
	tagClassification  = 12
	tagReason          = 13 // repeated: one per element of Reasons, in order
	tagDedupeKey       = 14
	tagSharedMessage   = 15
	tagESPMessageIDAlt = 16
	tagCounted         = 17
	tagBeforeSend      = 18

	tagLinkURL       = 32
	tagLinkIndex     = 33
	tagBounceType    = 34
	tagSMTPCode      = 35
	tagReasonText    = 36
	tagFeedbackType  = 37
	tagUserAgent     = 38
	tagIP            = 39
	tagClient        = 40
	tagDevice        = 41
	tagCountry       = 42
	tagCity          = 43
	tagVendor        = 44
	tagVendorEventID = 45
	tagMethod        = 46
	tagJourneyID     = 47
	tagStepID        = 48
	tagTopic         = 49
	tagRaw           = 50
	tagExtra         = 51 // JSON object
)

// errCorrupt says that bytes read from the log are not a record or a group of this format.
var errCorrupt = errors.New("eventlog: corrupt record")

// EncodeEvent returns e in the log's record format. It fails only when e.Metadata.Extra
// cannot be encoded as JSON.
func EncodeEvent(e *mailtrail.Event) ([]byte, error) {
	return appendEvent(make([]byte, 0, 256), e)
}

func appendEvent(b []byte, e *mailtrail.Event) ([]byte, error) {
	b = appendString(b, tagID, e.ID)
	b = appendString(b, tagOrgID, e.OrgID)
	b = appendString(b, tagCampaignID, e.CampaignID)
	b = appendString(b, tagCustomerID, e.CustomerID)
	b = appendString(b, tagCustomerEmail, e.CustomerEmail)
	b = appendString(b, tagMessageID, e.MessageID)
	if e.Type != 0 {
		b = appendUint(b, tagType, uint64(e.Type))
	}
	b = appendTime(b, tagOccurredAt, e.OccurredAt)
	b = appendTime(b, tagReceivedAt, e.ReceivedAt)
	b = appendString(b, tagESPMessageID, e.ESPMessageID)
	b = appendString(b, tagSource, string(e.Source))
	b = appendString(b, tagClassification, string(e.Classification))
	for _, r := range e.Reasons {
		b = appendField(b, tagReason, []byte(r))
	}
	b = appendString(b, tagDedupeKey, e.DedupeKey)
	b = appendBool(b, tagSharedMessage, e.SharedMessage)
	b = appendString(b, tagESPMessageIDAlt, e.ESPMessageIDAlt)
	b = appendBool(b, tagCounted, e.Counted)
	b = appendBool(b, tagBeforeSend, e.BeforeSend)

	m := &e.Metadata
	b = appendString(b, tagLinkURL, m.LinkURL)
	if m.LinkIndex != nil {
		b = appendField(b, tagLinkIndex, binary.AppendVarint(nil, int64(*m.LinkIndex)))
	}
	b = appendString(b, tagBounceType, string(m.BounceType))
	b = appendString(b, tagSMTPCode, m.SMTPCode)
	b = appendString(b, tagReasonText, m.Reason)
	b = appendString(b, tagFeedbackType, m.FeedbackType)
	b = appendString(b, tagUserAgent, m.UserAgent)
	b = appendString(b, tagIP, m.IP)
	b = appendString(b, tagClient, m.Client)
	b = appendString(b, tagDevice, m.Device)
	b = appendString(b, tagCountry, m.Country)
	b = appendString(b, tagCity, m.City)
	b = appendString(b, tagVendor, m.Vendor)
	b = appendString(b, tagVendorEventID, m.VendorEventID)
	b = appendString(b, tagMethod, m.Method)
	b = appendString(b, tagJourneyID, m.JourneyID)
	b = appendString(b, tagStepID, m.StepID)
	b = appendString(b, tagTopic, m.Topic)
	if len(m.Raw) > 0 {
		b = appendField(b, tagRaw, m.Raw)
	}
	if len(m.Extra) > 0 {
		x, err := json.Marshal(m.Extra)
		if err != nil {
			return nil, fmt.Errorf("eventlog: encode metadata extra: %w", err)
		}
		b = appendField(b, tagExtra, x)
	}
	return b, nil
}

func appendField(b []byte, tag uint64, v []byte) []byte {
	b = binary.AppendUvarint(b, tag)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendString(b []byte, tag uint64, s string) []byte {
	if s == "" {
		return b
	}
	b = binary.AppendUvarint(b, tag)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendUint(b []byte, tag, v uint64) []byte {
	return appendField(b, tag, binary.AppendUvarint(nil, v))
}

func appendBool(b []byte, tag uint64, v bool) []byte {
	if !v {
		return b
	}
	return appendField(b, tag, []byte{1})
}

// appendTime writes t as seconds and nanoseconds since the Unix epoch; the zero time is
// left out (and reads back as the zero time). The location is not kept: times read back
// in UTC.
func appendTime(b []byte, tag uint64, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	v := binary.AppendVarint(nil, t.Unix())
	v = binary.AppendUvarint(v, uint64(t.Nanosecond()))
	return appendField(b, tag, v)
}

// DecodeEvent parses a record written by EncodeEvent. Times come back in UTC; an empty
// Reasons, Raw or Extra comes back nil. It returns an error wrapping errCorrupt when b is
// not a record.
func DecodeEvent(b []byte) (*mailtrail.Event, error) {
	e := &mailtrail.Event{}
	m := &e.Metadata
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, fmt.Errorf("%w: bad tag", errCorrupt)
		}
		b = b[n:]
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return nil, fmt.Errorf("%w: bad length of field %d", errCorrupt, tag)
		}
		v := b[n : n+int(l)]
		b = b[n+int(l):]
		var err error
		switch tag {
		case tagID:
			e.ID = string(v)
		case tagOrgID:
			e.OrgID = string(v)
		case tagCampaignID:
			e.CampaignID = string(v)
		case tagCustomerID:
			e.CustomerID = string(v)
		case tagCustomerEmail:
			e.CustomerEmail = string(v)
		case tagMessageID:
			e.MessageID = string(v)
		case tagType:
			var t uint64
			t, err = uvarint(v)
			if t > 255 {
				err = fmt.Errorf("%w: event type %d", errCorrupt, t)
			}
			e.Type = mailtrail.EventType(t)
		case tagOccurredAt:
			e.OccurredAt, err = decodeTime(v)
		case tagReceivedAt:
			e.ReceivedAt, err = decodeTime(v)
		case tagESPMessageID:
			e.ESPMessageID = string(v)
		case tagSource:
			e.Source = mailtrail.Source(v)
		case tagClassification:
			e.Classification = mailtrail.Classification(v)
		case tagReason:
			e.Reasons = append(e.Reasons, string(v))
		case tagDedupeKey:
			e.DedupeKey = string(v)
		case tagSharedMessage:
			e.SharedMessage, err = decodeBool(v)
		case tagESPMessageIDAlt:
			e.ESPMessageIDAlt = string(v)
		case tagCounted:
			e.Counted, err = decodeBool(v)
		case tagBeforeSend:
			e.BeforeSend, err = decodeBool(v)
		case tagLinkURL:
			m.LinkURL = string(v)
		case tagLinkIndex:
			x, n := binary.Varint(v)
			if n != len(v) || n == 0 || int64(int(x)) != x {
				err = fmt.Errorf("%w: link index", errCorrupt)
			}
			i := int(x)
			m.LinkIndex = &i
		case tagBounceType:
			m.BounceType = mailtrail.BounceType(v)
		case tagSMTPCode:
			m.SMTPCode = string(v)
		case tagReasonText:
			m.Reason = string(v)
		case tagFeedbackType:
			m.FeedbackType = string(v)
		case tagUserAgent:
			m.UserAgent = string(v)
		case tagIP:
			m.IP = string(v)
		case tagClient:
			m.Client = string(v)
		case tagDevice:
			m.Device = string(v)
		case tagCountry:
			m.Country = string(v)
		case tagCity:
			m.City = string(v)
		case tagVendor:
			m.Vendor = string(v)
		case tagVendorEventID:
			m.VendorEventID = string(v)
		case tagMethod:
			m.Method = string(v)
		case tagJourneyID:
			m.JourneyID = string(v)
		case tagStepID:
			m.StepID = string(v)
		case tagTopic:
			m.Topic = string(v)
		case tagRaw:
			m.Raw = append([]byte(nil), v...)
		case tagExtra:
			if jerr := json.Unmarshal(v, &m.Extra); jerr != nil {
				err = fmt.Errorf("%w: metadata extra: %v", errCorrupt, jerr)
			}
		default:
			// A field of a later writer: skipped, as the format promises.
		}
		if err != nil {
			return nil, err
		}
	}
	return e, nil
}

func uvarint(v []byte) (uint64, error) {
	x, n := binary.Uvarint(v)
	if n <= 0 || n != len(v) {
		return 0, fmt.Errorf("%w: bad integer", errCorrupt)
	}
	return x, nil
}

func decodeBool(v []byte) (bool, error) {
	if len(v) != 1 || v[0] != 1 {
		return false, fmt.Errorf("%w: bad boolean", errCorrupt)
	}
	return true, nil
}

func decodeTime(v []byte) (time.Time, error) {
	sec, n := binary.Varint(v)
	if n <= 0 {
		return time.Time{}, fmt.Errorf("%w: bad time", errCorrupt)
	}
	nsec, m := binary.Uvarint(v[n:])
	if m <= 0 || n+m != len(v) || nsec >= 1e9 {
		return time.Time{}, fmt.Errorf("%w: bad time", errCorrupt)
	}
	t := time.Unix(sec, int64(nsec)).UTC()
	if t.IsZero() {
		// The zero time is never written; a record that holds it is not ours.
		return time.Time{}, fmt.Errorf("%w: zero time written", errCorrupt)
	}
	return t, nil
}

// groupAppend is one append inside a group message: its id (may be empty) and how many
// records it holds.
type groupAppend struct {
	id string
	n  int
}

// appendGroupHeader starts a group message: the version and the appends it carries. The
// records follow, each as a length and its bytes (appendGroupRecord).
func appendGroupHeader(b []byte, appends []groupAppend) []byte {
	b = append(b, groupVersion)
	b = binary.AppendUvarint(b, uint64(len(appends)))
	for _, a := range appends {
		b = binary.AppendUvarint(b, uint64(len(a.id)))
		b = append(b, a.id...)
		b = binary.AppendUvarint(b, uint64(a.n))
	}
	return b
}

func appendGroupRecord(b, rec []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(rec)))
	return append(b, rec...)
}

// decodeGroupHeader reads a group message's appends and returns them with the bytes of
// the records that follow. It returns an error wrapping errCorrupt on a malformed header
// or an unknown version.
func decodeGroupHeader(b []byte) ([]groupAppend, []byte, error) {
	if len(b) == 0 {
		return nil, nil, fmt.Errorf("%w: empty message", errCorrupt)
	}
	if b[0] != groupVersion {
		return nil, nil, fmt.Errorf("%w: unknown format version %d", errCorrupt, b[0])
	}
	b = b[1:]
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)) {
		return nil, nil, fmt.Errorf("%w: bad append count", errCorrupt)
	}
	b = b[n:]
	appends := make([]groupAppend, 0, count)
	for range count {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return nil, nil, fmt.Errorf("%w: bad append id", errCorrupt)
		}
		id := string(b[n : n+int(l)])
		b = b[n+int(l):]
		c, n := binary.Uvarint(b)
		if n <= 0 || c > uint64(len(b)) {
			return nil, nil, fmt.Errorf("%w: bad record count", errCorrupt)
		}
		b = b[n:]
		appends = append(appends, groupAppend{id: id, n: int(c)})
	}
	return appends, b, nil
}

// decodeGroupRecords splits the records part of a group message into its records (views
// into b, not copies), checking that they number want.
func decodeGroupRecords(b []byte, want int) ([][]byte, error) {
	recs := make([][]byte, 0, want)
	for len(b) > 0 {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return nil, fmt.Errorf("%w: bad record length", errCorrupt)
		}
		recs = append(recs, b[n:n+int(l)])
		b = b[n+int(l):]
	}
	if len(recs) != want {
		return nil, fmt.Errorf("%w: %d records, the header says %d", errCorrupt, len(recs), want)
	}
	return recs, nil
}
