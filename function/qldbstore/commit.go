package qldbstore

import (
	"context"
	"sync"
	"time"

	"github.com/awslabs/amazon-qldb-driver-go/v3/qldbdriver"

	"github.com/privateledger/licences/function/licence"
)

// commitGuard is the context a transaction runs under: it ends with the
// request's context, except while the driver is committing. The driver
// commits as soon as the transaction's function returns; if the request's
// deadline then cut the CommitTransaction call short, the client would hear
// 503 about a change QLDB may have committed, and send it again. So once
// the function has returned, the request's end only starts a wait of
// licence.CommitWait for the commit's answer.
//
// If the commit fails and the driver runs the function again (an OCC
// conflict), the attempt starts only while the request still has time.
type commitGuard struct {
	ctx     context.Context // what the driver runs under
	request context.Context
	cancel  context.CancelFunc
	stop    func() bool

	mu         sync.Mutex
	committing bool
	wait       *time.Timer // the wait for a commit after the request ended
}

func guardCommits(request context.Context) *commitGuard {
	ctx, cancel := context.WithCancel(context.WithoutCancel(request))
	g := &commitGuard{ctx: ctx, request: request, cancel: cancel}
	g.stop = context.AfterFunc(request, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.committing {
			g.wait = time.AfterFunc(licence.CommitWait, cancel)
			return
		}
		cancel()
	})
	return g
}

// attempt wraps the transaction's function: it runs only while the request
// has time, and a success hands over to the commit.
func (g *commitGuard) attempt(fn func(txn qldbdriver.Transaction) (any, error)) func(txn qldbdriver.Transaction) (any, error) {
	return func(txn qldbdriver.Transaction) (any, error) {
		g.mu.Lock()
		g.committing = false
		err := g.request.Err()
		g.mu.Unlock()
		if err != nil {
			g.cancel()
			return nil, err
		}
		out, err := fn(txn)
		if err == nil {
			g.mu.Lock()
			g.committing = g.request.Err() == nil
			g.mu.Unlock()
			if !g.committing {
				// The request ended while the function ran: do not commit.
				g.cancel()
				return nil, g.request.Err()
			}
		}
		return out, err
	}
}

// release frees the guard once the driver has returned. It does not
// cancel the driver's context after a call that finished: with that
// cancel, a CI run once saw a later history read fail with "use of closed
// network connection" (the SDK's connections may still be settling a
// finished response), and the context holds nothing that needs freeing.
func (g *commitGuard) release() {
	g.stop()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.wait != nil {
		g.wait.Stop()
	}
}
