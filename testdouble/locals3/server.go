// Package locals3 is a local stand-in for the little of Amazon S3 the
// digest function uses: PutObject, GetObject and HeadObject, path-style,
// on buckets that are versioned and under Object Lock in compliance mode,
// as the stack makes the digest bucket. Everything else is refused with
// 501, and what S3 refuses it refuses with S3's error code: a locked
// object cannot be deleted, an upload to a locked bucket must carry a
// checksum (in a header, or in an aws-chunked body's trailer), a request
// must be signed for s3 with the local key, and a request the caller's
// policies do not allow is denied (see Access).
//
// It checks a request's signature scope (the key and the service), not
// the signature itself: S3's canonical form differs from the other
// services' and the digest function's signing is the AWS SDK's own.
package locals3

import (
	"bytes"
	"crypto/md5" //nolint:gosec // G501: Content-MD5 is S3's integrity header, not a security measure
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The credentials the server knows.
const (
	AccessKeyID     = "local"
	SecretAccessKey = "local"
)

// maxObjectBytes bounds an object the server keeps: far more than a
// digest, far less than S3's 5 GB for one PUT.
const maxObjectBytes = 1 << 20

// Server is the stand-in. Use it as an http.Handler.
type Server struct {
	mu      sync.Mutex
	buckets map[string]map[string][]version // bucket → key → versions, oldest first
	now     func() time.Time
	// access decides who may do what; nil until Authorize, and then every
	// request is denied, as AWS denies what no policy allows.
	access *access
}

type version struct {
	id   string
	body []byte
	at   time.Time
}

// New returns a server with the given buckets, each versioned and locked.
func New(buckets ...string) *Server {
	s := &Server{buckets: map[string]map[string][]version{}, now: time.Now}
	for _, b := range buckets {
		s.buckets[b] = map[string][]version{}
	}
	return s
}

// Authorize sets who signs the requests with the local key and the
// policies that decide them. It refuses policies that use what the server
// does not evaluate (see Access), so a test never runs on a guess.
func (s *Server) Authorize(a Access) error {
	c, err := compile(a)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.access = c
	return nil
}

// Versions returns every version of an object, oldest first.
func (s *Server) Versions(bucket, key string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]byte
	for _, v := range s.buckets[bucket][key] {
		out = append(out, v.body)
	}
	return out
}

// s3Error is S3's error document.
type s3Error struct {
	XMLName xml.Name `xml:"Error"`
	Code    string   `xml:"Code"`
	Message string   `xml:"Message"`
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(s3Error{Code: code, Message: msg}) // the status is sent
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if msg := checkScope(r); msg != "" {
		fail(w, http.StatusForbidden, "AccessDenied", msg)
		return
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	s.mu.Lock()
	objects, ok := s.buckets[bucket]
	access := s.access
	s.mu.Unlock()
	allowed := func(action, resource string) bool {
		return access != nil && access.allows(bucket, request{action: action, resource: resource, principal: access.principal, secure: r.TLS != nil})
	}
	object := "arn:aws:s3:::" + bucket + "/" + key
	switch {
	case !ok:
		fail(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
	case key == "" || len(r.URL.RawQuery) > 0 && !strings.HasPrefix(r.URL.RawQuery, "x-id="):
		fail(w, http.StatusNotImplemented, "NotImplemented", "The local S3 serves GetObject, HeadObject and PutObject only")
	case access == nil:
		fail(w, http.StatusForbidden, "AccessDenied", "Access Denied: the local S3 was given no policies (Server.Authorize), and allows nothing no policy allows")
	case r.Method == http.MethodPut && !allowed("s3:PutObject", object),
		(r.Method == http.MethodGet || r.Method == http.MethodHead) && !allowed("s3:GetObject", object):
		fail(w, http.StatusForbidden, "AccessDenied", "Access Denied")
	case r.Method == http.MethodPut:
		s.put(w, r, objects, key)
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		s.get(w, objects, key, allowed("s3:ListBucket", "arn:aws:s3:::"+bucket))
	case r.Method == http.MethodDelete:
		fail(w, http.StatusForbidden, "AccessDenied", "Access Denied because object protected by object lock.")
	default:
		fail(w, http.StatusNotImplemented, "NotImplemented", "The local S3 serves GetObject, HeadObject and PutObject only")
	}
}

// checkScope checks that the request is signed with the local key for s3;
// "" when it is.
func checkScope(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	_, rest, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "the request is not signed"
	}
	scope := strings.Split(strings.SplitN(rest, ",", 2)[0], "/") // key/date/region/service/aws4_request
	if len(scope) != 5 || scope[0] != AccessKeyID || scope[3] != "s3" {
		return "the request is not signed for s3 with the local key"
	}
	return ""
}

func (s *Server) put(w http.ResponseWriter, r *http.Request, objects map[string][]version, key string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxObjectBytes))
	if err != nil {
		fail(w, http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the local S3's limit")
		return
	}
	checksums := r.Header
	if strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
		if body, checksums, err = decodeChunked(body, r.Header); err != nil {
			fail(w, http.StatusBadRequest, "IncompleteBody", err.Error())
			return
		}
	}
	if msg := checkIntegrity(checksums, body); msg != "" {
		fail(w, http.StatusBadRequest, "InvalidRequest", msg)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := version{id: fmt.Sprintf("v%d", len(objects[key])+1), body: body, at: s.now()}
	objects[key] = append(objects[key], v)
	w.Header().Set("x-amz-version-id", v.id)
	w.WriteHeader(http.StatusOK)
}

