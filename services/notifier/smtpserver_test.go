package notifier

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpServer is a small SMTP server on loopback for tests. It speaks the
// commands net/smtp sends (EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA,
// RSET, NOOP, QUIT) and records every message it accepts.
type smtpServer struct {
	ln net.Listener
	// startTLS, when set, is offered as the STARTTLS extension.
	startTLS *tls.Config
	// user and password, when set, are required through AUTH PLAIN.
	user, password string
	// rcptReply and dataReply, when set, replace the reply to RCPT and to
	// the end of DATA, such as "451 4.3.0 try later".
	rcptReply, dataReply string

	mu       sync.Mutex
	messages []smtpMessage
	sessions int
}

type smtpMessage struct {
	From, AuthUser string
	To             []string
	Data           string
	TLS            bool
}

// startSMTP starts srv on 127.0.0.1. With implicit set, connections use
// TLS from the first byte.
func startSMTP(t *testing.T, srv *smtpServer, implicit *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	if implicit != nil {
		ln = tls.NewListener(ln, implicit)
	}
	srv.ln = ln
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go srv.serve(conn, implicit != nil)
		}
	}()
	return ln.Addr().String()
}

func (s *smtpServer) received() []smtpMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMessage(nil), s.messages...)
}

func (s *smtpServer) serve(conn net.Conn, secure bool) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	s.mu.Lock()
	s.sessions++
	s.mu.Unlock()

	tp := textproto.NewConn(conn)
	reply := func(line string) bool { return tp.PrintfLine("%s", line) == nil }
	if !reply("220 127.0.0.1 ESMTP test") {
		return
	}
	var msg smtpMessage
	msg.TLS = secure
	authed := false
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			lines := []string{"250-127.0.0.1"}
			if s.startTLS != nil && !msg.TLS {
				lines = append(lines, "250-STARTTLS")
			}
			if s.user != "" {
				lines = append(lines, "250-AUTH PLAIN")
			}
			lines = append(lines, "250 8BITMIME")
			for _, l := range lines {
				if !reply(l) {
					return
				}
			}
		case "STARTTLS":
			if s.startTLS == nil || msg.TLS {
				reply("502 5.5.1 STARTTLS not offered")
				continue
			}
			reply("220 2.0.0 ready for TLS")
			tlsConn := tls.Server(conn, s.startTLS)
			if err := tlsConn.Handshake(); err != nil {
				return
			}
			conn = tlsConn
			tp = textproto.NewConn(conn)
			msg.TLS = true
		case "AUTH":
			mech, initial, _ := strings.Cut(arg, " ")
			raw, err := base64.StdEncoding.DecodeString(initial)
			parts := strings.Split(string(raw), "\x00")
			if !strings.EqualFold(mech, "PLAIN") || err != nil || len(parts) != 3 || parts[1] != s.user || parts[2] != s.password {
				reply("535 5.7.8 authentication failed")
				continue
			}
			authed = true
			msg.AuthUser = parts[1]
			reply("235 2.7.0 authenticated")
		case "MAIL":
			if s.user != "" && !authed {
				reply("530 5.7.0 authentication required")
				continue
			}
			msg.From = pathOf(arg)
			reply("250 2.1.0 ok")
		case "RCPT":
			if s.rcptReply != "" {
				reply(s.rcptReply)
				continue
			}
			msg.To = append(msg.To, pathOf(arg))
			reply("250 2.1.5 ok")
		case "DATA":
			reply("354 end with <CRLF>.<CRLF>")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			if s.dataReply != "" {
				reply(s.dataReply)
				continue
			}
			msg.Data = string(data)
			s.mu.Lock()
			s.messages = append(s.messages, msg)
			s.mu.Unlock()
			reply("250 2.0.0 queued")
		case "RSET", "NOOP":
			reply("250 2.0.0 ok")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("500 5.5.2 unknown command")
		}
	}
}

// testCert returns a TLS server config for 127.0.0.1 and the path of a
// PEM file with its self-signed certificate, to use as a CA file.
func testCert(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generating key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("creating certificate: %v", err)
	}

	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatalf("encoding key: %v", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatalf("loading key pair: %v", err)
	}

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatalf("writing CA file: %v", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, caFile
}

// pathOf returns the address of a MAIL or RCPT argument such as
// "FROM:<a@example.com> BODY=8BITMIME".
func pathOf(arg string) string {
	_, path, _ := strings.Cut(arg, ":")
	path, _, _ = strings.Cut(strings.TrimSpace(path), " ")
	return strings.Trim(path, "<>")
}
