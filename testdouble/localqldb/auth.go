package localqldb

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The credentials every local ledger knows: clients sign with these, as the
// licence store does when pointed at a local ledger.
const (
	AccessKeyID     = "local"
	SecretAccessKey = "local"
)

// signingService is the name QLDB's session API signs requests under.
const signingService = "qldb"

// verifySignature checks a request's Signature Version 4 the way AWS does:
// it signs the request as received again, with the secret of the access
// key it names, and the two signatures must be equal. So the body sent is
// the body signed, under the service's name, with a known key.
func verifySignature(r *http.Request, body []byte) error {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return &apiError{Type: "MissingAuthenticationTokenException", Status: http.StatusForbidden,
			Message: "Missing Authentication Token"}
	}
	fields := map[string]string{}
	algorithm, rest, _ := strings.Cut(auth, " ")
	for _, kv := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/") // key/date/region/service/aws4_request
	if algorithm != "AWS4-HMAC-SHA256" || len(scope) != 5 || fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		return &apiError{Type: "IncompleteSignatureException", Status: http.StatusBadRequest,
			Message: "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters"}
	}
	if scope[0] != AccessKeyID {
		return &apiError{Type: "UnrecognizedClientException", Status: http.StatusBadRequest,
			Message: "The security token included in the request is invalid."}
	}
	if scope[3] != signingService {
		return invalidSignature("Credential should be scoped to correct service: '" + signingService + "'.")
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return invalidSignature("the request has no valid X-Amz-Date")
	}
	// A request built to be signed, never sent.
	again, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body)) //nolint:gosec // G704: see above
	if err != nil {
		return invalidSignature(err.Error())
	}
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		if h != "host" {
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	again.Header.Del("Authorization")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, again, hex.EncodeToString(sum[:]), signingService, scope[2], at); err != nil {
		return invalidSignature(err.Error())
	}
	if again.Header.Get("Authorization") != auth {
		return invalidSignature("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	return nil
}

func invalidSignature(msg string) error {
	return &apiError{Type: "InvalidSignatureException", Status: http.StatusForbidden, Message: msg}
}
