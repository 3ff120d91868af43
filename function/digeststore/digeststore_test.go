package digeststore

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/privateledger/licences/function/pgstore"
	"github.com/privateledger/licences/testdouble/locals3"
)

const role = "arn:aws:iam::123456789012:role/licences-test-digest"

// open is a store on a local S3 whose one bucket the role reaches through
// the identity policy given.
func open(t *testing.T, policy string) *Store {
	t.Helper()
	bucket := locals3.New("digests")
	if err := bucket.Authorize(locals3.Access{Principal: role, Identity: []string{policy}}); err != nil {
		t.Fatal(err)
	}
	// Over TLS, as in AWS: the SDK then sends uploads aws-chunked, with
	// the checksum in a trailer.
	hs := httptest.NewTLSServer(bucket)
	t.Cleanup(hs.Close)
	store, err := Open(context.Background(), "digests", hs.URL, func(o *s3.Options) { o.HTTPClient = hs.Client() })
	if err != nil {
		t.Fatal(err)
	}
	return store
}

const (
	getPut = `{"Sid":"Digests","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::digests/` + Key + `"]}`
	list   = `{"Sid":"List","Effect":"Allow","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::digests"]}`
)

func policy(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

// Before the first digest there is none, for a role that may list the
// bucket; after a put, the newest is the one put.
func TestNewestIsNoneThenThePutOne(t *testing.T) {
	store := open(t, policy(getPut, list))
	ctx := context.Background()
	d, err := store.Newest(ctx)
	if err != nil || d != nil {
		t.Fatalf("Newest of an empty bucket = %v, %v; want none", d, err)
	}
	for seq := int64(1); seq <= 2; seq++ {
		v, err := store.Put(ctx, pgstore.Digest{Seq: seq, Hash: []byte{byte(seq)}, At: time.Unix(seq, 0).UTC()})
		if err != nil || v == "" {
			t.Fatalf("Put %d = %q, %v", seq, v, err)
		}
	}
	if d, err := store.Newest(ctx); err != nil || d == nil || d.Seq != 2 {
		t.Errorf("Newest = %+v, %v; want the second", d, err)
	}
}

// To a role that may not list the bucket, S3 answers a missing key with
// 403 AccessDenied: that is an error, not "no digest yet".
func TestAccessDeniedIsNotNoDigest(t *testing.T) {
	store := open(t, policy(getPut))
	d, err := store.Newest(context.Background())
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("Newest without s3:ListBucket = %+v, %v; want the AccessDenied error", d, err)
	}
}
