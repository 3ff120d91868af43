package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"regexp"
	"strings"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

// MaxBodyBytes is the largest request body the API reads. Larger bodies are
// refused with 413 before any of them is parsed.
const MaxBodyBytes = 16 << 10

var (
	// keyPattern is what an Idempotency-Key may be: printable ASCII.
	keyPattern = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)
)

type requestIDKey struct{}

// withRequestID gives every request an id: API Gateway's when the request
// came through it, a random one otherwise.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := ""
		if gw, ok := core.GetAPIGatewayContextFromContext(r.Context()); ok {
			id = gw.RequestID
		}
		if id == "" {
			b := make([]byte, 8)
			rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey{}).(string)
	return id
}

// errBadBody is a request body that cannot be used; its message is safe to
// show the client.
type errBadBody struct {
	status int
	msg    string
}

func (e *errBadBody) Error() string { return e.msg }

// decode reads a JSON object of the request into v: JSON content only, the
// size bounded, no unknown fields, nothing after the object.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return &errBadBody{http.StatusUnsupportedMediaType, "send the body as application/json"}
	}
	if r.ContentLength > MaxBodyBytes {
		return &errBadBody{http.StatusRequestEntityTooLarge, fmt.Sprintf("the body may be at most %d bytes", MaxBodyBytes)}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		var netErr net.Error
		switch {
		case errors.As(err, &netErr) && netErr.Timeout():
			return &errBadBody{http.StatusRequestTimeout, "the body took too long to arrive"}
		case errors.As(err, &tooBig):
			return &errBadBody{http.StatusRequestEntityTooLarge, fmt.Sprintf("the body may be at most %d bytes", MaxBodyBytes)}
		case errors.Is(err, io.EOF):
			return &errBadBody{http.StatusBadRequest, "the body is empty: send a JSON object"}
		case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
			return &errBadBody{http.StatusBadRequest, "the body is not valid JSON"}
		case errors.As(err, &typ):
			return &errBadBody{http.StatusBadRequest, fmt.Sprintf("field %s must be a JSON %s", typ.Field, typ.Type.Kind())}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return &errBadBody{http.StatusBadRequest, "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")}
		}
		return &errBadBody{http.StatusBadRequest, "the body is not a JSON object of the expected shape"}
	}
	if dec.More() {
		return &errBadBody{http.StatusBadRequest, "the body holds more than one JSON value"}
	}
	return nil
}
