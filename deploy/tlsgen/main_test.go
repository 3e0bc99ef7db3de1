package main

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s holds no PEM certificate", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	return cert
}

func TestRunWritesVerifiableChain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := run([]string{"-dir", dir, "-hosts", "nats,127.0.0.1", "-clients", "sfsap-leaf,other"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(readCert(t, filepath.Join(dir, "ca.crt")))

	server := readCert(t, filepath.Join(dir, "tls.crt"))
	for _, host := range []string{"nats", "127.0.0.1"} {
		opts := x509.VerifyOptions{Roots: roots, DNSName: host, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		if _, err := server.Verify(opts); err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}
	if _, err := server.Verify(x509.VerifyOptions{Roots: roots, DNSName: "elsewhere"}); err == nil {
		t.Errorf("server certificate verifies for a host it does not name")
	}
	for _, name := range []string{"sfsap-leaf", "other"} {
		client := readCert(t, filepath.Join(dir, name+".crt"))
		if client.Subject.CommonName != name {
			t.Errorf("%s.crt has common name %q", name, client.Subject.CommonName)
		}
		opts := x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
		if _, err := client.Verify(opts); err != nil {
			t.Errorf("client certificate %s: %v", name, err)
		}
		info, err := os.Stat(filepath.Join(dir, name+".key"))
		if err != nil {
			t.Fatal(err)
		}
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s.key has mode %o, want 600", name, mode)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ca.key")); err == nil {
		t.Errorf("run wrote the CA key")
	}
}

func TestRunKeepsExistingCertificates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := run([]string{"-dir", dir}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(dir, "tls.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"-dir", dir, "-keep"}); err != nil {
		t.Fatalf("run -keep: %v", err)
	}
	after, err := os.ReadFile(filepath.Join(dir, "tls.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Errorf("run -keep replaced tls.crt")
	}
}

func TestRunNeedsDir(t *testing.T) {
	t.Parallel()
	if err := run(nil); err == nil {
		t.Fatalf("run without -dir = nil error, want one naming -dir")
	}
}
