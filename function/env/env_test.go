package env

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func lookup(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestVarsParseBack(t *testing.T) {
	for _, c := range []Config{
		{Engine: QLDB, CORSAllowOrigin: "*", ListenAddr: DefaultListenAddr, LocalActor: DefaultLocalActor, QLDB: QLDBConfig{LedgerName: "licences-dev"}},
		{Engine: QLDB, ListenAddr: "127.0.0.1:9", LocalActor: "ops", Stage: "dev", DigestBucket: "b", QLDB: QLDBConfig{LedgerName: "l", SessionEndpoint: "http://127.0.0.1:8811"}},
		{Engine: AuroraPostgreSQL, ListenAddr: DefaultListenAddr, LocalActor: DefaultLocalActor, Postgres: PostgresConfig{Host: "db.example", Port: 5432, Database: "licences", User: APIDatabaseUser}},
		{Engine: AuroraPostgreSQL, ListenAddr: DefaultListenAddr, LocalActor: DefaultLocalActor, Postgres: PostgresConfig{Host: "db.example", Port: 5432, Database: "licences", User: "u", SecretARN: "arn:aws:secretsmanager:eu-west-2:123456789012:secret:x"}},
		{Engine: AuroraPostgreSQL, ListenAddr: DefaultListenAddr, LocalActor: DefaultLocalActor, Postgres: PostgresConfig{User: APIDatabaseUser, URL: "postgres://localhost/x"}},
	} {
		got, err := Parse(lookup(c.Vars()))
		if err != nil {
			t.Errorf("Parse(%v): %v", c.Vars(), err)
			continue
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("Parse(Vars()) = %+v, want %+v", got, c)
		}
	}
}

func TestVarsLeaveOutTheOtherEngineAndEmptyValues(t *testing.T) {
	vars := Config{Engine: QLDB, QLDB: QLDBConfig{LedgerName: "l"}, Postgres: PostgresConfig{Host: "h"}}.Vars()
	want := map[string]string{LedgerEngine: "qldb", LedgerName: "l"}
	if !reflect.DeepEqual(vars, want) {
		t.Errorf("Vars = %v, want %v", vars, want)
	}
}

func TestParseDefaults(t *testing.T) {
	c, err := Parse(lookup(map[string]string{DatabaseURL: "postgres://x"}))
	if err != nil || c.Engine != AuroraPostgreSQL || c.ListenAddr != DefaultListenAddr {
		t.Errorf("Parse = %+v, %v; want the aurora-postgresql engine on %s", c, err, DefaultListenAddr)
	}
	c, err = Parse(lookup(map[string]string{LedgerEngine: "aurora-postgresql", DatabaseURL: "postgres://x"}))
	if err != nil || c.Postgres.User != APIDatabaseUser {
		t.Errorf("Parse = %+v, %v; want the user %s", c, err, APIDatabaseUser)
	}
}

func TestParseErrorsNameTheVariable(t *testing.T) {
	for _, tc := range []struct {
		vars map[string]string
		want []string
	}{
		{map[string]string{}, []string{DBHost, DatabaseURL}},
		{map[string]string{LedgerEngine: "qldb"}, []string{LedgerName}},
		{map[string]string{LedgerEngine: "mysql"}, []string{LedgerEngine, `"mysql"`, "qldb", "aurora-postgresql"}},
		{map[string]string{LedgerEngine: "aurora-postgresql"}, []string{DBHost, DBPort, DBName, DatabaseURL}},
		{map[string]string{LedgerEngine: "aurora-postgresql", DBHost: "h", DBName: "n"}, []string{"DB_PORT is not set"}},
		{map[string]string{LedgerEngine: "aurora-postgresql", DBHost: "h", DBName: "n", DBPort: "99999"}, []string{DBPort, "1 to 65535"}},
		{map[string]string{LedgerEngine: "aurora-postgresql", DBHost: "h", DBName: "n", DBPort: "x"}, []string{DBPort}},
	} {
		_, err := Parse(lookup(tc.vars))
		if err == nil {
			t.Errorf("Parse(%v) succeeded", tc.vars)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Parse(%v) = %q, want it to name %q", tc.vars, err, w)
			}
		}
	}
}

// Every variable of the contract is documented where the local commands
// are, so a developer learns each setting the handler reads.
func TestEveryVariableIsDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "local.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Names() {
		if !strings.Contains(string(b), "`"+name+"`") {
			t.Errorf("docs/local.md does not document %s", name)
		}
	}
}
