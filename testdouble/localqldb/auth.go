package localqldb

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// The credentials every local ledger knows: clients sign with these, as the
// licence store does when pointed at a local ledger.
const (
	AccessKeyID     = "local"
	SecretAccessKey = "local"
)

// signingService is the name QLDB's session API signs requests under.
const signingService = "qldb"

// sigV4Algorithm is the only signing algorithm QLDB's session API takes.
const sigV4Algorithm = "AWS4-HMAC-SHA256"

// amzDateLayout is Signature Version 4's ISO 8601 basic date and time.
const amzDateLayout = "20060102T150405Z"

// signatureMismatch is AWS's answer to a signature that does not verify.
const signatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."

// verifySignature checks a request's Signature Version 4 as AWS specifies
// it (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html):
// it builds the canonical request from exactly the headers the client lists
// in SignedHeaders, the canonical URI and query, and the payload hash; then
// the string to sign over the client's credential scope; then the signature
// with the key derived from the secret of the access key the client names;
// and the client's signature must equal it. AWS verifies what the client
// signed, not what some other signer would have signed: a client that signs
// fewer headers than the Go SDK (aws-sdk v2 for JavaScript, under the
// official Node driver, leaves content-length out) is served, and a client
// that leaves out what AWS requires (host, and the date it signs with) is
// refused before its signature is computed. (AWS also refuses a request
// signed more than 5 minutes from its own clock; the local ledger, whose
// clock tests set where they like, does not.)
func verifySignature(r *http.Request, body []byte) error {
	header := r.Header.Get("Authorization")
	if header == "" {
		return &apiError{Type: "MissingAuthenticationTokenException", Status: http.StatusForbidden,
			Message: "Missing Authentication Token"}
	}
	auth, err := parseAuthorization(header)
	if err != nil {
		return err
	}
	if auth.accessKey != AccessKeyID {
		return &apiError{Type: "UnrecognizedClientException", Status: http.StatusBadRequest,
			Message: "The security token included in the request is invalid."}
	}
	if auth.service != signingService {
		return invalidSignature("Credential should be scoped to correct service: '" + signingService + "'.")
	}
	if auth.terminator != "aws4_request" {
		return invalidSignature(fmt.Sprintf("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", auth.terminator))
	}
	// The host header must be signed, and so must the date the signature
	// is made with: AWS requires both of every signed request.
	if !auth.signs("host") {
		return incompleteSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	stamp, err := signingTime(r, auth)
	if err != nil {
		return err
	}
	at, _ := time.Parse(amzDateLayout, stamp) // signingTime parsed it
	if day := at.Format("20060102"); auth.date != day {
		return invalidSignature(fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", auth.date, day, stamp))
	}
	payloadHash, err := signedPayloadHash(r, auth, body)
	if err != nil {
		return err
	}
	canonical, err := canonicalRequest(r, auth.signedHeaders, payloadHash)
	if err != nil {
		return err
	}
	want := signature(SecretAccessKey, stamp, auth.scope(), canonical)
	if !hmac.Equal([]byte(want), []byte(auth.signature)) {
		return invalidSignature(signatureMismatch)
	}
	return nil
}

// authorization is a parsed Signature Version 4 Authorization header:
// AWS4-HMAC-SHA256 Credential=key/date/region/service/aws4_request,
// SignedHeaders=h1;h2, Signature=hex.
type authorization struct {
	accessKey, date, region, service, terminator string
	signedHeaders                                []string // lower case, sorted
	signature                                    string
}

func parseAuthorization(header string) (authorization, error) {
	var a authorization
	algorithm, rest, _ := strings.Cut(header, " ")
	fields := map[string]string{}
	for _, kv := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if algorithm != sigV4Algorithm || len(scope) != 5 || fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		return a, incompleteSignature("Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters")
	}
	a.accessKey, a.date, a.region, a.service, a.terminator = scope[0], scope[1], scope[2], scope[3], scope[4]
	// SigV4 lists signed header names in lower case, sorted: the
	// canonical request is built from the list in that form.
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		a.signedHeaders = append(a.signedHeaders, strings.ToLower(strings.TrimSpace(h)))
	}
	sort.Strings(a.signedHeaders)
	a.signature = fields["Signature"]
	return a, nil
}

// signs reports whether the client signed the header name (lower case).
func (a authorization) signs(name string) bool {
	for _, h := range a.signedHeaders {
		if h == name {
			return true
		}
	}
	return false
}

