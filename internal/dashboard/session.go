package dashboard

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail"
)

// session is one signed-in browser. Sessions live in memory: a restart signs everyone
// out, and they are not shared between processes (fine for the one-binary deployment).
// With Options.Sessions they live in that store instead, where every API node of the
// cluster mode finds them (see sessions).
type session struct {
	orgID string // the organization shown; empty for an admin who has not chosen one
	admin bool   // signed in with the admin token: may switch organizations
	// key is the API key the session signed in with. Every request checks it again, so
	// revoking the key ends the session at its next request.
	key     string
	csrf    string // the token every form and fetch() of the session must carry
	expires time.Time
}

// SessionStore keeps the dashboard's sessions where every process serving the dashboard
// finds them (the cluster's PostgreSQL). It holds opaque rows: the id is a hash of the
// session's cookie and the data is sealed under a key drawn from the cookie, so the
// store alone reveals neither a session nor the API key it signed in with.
type SessionStore interface {
	// PutSession stores or replaces the session of id until expires (and may remove
	// sessions expired before now).
	PutSession(ctx context.Context, id, data []byte, expires, now time.Time) error
	// GetSession returns the session of id and its expiry; ENOTFOUND when there is none.
	GetSession(ctx context.Context, id []byte) (data []byte, expires time.Time, err error)
	// DeleteSession removes the session of id (none is not an error).
	DeleteSession(ctx context.Context, id []byte) error
}

// sessions maps random 32-byte ids (base64url, the cookie's value) to sessions: in
// memory, or in store when it is set.
type sessions struct {
	mu    sync.Mutex
	m     map[string]*session
	ttl   time.Duration
	now   func() time.Time
	store SessionStore
}

func newSessions(ttl time.Duration, now func() time.Time, store SessionStore) *sessions {
	return &sessions{m: map[string]*session{}, ttl: ttl, now: now, store: store}
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
func (s *sessions) create(ctx context.Context, orgID, key string, admin bool) (string, *session, error) {
	id := randomToken()
	now := s.now()
	ss := &session{orgID: orgID, key: key, admin: admin, csrf: randomToken(), expires: now.Add(s.ttl)}
	if s.store != nil {
		if err := s.put(ctx, id, ss); err != nil {
			return "", nil, err
		}
		return id, ss, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.m {
		if now.After(v.expires) {
			delete(s.m, k)
		}
	}
	s.m[id] = ss
	return id, ss, nil
}

// get returns a copy of the live session of id, or nil.
func (s *sessions) get(ctx context.Context, id string) (*session, error) {
	if id == "" {
		return nil, nil
	}
	if s.store != nil {
		data, expires, err := s.store.GetSession(ctx, sessionKey(id))
		if mailtrail.ErrorCode(err) == mailtrail.ENOTFOUND {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if s.now().After(expires) {
			return nil, nil
		}
		ss, ok := openSession(id, data)
		if !ok { // not sealed under this cookie: not its session
			return nil, nil
		}
		ss.expires = expires
		return ss, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.m[id]
	if !ok {
		return nil, nil
	}
	if s.now().After(ss.expires) {
		delete(s.m, id)
		return nil, nil
	}
	c := *ss
	return &c, nil
}

// setOrg changes the organization a session shows (admin switching).
func (s *sessions) setOrg(ctx context.Context, id, orgID string) error {
	if s.store != nil {
		ss, err := s.get(ctx, id)
		if err != nil || ss == nil {
			return err
		}
		ss.orgID = orgID
		return s.put(ctx, id, ss)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss, ok := s.m[id]; ok {
		ss.orgID = orgID
	}
	return nil
}

func (s *sessions) delete(ctx context.Context, id string) error {
	if s.store != nil {
		return s.store.DeleteSession(ctx, sessionKey(id))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
	return nil
}

// put seals ss under id and stores it.
func (s *sessions) put(ctx context.Context, id string, ss *session) error {
	return s.store.PutSession(ctx, sessionKey(id), sealSession(id, ss), ss.expires, s.now())
}

// sealedSession is a session as it is sealed for a SessionStore.
type sealedSession struct {
	Org   string `json:"o,omitempty"`
	Admin bool   `json:"a,omitempty"`
	Key   string `json:"k,omitempty"`
	CSRF  string `json:"c"`
}

// sessionKey is the store's id of the session of cookie id: a hash, so that the store
// cannot give a session's cookie away.
func sessionKey(id string) []byte {
	h := sha256.Sum256([]byte("mailtrail dashboard session id\x00" + id))
	return h[:]
}

// sessionAEAD is the cipher a session is sealed with: AES-256-GCM under a key drawn from
// its cookie, which only the browser holds.
func sessionAEAD(id string) cipher.AEAD {
	m := hmac.New(sha256.New, []byte(id))
	m.Write([]byte("mailtrail dashboard session seal"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		panic("dashboard: " + err.Error()) // a 32-byte key never fails
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("dashboard: " + err.Error())
	}
	return aead
}

// sealSession returns ss sealed under id: a random nonce, then the ciphertext.
func sealSession(id string, ss *session) []byte {
	plain, _ := json.Marshal(sealedSession{Org: ss.orgID, Admin: ss.admin, Key: ss.key, CSRF: ss.csrf})
	aead := sessionAEAD(id)
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("dashboard: no randomness: " + err.Error())
	}
	return aead.Seal(nonce, nonce, plain, sessionKey(id))
}

// openSession opens what sealSession sealed under id; false when it does not open.
func openSession(id string, data []byte) (*session, bool) {
	aead := sessionAEAD(id)
	if len(data) < aead.NonceSize() {
		return nil, false
	}
	plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], sessionKey(id))
	if err != nil {
		return nil, false
	}
	var v sealedSession
	if json.Unmarshal(plain, &v) != nil {
		return nil, false
	}
	return &session{orgID: v.Org, admin: v.Admin, key: v.Key, csrf: v.CSRF}, true
}

// tokenEqual compares two tokens in constant time; an empty token never matches.
func tokenEqual(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
