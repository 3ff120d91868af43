package locals3

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	digestRole = "arn:aws:iam::123456789012:role/licences-dev-digest-eu-west-2"
	otherRole  = "arn:aws:iam::123456789012:role/licences-dev-api-eu-west-2"
	bucketARN  = "arn:aws:s3:::digests"
)

// grant is an identity policy allowing actions on resources.
func grant(actions, resources string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"G","Effect":"Allow","Action":[` + actions + `],"Resource":[` + resources + `]}]}`
}

var (
	readWrite     = grant(`"s3:GetObject","s3:PutObject"`, `"`+bucketARN+`/d.json"`)
	readWriteList = `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"Digests","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":["` + bucketARN + `/d.json"]},` +
		`{"Sid":"List","Effect":"Allow","Action":["s3:ListBucket"],"Resource":["` + bucketARN + `"]}]}`
)

// answer is what the server answered a request: its status and S3 error
// code ("" for none).
type answer struct {
	status int
	code   string
}

// An aws-chunked upload, as the SDKs send one over TLS, is stored as the
// bytes its chunks carry, and only when its trailing checksum holds.
func TestAChunkedUploadIsCheckedByItsTrailer(t *testing.T) {
	s := authorized(t, Access{Principal: digestRole, Identity: []string{readWriteList}})
	put := func(trailer string) int {
		hs := httptest.NewServer(s)
		defer hs.Close()
		body := "5;chunk-signature=0\r\nhello\r\n6\r\n world\r\n0\r\n" + trailer + "\r\n\r\n"
		req, _ := http.NewRequest("PUT", hs.URL+"/digests/d.json?x-id=PutObject", strings.NewReader(body))
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+AccessKeyID+"/20250101/local/s3/aws4_request, SignedHeaders=host, Signature=0")
		req.Header.Set("Content-Encoding", "aws-chunked")
		req.Header.Set("X-Amz-Trailer", "x-amz-checksum-sha256")
		req.Header.Set("X-Amz-Decoded-Content-Length", "11")
		res, err := hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		return res.StatusCode
	}
	sum := sha256.Sum256([]byte("hello world"))
	if got := put("x-amz-checksum-sha256:" + base64.StdEncoding.EncodeToString(sum[:])); got != 200 {
		t.Fatalf("a chunked upload with its checksum: %d", got)
	}
	if v := s.Versions("digests", "d.json"); len(v) != 1 || string(v[0]) != "hello world" {
		t.Errorf("stored %q, want the chunks' bytes", v)
	}
	other := sha256.Sum256([]byte("hello"))
	if got := put("x-amz-checksum-sha256:" + base64.StdEncoding.EncodeToString(other[:])); got != 400 {
		t.Errorf("a chunked upload with a wrong checksum: %d, want 400", got)
	}
	if got := put("x-amz-checksum-crc32:AAAAAA=="); got != 400 {
		t.Errorf("a chunked upload with an unannounced trailer: %d, want 400", got)
	}
}

// do sends a request signed for s3 with the local key, over TLS when tls.
func do(t *testing.T, s *Server, tls bool, method, path, body string) answer {
	t.Helper()
	var hs *httptest.Server
	if tls {
		hs = httptest.NewTLSServer(s)
	} else {
		hs = httptest.NewServer(s)
	}
	defer hs.Close()
	req, err := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+AccessKeyID+"/20250101/local/s3/aws4_request, SignedHeaders=host, Signature=0")
	sum := sha256.Sum256([]byte(body))
	req.Header.Set("X-Amz-Checksum-Sha256", base64.StdEncoding.EncodeToString(sum[:]))
	res, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, _ := io.ReadAll(res.Body)
	var e s3Error
	_ = xml.Unmarshal(b, &e) // no body, no code
	return answer{res.StatusCode, e.Code}
}

func authorized(t *testing.T, a Access) *Server {
	t.Helper()
	s := New("digests")
	if err := s.Authorize(a); err != nil {
		t.Fatal(err)
	}
	return s
}

// A missing key is 404 NoSuchKey to a caller who may list the bucket, and
// 403 AccessDenied to one who may not, as S3 answers GetObject and
// HeadObject.
func TestAMissingKeyIsAnsweredByWhetherTheCallerMayList(t *testing.T) {
	for _, c := range []struct {
		name   string
		policy string
		get    answer
		head   int
	}{
		{"with ListBucket", readWriteList, answer{404, "NoSuchKey"}, 404},
		{"without ListBucket", readWrite, answer{403, "AccessDenied"}, 403},
		{"ListBucket on the objects, not the bucket", grant(`"s3:GetObject","s3:ListBucket"`, `"`+bucketARN+`/*"`), answer{403, "AccessDenied"}, 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := authorized(t, Access{Principal: digestRole, Identity: []string{c.policy}})
			if got := do(t, s, false, "GET", "/digests/d.json?x-id=GetObject", ""); got != c.get {
				t.Errorf("GetObject of a missing key: %+v, want %+v", got, c.get)
			}
			if got := do(t, s, false, "HEAD", "/digests/d.json", ""); got.status != c.head {
				t.Errorf("HeadObject of a missing key: %d, want %d", got.status, c.head)
			}
		})
	}
}

// What no policy allows is denied: a put without PutObject, a get without
// GetObject, and everything before Authorize.
func TestWhatNoPolicyAllowsIsDenied(t *testing.T) {
	readOnly := authorized(t, Access{Principal: digestRole, Identity: []string{grant(`"s3:GetObject","s3:ListBucket"`, `"`+bucketARN+`","`+bucketARN+`/*"`)}})
	if got := do(t, readOnly, false, "PUT", "/digests/d.json?x-id=PutObject", "{}"); got != (answer{403, "AccessDenied"}) {
		t.Errorf("PutObject without PutObject: %+v, want 403 AccessDenied", got)
	}
	if n := len(readOnly.Versions("digests", "d.json")); n != 0 {
		t.Errorf("a denied put wrote %d versions", n)
	}
	writeOnly := authorized(t, Access{Principal: digestRole, Identity: []string{grant(`"s3:PutObject","s3:ListBucket"`, `"`+bucketARN+`","`+bucketARN+`/*"`)}})
	if got := do(t, writeOnly, false, "PUT", "/digests/d.json?x-id=PutObject", "{}"); got.status != 200 {
		t.Fatalf("PutObject with PutObject: %+v", got)
	}
	if got := do(t, writeOnly, false, "GET", "/digests/d.json?x-id=GetObject", ""); got != (answer{403, "AccessDenied"}) {
		t.Errorf("GetObject without GetObject: %+v, want 403 AccessDenied", got)
	}
	if got := do(t, New("digests"), false, "GET", "/digests/d.json?x-id=GetObject", ""); got != (answer{403, "AccessDenied"}) {
		t.Errorf("GetObject with no policies: %+v, want 403 AccessDenied", got)
	}
}

// The three policies combine as AWS combines them: an explicit Deny in any
// wins, the endpoint's must allow, and the role's or the bucket's must.
func TestThePoliciesCombineAsAWSCombinesThem(t *testing.T) {
	endpoint := func(principal, actions string) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"E","Effect":"Allow","Principal":{"AWS":["` + principal + `"]},"Action":[` + actions + `],"Resource":["` + bucketARN + `","` + bucketARN + `/*"]}]}`
	}
	tlsOnly := `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"TLSOnly","Effect":"Deny","Principal":{"AWS":["*"]},"Action":["s3:*"],"Resource":["` + bucketARN + `","` + bucketARN + `/*"],"Condition":{"Bool":{"aws:SecureTransport":["false"]}}},` +
		`{"Sid":"OnlyTheDigestWrites","Effect":"Deny","Principal":{"AWS":["*"]},"Action":["s3:PutObject"],"Resource":["` + bucketARN + `/*"],"Condition":{"StringNotEquals":{"aws:PrincipalArn":["` + digestRole + `"]}}}]}`
	bucketAllows := `{"Version":"2012-10-17","Statement":[{"Sid":"B","Effect":"Allow","Principal":{"AWS":["` + digestRole + `"]},"Action":["s3:PutObject"],"Resource":["` + bucketARN + `/*"]}]}`
	all := `"s3:GetObject","s3:PutObject","s3:ListBucket"`
	for _, c := range []struct {
		name string
		a    Access
		tls  bool
		want int
	}{
		{"role and endpoint allow", Access{Principal: digestRole, Identity: []string{readWriteList}, Endpoint: endpoint(digestRole, all)}, false, 200},
		{"the endpoint admits another role", Access{Principal: digestRole, Identity: []string{readWriteList}, Endpoint: endpoint(otherRole, all)}, false, 403},
		{"the endpoint allows no put", Access{Principal: digestRole, Identity: []string{readWriteList}, Endpoint: endpoint(digestRole, `"s3:GetObject"`)}, false, 403},
		{"the bucket refuses plain HTTP", Access{Principal: digestRole, Identity: []string{readWriteList}, BucketPolicies: map[string]string{"digests": tlsOnly}}, false, 403},
		{"the bucket takes TLS", Access{Principal: digestRole, Identity: []string{readWriteList}, BucketPolicies: map[string]string{"digests": tlsOnly}}, true, 200},
		{"the bucket refuses another writer", Access{Principal: otherRole, Identity: []string{readWriteList}, BucketPolicies: map[string]string{"digests": tlsOnly}}, true, 403},
		{"the bucket alone allows, within the account", Access{Principal: digestRole, BucketPolicies: map[string]string{"digests": bucketAllows}}, false, 200},
		{"another bucket's policy does not", Access{Principal: digestRole, BucketPolicies: map[string]string{"other": bucketAllows}}, false, 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := New("digests", "other")
			if err := s.Authorize(c.a); err != nil {
				t.Fatal(err)
			}
			if got := do(t, s, c.tls, "PUT", "/digests/d.json?x-id=PutObject", "{}"); got.status != c.want {
				t.Errorf("PutObject: %+v, want %d", got, c.want)
			}
		})
	}
}

