package httpapi_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/privateledger/licences/function/licence"
)

// memStore is an instant licence.Store for measuring and fuzzing the HTTP
// layer alone, with the ledger taken out of the picture.
type memStore struct {
	mu   sync.Mutex
	next int
	byID map[string]licence.Licence
}

func newMemStore() *memStore { return &memStore{byID: map[string]licence.Licence{}} }

func (m *memStore) Create(_ context.Context, l licence.Licence, _ string) (licence.Licence, bool, error) {
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

func (m *memStore) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[id]; !ok {
		return licence.ErrNotFound
	}
	delete(m.byID, id)
	return nil
}

func (m *memStore) History(_ context.Context, id string) ([]licence.Revision, error) {
	l, err := m.Get(context.Background(), id)
	if err != nil {
		return nil, err
	}
	return []licence.Revision{{Version: 0, TransactionID: "tx", Licence: &l}}, nil
}