// decodeChunked reads an aws-chunked body, as the AWS SDKs send an upload
// over TLS: chunks of hex size (with a chunk signature the server does not
// check), then the trailing headers X-Amz-Trailer announces, such as the
// upload's checksum
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html).
// It returns the object's bytes, and the request's headers with the
// trailers added.
func decodeChunked(raw []byte, h http.Header) ([]byte, http.Header, error) {
	var body []byte
	rest := raw
	line := func() (string, error) {
		l, after, ok := bytes.Cut(rest, []byte("\r\n"))
		if !ok {
			return "", errors.New("an aws-chunked line without its CRLF")
		}
		rest = after
		return string(l), nil
	}
	for {
		l, err := line()
		if err != nil {
			return nil, nil, err
		}
		sizeHex, _, _ := strings.Cut(l, ";")
		size, err := strconv.ParseInt(sizeHex, 16, 32)
		if err != nil || size < 0 || int(size) > len(rest) {
			return nil, nil, fmt.Errorf("aws-chunked chunk size %q", sizeHex)
		}
		if size == 0 {
			break
		}
		body, rest = append(body, rest[:size]...), rest[size:]
		if !bytes.HasPrefix(rest, []byte("\r\n")) {
			return nil, nil, errors.New("an aws-chunked chunk without its CRLF")
		}
		rest = rest[2:]
	}
	if n := h.Get("X-Amz-Decoded-Content-Length"); n != strconv.Itoa(len(body)) {
		return nil, nil, fmt.Errorf("%d bytes decoded, X-Amz-Decoded-Content-Length %q", len(body), n)
	}
	out := h.Clone()
	announced := strings.Split(strings.ToLower(h.Get("X-Amz-Trailer")), ",")
	for {
		l, err := line()
		if err != nil {
			return nil, nil, err
		}
		if l == "" {
			break
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok || !slices.Contains(announced, strings.ToLower(strings.TrimSpace(name))) {
			return nil, nil, fmt.Errorf("the trailer %q was not announced in X-Amz-Trailer", l)
		}
		out.Set(name, strings.TrimSpace(value))
	}
	if len(rest) != 0 {
		return nil, nil, errors.New("bytes after the aws-chunked trailers")
	}
	return body, out, nil
}

// checkIntegrity is Object Lock's rule: an upload carries Content-MD5 or an
// x-amz-checksum header (or trailer), and the body matches it; "" when it
// does.
func checkIntegrity(h http.Header, body []byte) string {
	md := md5.Sum(body) //nolint:gosec // G401: S3's integrity header
	sha := sha256.Sum256(body)
	crcBytes := binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(body))
	given := map[string][]byte{
		"Content-Md5":           md[:],
		"X-Amz-Checksum-Sha256": sha[:],
		"X-Amz-Checksum-Crc32":  crcBytes,
	}
	found := false
	for header, want := range given {
		v := h.Get(header)
		if v == "" {
			continue
		}
		found = true
		if v != base64.StdEncoding.EncodeToString(want) {
			return "The " + header + " you specified did not match the calculated checksum."
		}
	}
	if !found {
		return "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters"
	}
	return ""
}

// get answers GetObject and HeadObject (whose answer has no body). A
// missing key is answered as S3 answers it, by whether the caller may list
// the bucket: "If the object that you request doesn't exist, the error
// that Amazon S3 returns depends on whether you also have the
// s3:ListBucket permission. If you have the s3:ListBucket permission on
// the bucket, Amazon S3 returns an HTTP status code 404 Not Found error.
// If you don't have the s3:ListBucket permission, Amazon S3 returns an
// HTTP status code 403 Access Denied error."
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html;
// HeadObject's page says the same.)
func (s *Server) get(w http.ResponseWriter, objects map[string][]version, key string, mayList bool) {
	s.mu.Lock()
	versions := objects[key]
	s.mu.Unlock()
	switch {
	case len(versions) == 0 && mayList:
		fail(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	case len(versions) == 0:
		fail(w, http.StatusForbidden, "AccessDenied", "Access Denied")
		return
	}
	v := versions[len(versions)-1]
	w.Header().Set("x-amz-version-id", v.id)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Last-Modified", v.at.UTC().Format(http.TimeFormat))
	_, _ = w.Write(v.body) // the status is sent
}
