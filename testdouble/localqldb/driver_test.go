package localqldb

import (
	"context"
	"errors"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/amzn/ion-go/ion"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/qldbsession"
	"github.com/awslabs/amazon-qldb-driver-go/v3/qldbdriver"
)

// newDriver starts a server and returns the official driver connected to it.
func newDriver(t *testing.T, opts Options) (*Server, *qldbdriver.QLDBDriver) {
	t.Helper()
	if opts.LedgerName == "" {
		opts.LedgerName = "test"
	}
	srv := New(opts)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	client := qldbsession.NewFromConfig(aws.Config{
		Region:      "eu-west-2",
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
	}, func(o *qldbsession.Options) { o.EndpointResolver = qldbsession.EndpointResolverFromURL(hs.URL) })
	d, err := qldbdriver.New(opts.LedgerName, client, func(o *qldbdriver.DriverOptions) {
		o.LoggerVerbosity = qldbdriver.LogOff
		o.RetryPolicy = qldbdriver.RetryPolicy{MaxRetryLimit: 50, Backoff: qldbdriver.ExponentialBackoffStrategy{SleepBase: time.Millisecond, SleepCap: 20 * time.Millisecond}}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })
	return srv, d
}

type person struct {
	Name string `ion:"name"`
	Age  int    `ion:"age"`
}

func exec(t *testing.T, d *qldbdriver.QLDBDriver, statement string, params ...any) [][]byte {
	t.Helper()
	out, err := d.Execute(context.Background(), func(txn qldbdriver.Transaction) (any, error) {
		r, err := txn.Execute(statement, params...)
		if err != nil {
			return nil, err
		}
		var rows [][]byte
		for r.Next(txn) {
			rows = append(rows, r.GetCurrentData())
		}
		return rows, r.Err()
	})
	if err != nil {
		t.Fatalf("%s: %v", statement, err)
	}
	return out.([][]byte)
}

func TestDriverRoundTrip(t *testing.T) {
	_, d := newDriver(t, Options{PageSize: 2})
	exec(t, d, "CREATE TABLE People")
	exec(t, d, "CREATE INDEX ON People (name)")
	for _, p := range []person{{"ann", 30}, {"bob", 40}, {"ann", 31}} {
		exec(t, d, "INSERT INTO People ?", p)
	}
	rows := exec(t, d, "SELECT * FROM People AS p WHERE p.name = ?", "ann")
	if len(rows) != 2 {
		t.Fatalf("%d rows for ann, want 2", len(rows))
	}
	var got person
	if err := ion.Unmarshal(rows[0], &got); err != nil || got.Name != "ann" {
		t.Fatalf("row %+v, %v", got, err)
	}
	ids := exec(t, d, "UPDATE People AS p SET p.age = ? WHERE p.name = ?", 50, "bob")
	var res struct {
		DocumentID string `ion:"documentId"`
	}
	if err := ion.Unmarshal(ids[0], &res); err != nil || res.DocumentID == "" {
		t.Fatalf("update result %v, %v", res, err)
	}
	hist := exec(t, d, "SELECT * FROM history(People) AS h WHERE h.metadata.id = ?", res.DocumentID)
	if len(hist) != 2 {
		t.Fatalf("%d revisions, want 2", len(hist))
	}
	var rev struct {
		Data     person `ion:"data"`
		Metadata struct {
			Version int `ion:"version"`
		} `ion:"metadata"`
	}
	if err := ion.Unmarshal(hist[1], &rev); err != nil || rev.Data.Age != 50 || rev.Metadata.Version != 1 {
		t.Fatalf("revision %+v, %v", rev, err)
	}
	tables := exec(t, d, "SELECT * FROM information_schema.user_tables")
	if len(tables) != 1 {
		t.Fatalf("catalog has %d tables", len(tables))
	}
}

func TestUnsupportedStatementIsRefused(t *testing.T) {
	_, d := newDriver(t, Options{})
	_, err := d.Execute(context.Background(), func(txn qldbdriver.Transaction) (any, error) {
		return txn.Execute("SELECT * FROM Nope AS n WHERE n.a > ?", 1)
	})
	if err == nil {
		t.Fatal("unsupported statement succeeded")
	}
}

func TestOCCConflictOnCommitIsRetriedByTheDriver(t *testing.T) {
	srv, d := newDriver(t, Options{})
	exec(t, d, "CREATE TABLE People")
	srv.Inject(Fault{Command: "CommitTransaction", Error: OCCConflict, Times: 2})
	exec(t, d, "INSERT INTO People ?", person{"cat", 3})
	if got := len(exec(t, d, "SELECT * FROM People AS p WHERE p.name = ?", "cat")); got != 1 {
		t.Errorf("%d documents after retried insert, want 1", got)
	}
	if c := srv.Calls()["CommitTransaction"]; c < 4 {
		t.Errorf("%d commits, want the two failed ones retried", c)
	}
}

func TestConcurrentWritersConflict(t *testing.T) {
	srv, d := newDriver(t, Options{})
	exec(t, d, "CREATE TABLE People")
	exec(t, d, "INSERT INTO People ?", person{"dan", 0})
	srv.ResetCalls()
	ctx := context.Background()
	// Read-modify-write the same document from many goroutines: with the
	// concurrency check, no increment may be lost.
	const n = 20
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := d.Execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
				r, err := txn.Execute("SELECT * FROM People AS p WHERE p.name = ?", "dan")
				if err != nil {
					return nil, err
				}
				var p person
				if !r.Next(txn) {
					return nil, errors.New("dan is missing")
				}
				if err := ion.Unmarshal(r.GetCurrentData(), &p); err != nil {
					return nil, err
				}
				return txn.Execute("UPDATE People AS p SET p.age = ? WHERE p.name = ?", p.Age+1, "dan")
			})
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	var p person
	if err := ion.Unmarshal(exec(t, d, "SELECT * FROM People AS p WHERE p.name = ?", "dan")[0], &p); err != nil {
		t.Fatal(err)
	}
	if p.Age != n {
		t.Errorf("age = %d after %d increments", p.Age, n)
	}
}

// The official driver lists tables with its own statement, SELECT name FROM
// information_schema.user_tables WHERE status = 'ACTIVE': the local ledger
// answers it as QLDB does, with the active tables' names.
func TestGetTableNamesThroughTheDriver(t *testing.T) {
	_, d := newDriver(t, Options{})
	ctx := context.Background()
	names, err := d.GetTableNames(ctx)
	if err != nil || len(names) != 0 {
		t.Fatalf("an empty ledger's tables: %v, %v", names, err)
	}
	exec(t, d, "CREATE TABLE People")
	exec(t, d, "CREATE TABLE Licences")
	exec(t, d, "CREATE INDEX ON People (name)")
	names, err = d.GetTableNames(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "Licences,People" {
		t.Errorf("GetTableNames = %v, want [Licences People]", names)
	}
}
