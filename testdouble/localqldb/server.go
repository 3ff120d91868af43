// Package localqldb is a local stand-in for Amazon QLDB's session service:
// an HTTP server that speaks QLDBSession.SendCommand over AWS JSON 1.0, as
// the real service does, so the official driver and the AWS SDK run against
// it unchanged. It checks every request's Signature Version 4, keeps
// documents as Ion with every revision, checks commit digests, optimistic
// concurrency and QLDB's quotas as QLDB does, runs a subset of PartiQL with
// PartiQL's semantics (refusing the rest, never guessing), redacts
// revisions, and injects faults on demand.
//
// It backs the handler's tests and `go run ./cmd/localqldb`.
package localqldb

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"sync"
	"time"
)

// Options configures a Server.
type Options struct {
	// LedgerName is the only ledger the server has.
	LedgerName string
	// PageSize is how many values a result page holds; 0 means 200.
	PageSize int
	// Now is the clock for transaction times; nil means time.Now.
	Now func() time.Time
	// Seed seeds the randomness of probabilistic faults.
	Seed int64
	// RedactionDelay is how long a redaction takes to complete after its
	// transaction commits (QLDB redacts asynchronously); 0 completes it at
	// commit.
	RedactionDelay time.Duration
	// SessionLifetime is how long a session lives; 0 means 15 minutes
	// (QLDB discards sessions after 13 to 17).
	SessionLifetime time.Duration
}

// Server is the local session service. Use it as an http.Handler.
type Server struct {
	ledger   *ledger
	now      func() time.Time
	lifetime time.Duration
	pageSize int

	mu       sync.Mutex
	sessions map[string]*session
	calls    map[string]int
	faults   []*Fault
	rand     *rand.Rand
}

type session struct {
	started time.Time
	txn     *txn
	pages   map[string][][]byte // page token → the values after it
}

// New returns a Server with an empty ledger.
func New(opts Options) *Server {
	if opts.PageSize <= 0 {
		opts.PageSize = 200
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SessionLifetime <= 0 {
		opts.SessionLifetime = 15 * time.Minute
	}
	return &Server{
		ledger:   newLedger(opts.LedgerName, opts.Now, opts.RedactionDelay),
		now:      opts.Now,
		lifetime: opts.SessionLifetime,
		pageSize: opts.PageSize,
		sessions: map[string]*session{},
		calls:    map[string]int{},
		rand:     rand.New(rand.NewSource(opts.Seed)), //nolint:gosec // G404: seeded on purpose, so faults repeat run to run
	}
}

// Calls returns how many SendCommand calls of each kind the server has
// answered (StartTransaction, ExecuteStatement, …) and their "Total".
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// ResetCalls sets every call count to zero.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	s.calls = map[string]int{}
	s.mu.Unlock()
}

// request is the body of QLDBSession.SendCommand; exactly one command is set.
type request struct {
	SessionToken      *string
	StartSession      *struct{ LedgerName string }
	StartTransaction  *struct{}
	EndSession        *struct{}
	AbortTransaction  *struct{}
	CommitTransaction *struct {
		TransactionId string
		CommitDigest  []byte
	}
	ExecuteStatement *struct {
		TransactionId string
		Statement     string
		Parameters    []valueHolder
	}
	FetchPage *struct {
		TransactionId string
		NextPageToken string
	}
}

type valueHolder struct {
	IonBinary []byte `json:",omitempty"`
	IonText   string `json:",omitempty"`
}

type page struct {
	Values        []valueHolder
	NextPageToken *string `json:",omitempty"`
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "QLDBSession.SendCommand" {
		writeError(w, badRequest("unsupported operation %q", r.Header.Get("X-Amz-Target")))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		writeError(w, badRequest("read request: %v", err))
		return
	}
	if err := verifySignature(r, body); err != nil {
		writeError(w, err)
		return
	}
	var req request
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, badRequest("request is not JSON: %v", err))
		return
	}
	resp, err := s.dispatch(&req)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(resp) // the client went away: nobody to tell
}

// command names the one command in req.
func (req *request) command() string {
	switch {
	case req.StartSession != nil:
		return "StartSession"
	case req.StartTransaction != nil:
		return "StartTransaction"
	case req.ExecuteStatement != nil:
		return "ExecuteStatement"
	case req.FetchPage != nil:
		return "FetchPage"
	case req.CommitTransaction != nil:
		return "CommitTransaction"
	case req.AbortTransaction != nil:
		return "AbortTransaction"
	case req.EndSession != nil:
		return "EndSession"
	}
	return ""
}

