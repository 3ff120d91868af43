package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/privateledger/licences/function/httpapi"
	"github.com/privateledger/licences/function/licence"
)

// A client that sends its body a byte at a time is cut off by the local
// server's read timeout, answered 408, not waited on forever.
func TestTheLocalServerCutsOffASlowBody(t *testing.T) {
	saved := localTimeouts
	t.Cleanup(func() { localTimeouts = saved })
	localTimeouts.readHeader, localTimeouts.read = 200*time.Millisecond, 300*time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	actor, _ := licence.LocalActor("")
	// The body never arrives, so the store is never asked: one that is
	// not there would panic if it were.
	var never struct{ licence.Store }
	srv := localServer(ln.Addr().String(), httpapi.New(never, nil, httpapi.Options{Actor: httpapi.FixedActor(actor)}))
	go func() { _ = srv.Serve(ln) }() // ends with Close below
	t.Cleanup(func() { _ = srv.Close() })

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }() // the answer is read above
	start := time.Now()
	fmt.Fprintf(c, "POST /licences HTTP/1.1\r\nHost: local\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
	go func() {
		for range 100 {
			if _, err := c.Write([]byte(" ")); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	if err := c.SetReadDeadline(time.Now().Add(3 * time.Second)); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("no answer to a slow body after %s: %v", took, err)
	}
	if res.StatusCode != http.StatusRequestTimeout {
		t.Errorf("a slow body: %d after %s, want 408", res.StatusCode, took)
	}
	t.Logf("a slow body: %d after %s", res.StatusCode, took)
	if took > 2*time.Second {
		t.Errorf("the server took %s to give up on a slow body", took)
	}
}

func TestABadLocalActorIsRefused(t *testing.T) {
	cmd := execBootstrap(t, []string{"LEDGER_ENGINE=qldb", "LEDGER_NAME=x", "QLDB_SESSION_ENDPOINT=http://127.0.0.1:1", "LOCAL_ACTOR=jo bloggs"})
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "LOCAL_ACTOR") {
		t.Errorf("err %v, output %s: want LOCAL_ACTOR refused", err, out)
	}
}

// A taken address is reported before the ledger is touched: the local
// server listens first, then migrates.
func TestATakenAddressIsReportedBeforeMigrating(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = taken.Close() }()
	cmd := execBootstrap(t, []string{"LEDGER_ENGINE=qldb", "LEDGER_NAME=x", "QLDB_SESSION_ENDPOINT=http://127.0.0.1:1", "LISTEN_ADDR=" + taken.Addr().String()})
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "LISTEN_ADDR") || strings.Contains(string(out), "migrate") {
		t.Errorf("err %v, output %s: want the taken LISTEN_ADDR reported, and no migration tried", err, out)
	}
}
