package infra

import (
	"reflect"
	"slices"
	"testing"

	"github.com/privateledger/licences/function/env"
)

// variables returns the environment a function was declared with.
func (d *deployment) variables(t *testing.T, part string) map[string]string {
	t.Helper()
	e, _ := d.one(t, "aws:lambda/function:Function", part).Inputs["environment"].(map[string]any)
	v, _ := e["variables"].(map[string]any)
	out := map[string]string{}
	for k, x := range v {
		out[k], _ = x.(string)
	}
	return out
}

// TestTheHandlerReadsWhatTheStackWrites feeds the environment the stack
// declares for each function of each engine through the handler's own
// parser, and checks it says what the stack meant: the two sides of the
// contract cannot drift. It fails when a name changes on one side only:
//
// Mutant: ../function/env/env.go `vars[DBName] = p.Database` -> `vars["DATABASE_NAME"] = p.Database`
// Mutant: ../function/env/env.go `Database:  getenv(DBName),` -> `Database:  getenv("DB_DATABASE"),`
// Mutant: ../function/env/env.go `vars[LedgerName] = c.QLDB.LedgerName` -> `vars["QLDB_LEDGER"] = c.QLDB.LedgerName`
func TestTheHandlerReadsWhatTheStackWrites(t *testing.T) {
	checked := map[env.Engine]int{}
	for _, stage := range shippedStages {
		d := mustDeploy(t, stage, nil)
		want := map[string]env.Config{}
		switch d.config.LedgerEngine {
		case env.QLDB:
			ledger := d.one(t, "aws:qldb/ledger:Ledger", "ledger").Inputs["name"].(string)
			q := env.QLDBConfig{LedgerName: ledger}
			want[apiPart] = env.Config{Engine: env.QLDB, CORSAllowOrigin: d.config.CORSAllowOrigin, QLDB: q}
			want[erasePart] = env.Config{Engine: env.QLDB, CORSAllowOrigin: d.config.CORSAllowOrigin, QLDB: q}
			want[migrationPart] = env.Config{Engine: env.QLDB, QLDB: q}
		case env.AuroraPostgreSQL:
			cluster := d.one(t, "aws:rds/cluster:Cluster", "database").Inputs["clusterIdentifier"].(string)
			p := env.PostgresConfig{Host: cluster + ".cluster-c1.eu-west-2.rds.amazonaws.com", Port: 5432, Database: databaseName, User: env.APIDatabaseUser,
				ReleaseIdle: d.config.AuroraMinCapacity == 0}
			want[apiPart] = env.Config{Engine: env.AuroraPostgreSQL, CORSAllowOrigin: d.config.CORSAllowOrigin, Postgres: p}
			eraser := p
			eraser.User = env.EraserDatabaseUser
			want[erasePart] = env.Config{Engine: env.AuroraPostgreSQL, CORSAllowOrigin: d.config.CORSAllowOrigin, Postgres: eraser}
			digest := p
			digest.User = env.DigestDatabaseUser
			want[digestPart] = env.Config{Engine: env.AuroraPostgreSQL, Postgres: digest, Stage: stage,
				DigestBucket: digestBucketName(stage)}
			p.SecretARN = secretARN
			want[migrationPart] = env.Config{Engine: env.AuroraPostgreSQL, Postgres: p}
		}
		if len(want) == 0 {
			t.Fatalf("%s: engine %q has no expectations", stage, d.config.LedgerEngine)
		}
		for part, w := range want {
			vars := d.variables(t, part)
			for k := range vars {
				if !slices.Contains(env.Names(), k) {
					t.Errorf("%s %s: the stack sets %s, which is not in the handler's contract", stage, part, k)
				}
			}
			got, err := env.Parse(func(k string) string { return vars[k] })
			if err != nil {
				t.Errorf("%s %s: the handler refuses the environment %v: %v", stage, part, vars, err)
				continue
			}
			w.ListenAddr, w.LocalActor = env.DefaultListenAddr, env.DefaultLocalActor // Parse's defaults: the stack never sets them
			if !reflect.DeepEqual(got, w) {
				t.Errorf("%s %s: the handler reads\n  %+v\nwant\n  %+v", stage, part, got, w)
			}
			checked[d.config.LedgerEngine]++
		}
	}
	for _, e := range env.Engines() {
		if checked[e] == 0 {
			t.Errorf("no stage checked the %s engine's environment", e)
		}
	}
}
