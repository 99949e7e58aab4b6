package eventlog

import (
	"fmt"
	"strings"
	"sync"
)

// serverLogger takes the embedded server's log: warnings and errors go to logf when set;
// the last error or fatal message is kept to explain a failed start. A fatal message
// never exits the process (the server's own logger would).
type serverLogger struct {
	logf func(format string, args ...any)
	mu   sync.Mutex
	last string
	// onStoreError, when set, is called when the server reports that it could not write
	// a message (a full or failing disk).
	onStoreError func()
}

// storeError reports whether a server error message says a write of the stream failed.
func storeError(msg string) bool {
	return strings.Contains(msg, "failed to store a msg") || strings.Contains(msg, "critical write error") ||
		strings.Contains(msg, "out of") && strings.Contains(msg, "resources")
}

func (s *serverLogger) keep(prefix, format string, v []any) {
	msg := fmt.Sprintf(format, v...)
	s.mu.Lock()
	s.last = msg
	s.mu.Unlock()
	if s.logf != nil {
		s.logf("eventlog: nats %s: %s", prefix, msg)
	}
	if s.onStoreError != nil && storeError(msg) {
		s.onStoreError()
	}
}

func (s *serverLogger) lastError() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == "" {
		return "no error logged"
	}
	return s.last
}

func (s *serverLogger) Noticef(string, ...any) {}
func (s *serverLogger) Debugf(string, ...any)  {}
func (s *serverLogger) Tracef(string, ...any)  {}
func (s *serverLogger) Warnf(format string, v ...any) {
	if s.logf != nil {
		s.logf("eventlog: nats warning: "+format, v...)
	}
}
func (s *serverLogger) Errorf(format string, v ...any) { s.keep("error", format, v) }
func (s *serverLogger) Fatalf(format string, v ...any) { s.keep("fatal", format, v) }