func (s *Server) dispatch(req *request) (map[string]any, error) {
	cmd := req.command()
	if cmd == "" {
		return nil, badRequest("no command in request")
	}
	s.mu.Lock()
	s.calls[cmd]++
	s.calls["Total"]++
	s.mu.Unlock()
	if err := s.fault(cmd, req); err != nil {
		return nil, err
	}

	if cmd == "StartSession" {
		if req.StartSession.LedgerName != s.ledger.name {
			return nil, badRequest("Ledger %s does not exist", req.StartSession.LedgerName)
		}
		token := newID()
		s.mu.Lock()
		if len(s.sessions) >= maxSessions {
			s.mu.Unlock()
			return nil, limitExceeded("The ledger has %d active sessions: at most %d", maxSessions, maxSessions)
		}
		s.sessions[token] = &session{started: s.now(), pages: map[string][][]byte{}}
		s.mu.Unlock()
		return map[string]any{cmd: map[string]any{"SessionToken": token}}, nil
	}
	if req.SessionToken == nil {
		return nil, badRequest("no session token")
	}
	s.mu.Lock()
	sess := s.sessions[*req.SessionToken]
	s.mu.Unlock()
	if sess == nil {
		return nil, &apiError{Type: "InvalidSessionException", Status: http.StatusBadRequest, Message: "No such session"}
	}
	if s.now().Sub(sess.started) > s.lifetime {
		s.endSession(*req.SessionToken)
		return nil, &apiError{Type: "InvalidSessionException", Status: http.StatusBadRequest, Message: fmt.Sprintf("Session %s has expired", *req.SessionToken)}
	}

	switch cmd {
	case "StartTransaction":
		t, err := s.ledger.begin()
		if err != nil {
			return nil, err
		}
		sess.txn, sess.pages = t, map[string][][]byte{}
		return map[string]any{cmd: map[string]any{"TransactionId": t.id}}, nil

	case "ExecuteStatement":
		x := req.ExecuteStatement
		t, err := sess.open(x.TransactionId)
		if err != nil {
			return nil, err
		}
		params := make([]param, len(x.Parameters))
		for i, p := range x.Parameters {
			params[i] = param{binary: p.IonBinary, text: p.IonText}
		}
		values, err := s.ledger.execute(t, x.Statement, params)
		if err != nil {
			return nil, s.failTransaction(*req.SessionToken, err)
		}
		return map[string]any{cmd: map[string]any{"FirstPage": s.page(sess, values)}}, nil

	case "FetchPage":
		x := req.FetchPage
		t, err := sess.open(x.TransactionId)
		if err != nil {
			return nil, err
		}
		if err := s.ledger.expired(t); err != nil {
			return nil, s.failTransaction(*req.SessionToken, err)
		}
		values, ok := sess.pages[x.NextPageToken]
		if !ok {
			return nil, badRequest("unknown page token")
		}
		delete(sess.pages, x.NextPageToken)
		return map[string]any{cmd: map[string]any{"Page": s.page(sess, values)}}, nil

	case "CommitTransaction":
		x := req.CommitTransaction
		t, err := sess.open(x.TransactionId)
		if err != nil {
			return nil, err
		}
		sess.txn = nil
		if !t.digest.equal(x.CommitDigest) {
			return nil, badRequest("Transaction %s: Digests don't match", t.id)
		}
		if err := s.ledger.commit(t); err != nil {
			var occ errOCC
			if errors.As(err, &occ) {
				return nil, &apiError{Type: "OccConflictException", Status: http.StatusBadRequest, Message: occ.Error()}
			}
			return nil, s.failTransaction(*req.SessionToken, err)
		}
		return map[string]any{cmd: map[string]any{"TransactionId": t.id, "CommitDigest": t.digest.sum}}, nil

	case "AbortTransaction":
		sess.txn = nil
		return map[string]any{cmd: map[string]any{}}, nil

	case "EndSession":
		s.endSession(*req.SessionToken)
		return map[string]any{cmd: map[string]any{}}, nil
	}
	return nil, badRequest("unsupported command %s", cmd)
}

func (s *Server) endSession(token string) {
	s.mu.Lock()
	delete(s.sessions, token)
	s.mu.Unlock()
}

// failTransaction is what an error does to the session: an expired
// transaction takes its session with it, as QLDB discards it.
func (s *Server) failTransaction(token string, err error) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.Type == "InvalidSessionException" {
		s.endSession(token)
	}
	return err
}

// open returns the session's open transaction if it is id.
func (sess *session) open(id string) (*txn, error) {
	if sess.txn == nil || sess.txn.id != id {
		return nil, badRequest("Transaction %s is not open in this session", id)
	}
	return sess.txn, nil
}

// page returns the first page of values, keeping the rest for FetchPage.
func (s *Server) page(sess *session, values [][]byte) page {
	n := min(len(values), s.pageSize)
	p := page{Values: make([]valueHolder, n)}
	for i := range n {
		p.Values[i] = valueHolder{IonBinary: values[i]}
	}
	if rest := values[n:]; len(rest) > 0 {
		token := newID()
		sess.pages[token] = rest
		p.NextPageToken = &token
	}
	return p
}

// apiError is an error the service answers with: AWS JSON 1.0's __type and
// message, with an HTTP status.
type apiError struct {
	Type    string
	Status  int
	Message string
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func badRequest(format string, args ...any) error {
	return &apiError{Type: "BadRequestException", Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{Type: "InternalFailure", Status: http.StatusInternalServerError, Message: err.Error()}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-ErrorType", ae.Type)
	w.WriteHeader(ae.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.qldbsession#" + ae.Type, "message": ae.Message, "Message": ae.Message})
}

// DocumentBytes is the size in Ion binary of the committed document with
// id in table, as QLDB measures a document against its 128 KB limit.
func (s *Server) DocumentBytes(table, id string) (int, error) {
	l := s.ledger
	l.mu.Lock()
	defer l.mu.Unlock()
	tab, err := l.table(table)
	if err != nil {
		return 0, err
	}
	doc, ok := tab.docs[id]
	if !ok || doc.current() == nil {
		return 0, fmt.Errorf("no document %s in %s", id, table)
	}
	b, err := doc.current().binary()
	if err != nil {
		return 0, err
	}
	return len(b), nil
}
