package mailtrail

import (
	"errors"
	"fmt"
)

// Error codes. They are stable: clients match on them.
const (
	EINVALID      = "invalid"      // bad input; nothing was changed
	ENOTFOUND     = "not_found"    // no such thing in this organization
	ECONFLICT     = "conflict"     // the thing exists already
	EUNAUTHORIZED = "unauthorized" // missing or wrong credentials
	EFORBIDDEN    = "forbidden"    // credentials valid, action not allowed
	ETOOLARGE     = "too_large"    // request body over the limit
	EUNAVAILABLE  = "unavailable"  // not durable now; retry later
	EINTERNAL     = "internal"     // a bug or an I/O failure; details are logged, not shown
)

// Error is an error a user may see: a stable code and a message that says what to fix.
// Details, when set, carry per-item errors of a batch.
type Error struct {
	Code    string      `json:"code"`
	Message string      `json:"message"`
	Details []ItemError `json:"details,omitempty"`
}

// ItemError is the error of one item of a batch, by its position.
type ItemError struct {
	Index   int    `json:"index"`
	Field   string `json:"field,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("mailtrail: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err's *Error, EINTERNAL for any other error, "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err, hiding internal details.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
