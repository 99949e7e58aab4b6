package mailtrail

import (
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// SavedSegment is a segment rule an organization saved under a name.
type SavedSegment struct {
	Name      string          `json:"name"`
	Rule      json.RawMessage `json:"rule"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// Limits of saved segments.
const (
	MaxSegmentName    = 100  // characters of a saved segment's name
	MaxSavedSegments  = 1000 // saved segments of one organization
	MaxSavedRuleBytes = 64 << 10
)

// CheckSegmentName returns the name trimmed of spaces, or EINVALID when it is empty, longer
// than MaxSegmentName characters, or holds a slash or a control character (names are path
// segments of the API).
func CheckSegmentName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > MaxSegmentName || !utf8.ValidString(name) {
		return "", Errorf(EINVALID, "name: 1 to %d characters", MaxSegmentName)
	}
	for _, r := range name {
		if r == '/' || r == '\\' || unicode.IsControl(r) {
			return "", Errorf(EINVALID, "name: no slash or control character")
		}
	}
	return name, nil
}
