package localpg

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestStartServesQueries(t *testing.T) {
	s := StartForTest(t)
	conn, err := pgx.Connect(context.Background(), s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }() // read only
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT 40 + 2").Scan(&n); err != nil || n != 42 {
		t.Fatalf("SELECT 40 + 2 = %d, %v", n, err)
	}
}
