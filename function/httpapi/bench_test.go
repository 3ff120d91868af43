package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/privateledger/licences/function/httpapi"
)

// benchRoutes runs each route through the Lambda adapter, as a warm
// function serves it, on the handler h.
func benchRoutes(b *testing.B, h http.Handler) {
	adapter := httpadapter.New(h)
	ctx := context.Background()
	call := func(method, path, body string) events.APIGatewayProxyResponse {
		res, err := adapter.ProxyWithContext(ctx, events.APIGatewayProxyRequest{
			HTTPMethod: method, Path: path, Body: body,
			MultiValueHeaders: map[string][]string{"Content-Type": {"application/json"}},
			RequestContext:    events.APIGatewayProxyRequestContext{Identity: events.APIGatewayRequestIdentity{UserArn: clerk.Principal}},
		})
		if err != nil || res.StatusCode >= 300 {
			b.Fatalf("%s %s: %d %s %v", method, path, res.StatusCode, res.Body, err)
		}
		return res
	}
	n := 0
	// fresh creates a licence with a few changes behind it, the size a
	// real one has, so documents do not grow with the benchmark.
	fresh := func() string {
		n++
		var l struct{ ID string }
		if err := json.Unmarshal([]byte(call("POST", "/licences", fmt.Sprintf(`{"firstName":"Jo","lastName":"Bloggs","email":"fresh%d@example.com","telephone":"07700900123","postcode":"SW1A 1AA"}`, n)).Body), &l); err != nil {
			b.Fatal(err)
		}
		call("POST", "/licences/"+l.ID+"/penalty-points", `{"points":3,"reason":"speeding"}`)
		call("PUT", "/licences/"+l.ID+"/contact", `{"postcode":"EC1A 1BB"}`)
		return l.ID
	}
	id := fresh()
	b.Run("create", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n++
			call("POST", "/licences", fmt.Sprintf(`{"firstName":"Jo","lastName":"Bloggs","email":"jo%d@example.com","telephone":"07700900123","postcode":"SW1A 1AA"}`, n))
		}
	})
	b.Run("get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			call("GET", "/licences/"+id, "")
		}
	})
	b.Run("contact", func(b *testing.B) {
		b.ReportAllocs()
		target, i := fresh(), 0
		for b.Loop() {
			if i++; i%8 == 0 {
				b.StopTimer()
				target = fresh()
				b.StartTimer()
			}
			call("PUT", "/licences/"+target+"/contact", `{"postcode":"EC1A 1BB"}`)
		}
	})
	b.Run("history", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			call("GET", "/licences/"+id+"/history", "")
		}
	})
}

// BenchmarkHandler is the handler's own cost per request, the ledger taken
// out: routing, decoding, validation, encoding and the Lambda adapter.
func BenchmarkHandler(b *testing.B) {
	store := newMemStore()
	benchRoutes(b, httpapi.New(store, store, httpapi.Options{CORSAllowOrigin: "*", Logger: quiet}))
}

// BenchmarkEndToEnd adds the store: for QLDB the driver and the AWS SDK
// talking to the local ledger in the same process over loopback, for
// PostgreSQL pgx talking to a local server.
func BenchmarkEndToEnd(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			l := be.open(b)
			benchRoutes(b, httpapi.New(l.store, l.eraser, httpapi.Options{CORSAllowOrigin: "*", Logger: quiet}))
		})
	}
}
