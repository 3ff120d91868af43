package qldbstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/amzn/ion-go/ion"
	"github.com/awslabs/amazon-qldb-driver-go/v3/qldbdriver"

	"github.com/privateledger/licences/function/schema"
)

// Migration reports what Migrate created; empty when the schema was already
// in place.
type Migration struct {
	SchemaVersion  int      `json:"schemaVersion"`
	CreatedTable   bool     `json:"createdTable"`
	CreatedIndexes []string `json:"createdIndexes"`
}

// catalogRow is a row of information_schema.user_tables.
type catalogRow struct {
	Name    string         `ion:"name"`
	Status  string         `ion:"status"`
	Indexes []catalogIndex `ion:"indexes"`
}

// catalogIndex is an index in the catalog; Expr is the indexed path, such
// as [email].
type catalogIndex struct {
	Expr string `ion:"expr"`
}

// Migrate creates the licence table and its indexes where they are absent.
// Running it again changes nothing. Each DDL statement runs in a
// transaction of its own, as QLDB requires.
func (s *Store) Migrate(ctx context.Context) (Migration, error) {
	m := Migration{SchemaVersion: schema.Version, CreatedIndexes: []string{}}
	out, err := s.execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
		r, err := txn.Execute(stmtCatalog)
		if err != nil {
			return nil, err
		}
		for r.Next(txn) {
			var row catalogRow
			if err := ion.Unmarshal(r.GetCurrentData(), &row); err != nil {
				return nil, fmt.Errorf("decode catalog: %w", err)
			}
			if row.Name == schema.LicenceTable && row.Status == "ACTIVE" {
				return &row, nil
			}
		}
		return (*catalogRow)(nil), r.Err()
	})
	if err != nil {
		return m, fmt.Errorf("read catalog: %w", err)
	}
	existing := out.(*catalogRow)
	if existing == nil {
		if err := s.ddl(ctx, stmtNewTable); err != nil {
			return m, fmt.Errorf("create table %s: %w", schema.LicenceTable, err)
		}
		m.CreatedTable = true
		existing = &catalogRow{}
	}
	for _, field := range schema.LicenceIndexes() {
		if slices.Contains(existing.Indexes, catalogIndex{"[" + field + "]"}) {
			continue
		}
		if err := s.ddl(ctx, fmt.Sprintf(stmtNewIndex, field)); err != nil {
			return m, fmt.Errorf("create index on %s: %w", field, err)
		}
		m.CreatedIndexes = append(m.CreatedIndexes, field)
	}
	return m, nil
}

func (s *Store) ddl(ctx context.Context, statement string) error {
	_, err := s.execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
		return txn.Execute(statement)
	})
	return err
}
