package dashboard

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// session is one signed-in browser. Sessions live in memory: a restart signs everyone
// out, and they are not shared between processes (fine for the one-binary deployment).
type session struct {
	orgID string // the organization shown; empty for an admin who has not chosen one
	admin bool   // signed in with the admin token: may switch organizations
	// key is the API key the session signed in with (kept in memory only). Every request
	// checks it again, so revoking the key ends the session at its next request.
	key     string
	csrf    string // the token every form and fetch() of the session must carry
	expires time.Time
}

// sessions maps random 32-byte ids (base64url, the cookie's value) to sessions.
type sessions struct {
	mu  sync.Mutex
	m   map[string]*session
	ttl time.Duration
	now func() time.Time
}

func newSessions(ttl time.Duration, now func() time.Time) *sessions {
	return &sessions{m: map[string]*session{}, ttl: ttl, now: now}
}

// randomToken returns 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("dashboard: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session and returns its id. Expired sessions are swept on the way.
func (s *sessions) create(orgID, key string, admin bool) (string, *session) {
	id := randomToken()
	now := s.now()
	ss := &session{orgID: orgID, key: key, admin: admin, csrf: randomToken(), expires: now.Add(s.ttl)}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.m {
		if now.After(v.expires) {
			delete(s.m, k)
		}
	}
	s.m[id] = ss
	return id, ss
}

// get returns a copy of the live session of id, or nil.
func (s *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.m[id]
	if !ok {
		return nil
	}
	if s.now().After(ss.expires) {
		delete(s.m, id)
		return nil
	}
	c := *ss
	return &c
}

// setOrg changes the organization a session shows (admin switching).
func (s *sessions) setOrg(id, orgID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss, ok := s.m[id]; ok {
		ss.orgID = orgID
	}
}

func (s *sessions) delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// tokenEqual compares two tokens in constant time; an empty token never matches.
func tokenEqual(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