// scope is the credential scope the string to sign names.
func (a authorization) scope() string {
	return strings.Join([]string{a.date, a.region, a.service, a.terminator}, "/")
}

// signingTime is the time the request was signed at, in the ISO 8601 basic
// form the string to sign carries: X-Amz-Date, or else Date, which AWS takes
// in its place; whichever is used must be signed, as the SigV4 document
// requires of a date or x-amz-date header. The messages are AWS's, the one
// for an unsigned date worded as AWS words the one for an unsigned host.
func signingTime(r *http.Request, auth authorization) (string, error) {
	name, stamp := "X-Amz-Date", r.Header.Get("X-Amz-Date")
	if stamp == "" {
		name, stamp = "Date", r.Header.Get("Date")
	}
	if stamp == "" {
		return "", incompleteSignature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if !auth.signs(strings.ToLower(name)) {
		return "", incompleteSignature("'" + name + "' must be a 'SignedHeader' in the AWS Authorization.")
	}
	// A Date in HTTP's own format would have to be converted to sign it;
	// the local ledger takes only the form the string to sign carries.
	if _, err := time.Parse(amzDateLayout, stamp); err != nil {
		return "", invalidSignature("the request has no valid " + name)
	}
	return stamp, nil
}

// signedPayloadHash is the hashed payload of the canonical request: the
// x-amz-content-sha256 the client signed, which must be the body's hash,
// or else the hex SHA-256 of the body.
func signedPayloadHash(r *http.Request, auth authorization, body []byte) (string, error) {
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	if !auth.signs("x-amz-content-sha256") {
		return hash, nil
	}
	if declared := r.Header.Get("X-Amz-Content-Sha256"); declared != hash {
		return "", invalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return hash, nil
}

// canonicalRequest is SigV4's canonical request: the method, the canonical
// URI (the path as sent, URI-encoded once more, as every service but S3
// takes it), the canonical query (names and values URI-encoded, sorted),
// each signed header as name:value (values trimmed, runs of spaces made
// one, several values joined by commas), the signed header list and the
// hashed payload.
func canonicalRequest(r *http.Request, signedHeaders []string, payloadHash string) (string, error) {
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "", invalidSignature(fmt.Sprintf("the query string is not URL-encoded: %v", err))
	}
	var pairs []string
	for k, vs := range query {
		for _, v := range vs {
			pairs = append(pairs, uriEncode(k, true)+"="+uriEncode(v, true))
		}
	}
	sort.Strings(pairs)
	var headers strings.Builder
	for _, h := range signedHeaders {
		values := r.Header.Values(h)
		if h == "host" {
			values = []string{r.Host}
		}
		clean := make([]string, len(values))
		for i, v := range values {
			clean[i] = collapseSpaces(strings.TrimSpace(v))
		}
		headers.WriteString(h + ":" + strings.Join(clean, ",") + "\n")
	}
	return strings.Join([]string{
		r.Method,
		uriEncode(path, false),
		strings.Join(pairs, "&"),
		headers.String(),
		strings.Join(signedHeaders, ";"),
		payloadHash,
	}, "\n"), nil
}

// collapseSpaces makes each run of spaces in a header value one space.
func collapseSpaces(v string) string {
	for strings.Contains(v, "  ") {
		v = strings.ReplaceAll(v, "  ", " ")
	}
	return v
}

// uriEncode is SigV4's URI encoding: every byte but the unreserved
// characters (A-Z a-z 0-9 - _ . ~) as %XY in upper-case hex; a slash is
// kept in a path and encoded in a query.
func uriEncode(s string, encodeSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// signature is the hex HMAC-SHA256 of the string to sign (the algorithm,
// the request time, the credential scope and the hex SHA-256 of the
// canonical request) under the signing key derived from the secret through
// the scope's date, region, service and terminator.
func signature(secret, stamp, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	toSign := strings.Join([]string{sigV4Algorithm, stamp, scope, hex.EncodeToString(sum[:])}, "\n")
	key := []byte("AWS4" + secret)
	for _, part := range strings.Split(scope, "/") {
		key = hmacSHA256(key, part)
	}
	return hex.EncodeToString(hmacSHA256(key, toSign))
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func invalidSignature(msg string) error {
	return &apiError{Type: "InvalidSignatureException", Status: http.StatusForbidden, Message: msg}
}

func incompleteSignature(msg string) error {
	return &apiError{Type: "IncompleteSignatureException", Status: http.StatusBadRequest, Message: msg}
}