// Authorize refuses a policy that uses what the server does not evaluate,
// naming it, rather than evaluate it as something else; a statement that
// cannot concern S3 is passed over.
func TestAuthorizeRefusesWhatItCannotEvaluate(t *testing.T) {
	stmt := func(s string) string { return `{"Version":"2012-10-17","Statement":[` + s + `]}` }
	for _, c := range []struct {
		name, policy, says string
	}{
		{"NotAction", stmt(`{"Effect":"Allow","NotAction":["s3:DeleteObject"],"Resource":["*"]}`), "NotAction"},
		{"an action as a string", stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":["*"]}`), "Action"},
		{"the ? wildcard", stmt(`{"Effect":"Allow","Action":["s3:GetObjec?"],"Resource":["*"]}`), "wildcard"},
		{"a policy variable", stmt(`{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::digests/${aws:username}"]}`), "variables"},
		{"a condition on s3:prefix", stmt(`{"Effect":"Allow","Action":["s3:ListBucket"],"Resource":["*"],"Condition":{"StringLike":{"s3:prefix":["d"]}}}`), "s3:prefix"},
		{"an old version", `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["*"]}]}`, "Version"},
		{"a principal in an identity policy", stmt(`{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:*"],"Resource":["*"]}`), "Principal"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := New("digests").Authorize(Access{Principal: digestRole, Identity: []string{c.policy}})
			if err == nil || !strings.Contains(err.Error(), c.says) {
				t.Errorf("Authorize = %v, want a refusal naming %s", err, c.says)
			}
		})
	}
	bucket := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:root"]},"Action":["s3:GetObject"],"Resource":["*"]}]}`
	if err := New("digests").Authorize(Access{Principal: digestRole, BucketPolicies: map[string]string{"digests": bucket}}); err == nil || !strings.Contains(err.Error(), "root") {
		t.Errorf("Authorize with an account principal = %v, want a refusal", err)
	}
	ec2 := stmt(`{"Effect":"Allow","Action":["ec2:CreateNetworkInterface"],"Resource":["*"],"Condition":{"ArnLike":{"ec2:Subnet":["*"]}}}`)
	if err := New("digests").Authorize(Access{Principal: digestRole, Identity: []string{ec2, readWriteList}}); err != nil {
		t.Errorf("Authorize with an EC2 statement: %v, want it passed over", err)
	}
}
