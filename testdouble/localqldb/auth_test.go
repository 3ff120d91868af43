package localqldb

import (
	"net/http"
	"strings"
	"testing"
)

// The verifier's canonical request, string to sign and key derivation
// reproduce the signatures of AWS's Signature Version 4 test suite
// (https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html),
// computed independently of any SDK signer: credentials AKIDEXAMPLE, scope
// 20150830/us-east-1/service/aws4_request.
func TestSignatureV4TestSuite(t *testing.T) {
	const (
		secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
		stamp  = "20150830T123600Z"
		scope  = "20150830/us-east-1/service/aws4_request"
		empty  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	)
	for _, tc := range []struct {
		name, method, url string
		headers           map[string]string
		signed            []string
		want              string
	}{
		{"get-vanilla", "GET", "/", nil, []string{"host", "x-amz-date"},
			"5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"post-vanilla", "POST", "/", nil, []string{"host", "x-amz-date"},
			"5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
		{"get-vanilla-query-order-key-case", "GET", "/?Param2=value2&Param1=value1", nil, []string{"host", "x-amz-date"},
			"b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
		{"get-header-value-trim", "GET", "/", map[string]string{"My-Header1": " value1", "My-Header2": ` "a   b   c"`},
			[]string{"host", "my-header1", "my-header2", "x-amz-date"},
			"acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
	} {
		r, err := http.NewRequest(tc.method, "http://example.amazonaws.com"+tc.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("X-Amz-Date", stamp)
		for k, v := range tc.headers {
			r.Header.Set(k, v)
		}
		canonical, err := canonicalRequest(r, tc.signed, empty)
		if err != nil {
			t.Fatal(err)
		}
		if got := signature(secret, stamp, scope, canonical); got != tc.want {
			t.Errorf("%s: signature %s, want %s; canonical request:\n%s", tc.name, got, tc.want, strings.ReplaceAll(canonical, "\n", "⏎\n"))
		}
	}
}
