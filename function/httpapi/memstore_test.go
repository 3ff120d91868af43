package httpapi_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/privateledger/licences/function/licence"
)

// memStore is an instant licence.Store and licence.Eraser for measuring
// and fuzzing the HTTP layer alone, with the ledger taken out of the
// picture. It keeps the current licences only.
type memStore struct {
	mu   sync.Mutex
	next int
	byID map[string]licence.Licence
	gone map[string]bool
}

func newMemStore() *memStore {
	return &memStore{byID: map[string]licence.Licence{}, gone: map[string]bool{}}
}

func (m *memStore) Create(_ context.Context, l licence.Licence, _ licence.IdempotencyKey) (licence.Licence, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	l.ID = fmt.Sprintf("%022d", m.next)
	m.byID[l.ID] = l
	return l, false, nil
}

func (m *memStore) Get(_ context.Context, id string) (licence.Licence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.byID[id]
	if !ok {
		return licence.Licence{}, licence.ErrNotFound
	}
	return l, nil
}

func (m *memStore) Update(_ context.Context, id string, change func(*licence.Licence)) (licence.Licence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.byID[id]
	if !ok {
		return licence.Licence{}, licence.ErrNotFound
	}
	change(&l)
	m.byID[id] = l
	return l, nil
}

func (m *memStore) Delete(_ context.Context, id string, _ licence.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[id]; !ok {
		return licence.ErrNotFound
	}
	delete(m.byID, id)
	m.gone[id] = true
	return nil
}

func (m *memStore) History(_ context.Context, id string, from, _ int) (licence.HistoryPage, error) {
	l, err := m.Get(context.Background(), id)
	if err != nil {
		return licence.HistoryPage{}, err
	}
	if from > 0 {
		return licence.HistoryPage{Revisions: []licence.Revision{}}, nil
	}
	e := l.LastEvent
	l.LastEvent = nil
	return licence.HistoryPage{Revisions: []licence.Revision{{Version: 0, TransactionID: "tx", Licence: &l, Event: e, Actor: &e.Actor}}}, nil
}

func (m *memStore) Erase(_ context.Context, id string, e licence.Erasure) (licence.ErasureResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.byID[id].ID != "":
		return licence.ErasureResult{}, licence.ErrStillLive
	case !m.gone[id]:
		return licence.ErasureResult{}, licence.ErrNotFound
	}
	return licence.ErasureResult{Erasure: e, Revisions: 1}, nil
}
