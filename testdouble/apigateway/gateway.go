// Package apigateway stands in for the stack's REST API in front of the
// licence function: a stage's path, AWS_IAM authorisation that verifies
// each request's Signature Version 4 by signing it again with the AWS
// SDK's own signer, and the Lambda proxy integration that hands the
// function the request with the identity it authenticated. Refusals are
// the stack's gateway responses (infra/cors.go): 403 problem documents
// titled as API Gateway's response types, with AWS's own message as the
// detail.
//
// What it answers, and from where:
//   - no Authorization header, or a path outside the stage: 403
//     MISSING_AUTHENTICATION_TOKEN, "Missing Authentication Token" (API
//     Gateway answers both alike; "Gateway response types",
//     https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html);
//   - a signature scoped to another service or region, or one that does
//     not match: 403 INVALID_SIGNATURE, with AWS's messages for each
//     ("Troubleshoot signature mismatch", IAM User Guide,
//     https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html);
//   - an access key it was not given: it refuses loudly (500), for what
//     API Gateway answers then is not something it was told.
//
// It does not evaluate the resource policy or the caller's IAM policies
// (infra's tests hold those), nor check the signature's age.
package apigateway

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// Key is an access key the gateway knows: its secret, and the principal
// API Gateway reports for it (identity.userArn).
type Key struct {
	Secret    string
	Principal string
}

// Gateway is a stage of the API.
type Gateway struct {
	Region string
	Stage  string
	Keys   map[string]Key
	// Function is the function's handler; the gateway calls it through
	// the Lambda proxy adapter, as Lambda does.
	Function http.Handler
}

// service is the name API Gateway's AWS_IAM authorisation verifies under.
const service = "execute-api"

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20)) // API Gateway's payload quota is 10 MB
	if err != nil {
		http.Error(w, "read the body: "+err.Error(), http.StatusBadRequest)
		return
	}
	path, inStage := strings.CutPrefix(r.URL.Path, "/"+g.Stage)
	if !inStage || (path != "" && !strings.HasPrefix(path, "/")) {
		refuse(w, "Missing authentication", "Missing Authentication Token")
		return
	}
	principal, status, title, msg := g.authenticate(r, body)
	switch {
	case status == http.StatusInternalServerError:
		http.Error(w, msg, status)
		return
	case status != 0:
		refuse(w, title, msg)
		return
	}
	g.invoke(w, r, path, body, principal)
}

// authenticate verifies r's signature; it returns the principal, or the
// status, title and message of the refusal.
func (g *Gateway) authenticate(r *http.Request, body []byte) (principal string, status int, title, msg string) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return "", http.StatusForbidden, "Missing authentication", "Missing Authentication Token"
	}
	auth, ok := parse(header)
	if !ok {
		return "", http.StatusForbidden, "Invalid signature", "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters."
	}
	key, known := g.Keys[auth.accessKey]
	switch {
	case !known:
		return "", http.StatusInternalServerError, "", "the stand-in API Gateway was not told what AWS answers for access key " + auth.accessKey
	case auth.service != service:
		return "", http.StatusForbidden, "Invalid signature", "Credential should be scoped to correct service: '" + service + "'. "
	case auth.region != g.Region:
		return "", http.StatusForbidden, "Invalid signature", "Credential should be scoped to a valid region. "
	}
	if !g.verify(r, body, auth, key) {
		return "", http.StatusForbidden, "Invalid signature", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."
	}
	return key.Principal, 0, "", ""
}

// verify signs a copy of r holding only the headers its client signed,
// at the time it says it signed, with the SDK's signer and the key's
// secret, and compares the signatures.
func (g *Gateway) verify(r *http.Request, body []byte, auth authorization, key Key) bool {
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return false
	}
	u := url.URL{Scheme: "https", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	again, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), http.NoBody)
	if err != nil {
		return false
	}
	for _, h := range auth.signedHeaders {
		switch h {
		case "host":
		case "content-length":
			again.ContentLength = int64(len(body))
		default:
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	creds := aws.Credentials{AccessKeyID: auth.accessKey, SecretAccessKey: key.Secret, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, again, payloadHash(body), service, g.Region, at); err != nil {
		return false
	}
	mine, ok := parse(again.Header.Get("Authorization"))
	return ok && strings.Join(mine.signedHeaders, ";") == strings.Join(auth.signedHeaders, ";") &&
		hmac.Equal([]byte(mine.signature), []byte(auth.signature))
}

// invoke hands the function a proxy event, as the Lambda proxy
// integration does, with the principal that signed.
func (g *Gateway) invoke(w http.ResponseWriter, r *http.Request, path string, body []byte, principal string) {
	ev := events.APIGatewayProxyRequest{
		HTTPMethod:                      r.Method,
		Path:                            path,
		Resource:                        path,
		Headers:                         map[string]string{},
		MultiValueHeaders:               map[string][]string{},
		MultiValueQueryStringParameters: map[string][]string{},
		Body:                            string(body),
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "gw-" + time.Now().UTC().Format("150405.000000"), Stage: g.Stage,
			HTTPMethod: r.Method, Path: r.URL.Path, Identity: events.APIGatewayRequestIdentity{UserArn: principal}},
	}
	for k, vs := range r.Header {
		ev.Headers[k] = vs[len(vs)-1]
		ev.MultiValueHeaders[k] = vs
	}
	for k, vs := range r.URL.Query() {
		ev.MultiValueQueryStringParameters[k] = vs
	}
	out, err := httpadapter.New(g.Function).ProxyWithContext(context.WithoutCancel(r.Context()), ev)
	if err != nil {
		http.Error(w, "the function failed: "+err.Error(), http.StatusBadGateway)
		return
	}
	for k, v := range out.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range out.MultiValueHeaders {
		w.Header()[http.CanonicalHeaderKey(k)] = vs
	}
	w.WriteHeader(out.StatusCode)
	_, _ = io.Copy(w, strings.NewReader(out.Body)) // the client went away if this fails
}

// refuse answers as the stack's gateway responses do.
func refuse(w http.ResponseWriter, title, msg string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(http.StatusForbidden)
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(map[string]any{"type": "about:blank", "title": title, "status": http.StatusForbidden, "detail": msg, "requestId": "gw-refused"})
	_, _ = w.Write(b.Bytes()) // as in invoke
}

// authorization is a parsed Signature Version 4 Authorization header.
type authorization struct {
	accessKey, date, region, service string
	signedHeaders                    []string
	signature                        string
}

func parse(header string) (authorization, bool) {
	var a authorization
	algorithm, rest, _ := strings.Cut(header, " ")
	fields := map[string]string{}
	for _, kv := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if algorithm != "AWS4-HMAC-SHA256" || len(scope) != 5 || scope[4] != "aws4_request" || fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		return a, false
	}
	a.accessKey, a.date, a.region, a.service = scope[0], scope[1], scope[2], scope[3]
	a.signedHeaders = strings.Split(fields["SignedHeaders"], ";")
	sort.Strings(a.signedHeaders)
	a.signature = fields["Signature"]
	return a, true
}
