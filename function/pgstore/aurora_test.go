package pgstore

import (
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"
)

func TestRDSCABundleParses(t *testing.T) {
	rest := rdsCABundle
	var n, current int
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatalf("certificate %d: %v", n, err)
		}
		if !cert.IsCA {
			t.Errorf("%s is not a CA", cert.Subject)
		}
		if time.Now().Before(cert.NotAfter) {
			current++
		}
		n++
	}
	if n < 100 || current == 0 {
		t.Errorf("%d certificates, %d current; want the regions' RDS authorities", n, current)
	}
	cfg, err := (Aurora{Host: "db.cluster-x.eu-west-2.rds.amazonaws.com"}).tlsConfig()
	if err != nil || cfg.ServerName != "db.cluster-x.eu-west-2.rds.amazonaws.com" || cfg.InsecureSkipVerify {
		t.Errorf("tls config %+v, %v: want verification of the cluster's name", cfg, err)
	}
}
