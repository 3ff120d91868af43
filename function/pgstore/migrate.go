package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/privateledger/licences/function/schema"
)

// Users are the database users of the functions, each granted the least
// its function needs.
type Users struct {
	// API reads and writes licences and reads history: it may insert and
	// delete licences and update their doc column only (an update that
	// changes more than contact details and points is refused by the
	// history trigger), and never touch history or the ledger's tip.
	API string
	// Eraser may run licence_erase and nothing else: it cannot read a
	// licence.
	Eraser string
	// Digest reads the history, the licences, the ledger's other entries
	// and its tip, to verify the ledger and take its digest; it writes
	// nothing.
	Digest string
}

func (u Users) all() []string { return []string{u.API, u.Eraser, u.Digest} }

// Migrate creates or upgrades the schema and the functions' users where
// they are absent, and grants each the least it needs. With iamAuth the
// users log in with IAM tokens (Aurora's rds_iam role) and have no
// password. Running it again changes nothing. conn must be the database
// owner's.
func Migrate(ctx context.Context, conn *pgx.Conn, users Users, iamAuth bool) error {
	if _, err := conn.Exec(ctx, schema.PostgresSQL); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	var steps []string
	for _, name := range users.all() {
		var exists bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)`, name).Scan(&exists); err != nil {
			return fmt.Errorf("look up %s: %w", name, err)
		}
		user := pgx.Identifier{name}.Sanitize()
		if !exists {
			steps = append(steps, "CREATE ROLE "+user+" LOGIN")
		}
		if iamAuth {
			steps = append(steps, "GRANT rds_iam TO "+user)
		}
		// Revoking a table's privileges revokes its columns' too.
		steps = append(steps, "REVOKE ALL ON licences, licence_history, ledger_tip, ledger_entries FROM "+user)
	}
	api, eraser, digest := pgx.Identifier{users.API}.Sanitize(), pgx.Identifier{users.Eraser}.Sanitize(), pgx.Identifier{users.Digest}.Sanitize()
	// No application role may create anything, temporary or not: nothing it
	// makes can then shadow what the ledger's functions use (which also
	// name their schema and search pg_temp last). PUBLIC's grants go, and
	// any an application role was given itself.
	var database string
	if err := conn.QueryRow(ctx, `SELECT current_database()`).Scan(&database); err != nil {
		return fmt.Errorf("name the database: %w", err)
	}
	db := pgx.Identifier{database}.Sanitize()
	steps = append(steps,
		"REVOKE CREATE, TEMPORARY ON DATABASE "+db+" FROM PUBLIC, "+api+", "+eraser+", "+digest,
		"REVOKE CREATE ON SCHEMA public FROM PUBLIC, "+api+", "+eraser+", "+digest,
	)
	steps = append(steps,
		"REVOKE ALL ON FUNCTION licence_history_append(), licence_history_link(), licence_erase(text, jsonb), ledger_append(text, jsonb), licence_erasure_entry(text, jsonb) FROM PUBLIC",
		"GRANT SELECT, DELETE ON licences TO "+api,
		"GRANT INSERT (id, email, idempotency_key, request_hash, doc) ON licences TO "+api,
		"GRANT UPDATE (doc) ON licences TO "+api,
		"GRANT SELECT ON licence_history TO "+api,
		"GRANT EXECUTE ON FUNCTION licence_erase(text, jsonb) TO "+eraser,
		"GRANT SELECT ON licences, licence_history, ledger_tip, ledger_entries TO "+digest,
	)
	// Where pgAudit is loaded (Aurora, through the stack's parameter
	// group), it logs DDL, role changes and writes; the API's own writes
	// are the ledger's, kept in its history, so its user logs DDL and role
	// changes only, and every other role's writes (the migration's, the
	// eraser's, an operator's) are audited.
	var pgaudit bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pgaudit')
		AND current_setting('shared_preload_libraries') LIKE '%pgaudit%'`).Scan(&pgaudit); err != nil {
		return fmt.Errorf("look for pgaudit: %w", err)
	}
	if pgaudit {
		steps = append(steps, "CREATE EXTENSION IF NOT EXISTS pgaudit", "ALTER ROLE "+api+" SET pgaudit.log TO 'ddl,role'")
	}
	for _, s := range steps {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
