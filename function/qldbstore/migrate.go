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
	CreatedTables  []string `json:"createdTables"`
	CreatedIndexes []string `json:"createdIndexes"` // table.field
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

// Migrate creates the tables and indexes of schema.Tables where they are
// absent. Running it again changes nothing. Each DDL statement runs in a
// transaction of its own, as QLDB requires.
func (s *Store) Migrate(ctx context.Context) (Migration, error) {
	m := Migration{SchemaVersion: schema.Version, CreatedTables: []string{}, CreatedIndexes: []string{}}
	out, err := s.execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
		r, err := txn.Execute(stmtCatalog)
		if err != nil {
			return nil, err
		}
		active := map[string]catalogRow{}
		for r.Next(txn) {
			var row catalogRow
			if err := ion.Unmarshal(r.GetCurrentData(), &row); err != nil {
				return nil, fmt.Errorf("decode catalog: %w", err)
			}
			if row.Status == "ACTIVE" {
				active[row.Name] = row
			}
		}
		return active, r.Err()
	})
	if err != nil {
		return m, fmt.Errorf("read catalog: %w", err)
	}
	active := out.(map[string]catalogRow)
	for _, t := range schema.Tables() {
		existing, ok := active[t.Name]
		if !ok {
			if err := s.ddl(ctx, fmt.Sprintf(stmtNewTable, t.Name)); err != nil {
				return m, fmt.Errorf("create table %s: %w", t.Name, err)
			}
			m.CreatedTables = append(m.CreatedTables, t.Name)
		}
		for _, field := range t.Indexes {
			if slices.Contains(existing.Indexes, catalogIndex{"[" + field + "]"}) {
				continue
			}
			if err := s.ddl(ctx, fmt.Sprintf(stmtNewIndex, t.Name, field)); err != nil {
				return m, fmt.Errorf("create index on %s.%s: %w", t.Name, field, err)
			}
			m.CreatedIndexes = append(m.CreatedIndexes, t.Name+"."+field)
		}
	}
	return m, nil
}

func (s *Store) ddl(ctx context.Context, statement string) error {
	_, err := s.execute(ctx, func(txn qldbdriver.Transaction) (any, error) {
		return txn.Execute(statement)
	})
	return err
}
