// Command tlsgen writes a private CA, a NATS server certificate and client
// certificates as PEM files, for the compose demo and for tests. Production
// setups take their certificates from their own PKI or from cert-manager,
// and the file names match what cert-manager writes into a Secret.
//
// Output in the folder given by -dir:
//
//	ca.crt                 the CA certificate (its key is never written)
//	tls.crt, tls.key       the server certificate for the -hosts names
//	<name>.crt, <name>.key a client certificate for each of -clients
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "tlsgen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("tlsgen", flag.ContinueOnError)
	dir := fs.String("dir", "", "folder to write the PEM files to (required; created if missing)")
	hosts := fs.String("hosts", "localhost,127.0.0.1,nats", "comma-separated DNS names and IP addresses of the server certificate")
	clients := fs.String("clients", "sfsap-leaf", "comma-separated common names of client certificates, such as the leaf node's")
	validity := fs.Duration("validity", 365*24*time.Hour, "how long the certificates are valid")
	keep := fs.Bool("keep", false, "do nothing when ca.crt already exists in -dir, so a restart keeps the certificates")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("-dir is required: name the folder to write the certificates to")
	}
	if *keep {
		if _, err := os.Stat(filepath.Join(*dir, "ca.crt")); err == nil {
			fmt.Printf("tlsgen: %s already has ca.crt; keeping the existing certificates\n", *dir)
			return nil
		}
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", *dir, err)
	}

	ca, err := newCA(*validity)
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(*dir, "ca.crt"), "CERTIFICATE", ca.cert.Raw, 0o644); err != nil {
		return err
	}
	server := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "sfsap NATS server"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range splitList(*hosts) {
		if ip := net.ParseIP(h); ip != nil {
			server.IPAddresses = append(server.IPAddresses, ip)
		} else {
			server.DNSNames = append(server.DNSNames, h)
		}
	}
	if err := ca.issue(*dir, "tls", server, *validity); err != nil {
		return err
	}
	for _, name := range splitList(*clients) {
		client := &x509.Certificate{
			Subject:     pkix.Name{CommonName: name},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
		if err := ca.issue(*dir, name, client, *validity); err != nil {
			return err
		}
	}
	fmt.Printf("tlsgen: wrote ca.crt, tls.crt and %d client certificates to %s\n", len(splitList(*clients)), *dir)
	return nil
}

type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCA(validity time.Duration) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating CA key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "sfsap private CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("signing CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing CA certificate: %w", err)
	}
	return &authority{cert: cert, key: key}, nil
}

// issue signs tmpl with a new key and writes <name>.crt and <name>.key.
func (a *authority) issue(dir, name string, tmpl *x509.Certificate, validity time.Duration) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generating key for %s: %w", name, err)
	}
	serial, err := serialNumber()
	if err != nil {
		return err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(validity)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return fmt.Errorf("signing certificate %s: %w", name, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encoding key of %s: %w", name, err)
	}
	if err := writePEM(filepath.Join(dir, name+".crt"), "CERTIFICATE", der, 0o644); err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, name+".key"), "PRIVATE KEY", keyDER, 0o600)
}

func serialNumber() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generating serial number: %w", err)
	}
	return n, nil
}

func writePEM(path, blockType string, der []byte, mode os.FileMode) error {
	data := pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})
	if err := os.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func splitList(s string) []string {
	var items []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}
