package client_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

const millisecond = time.Millisecond

// newServer serves h for the test.
func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
