package pgstore

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/jackc/pgx/v5"
)

//go:embed schema.sql
var schemaSQL string

// Migrate creates the schema and the application user where they are
// absent, and grants that user the least it needs: read and write licences,
// read history, nothing else. With iamAuth the user logs in with IAM tokens
// (Aurora's rds_iam role) and has no password. Running it again changes
// nothing. conn must be the database owner's.
func Migrate(ctx context.Context, conn *pgx.Conn, appUser string, iamAuth bool) error {
	if _, err := conn.Exec(ctx, schemaSQL); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	user := pgx.Identifier{appUser}.Sanitize()
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)`, appUser).Scan(&exists); err != nil {
		return fmt.Errorf("look up %s: %w", appUser, err)
	}
	steps := []string{}
	if !exists {
		steps = append(steps, "CREATE ROLE "+user+" LOGIN")
	}
	if iamAuth {
		steps = append(steps, "GRANT rds_iam TO "+user)
	}
	steps = append(steps,
		"REVOKE ALL ON licences, licence_history FROM "+user,
		"GRANT SELECT, INSERT, UPDATE, DELETE ON licences TO "+user,
		"GRANT SELECT ON licence_history TO "+user,
		"REVOKE ALL ON FUNCTION licence_history_append() FROM PUBLIC",
	)
	for _, s := range steps {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
