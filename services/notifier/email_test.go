package notifier

import (
	"bufio"
	"context"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/msg"
)

const testAccount = "001Hx00000ABcDeIAL"

func failedResult() msg.Result {
	return msg.Result{
		Schema: msg.SchemaResult, AccountID: testAccount, AccountName: "Brennerei Alpenglück GmbH",
		Outcome: msg.OutcomeFailed, Stage: "writeback", CorrelationID: "corr-1",
		Reason:      "Billing country is empty: set it on the Account",
		CommittedAt: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC),
		At:          time.Date(2026, 3, 1, 9, 30, 2, 0, time.UTC),
	}
}

// emailConfig points an Email config at addr.
func emailConfig(t *testing.T, addr string, tlsMode string) Email {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("splitting %s: %v", addr, err)
	}
	p, _ := strconv.Atoi(port)
	return Email{
		Host: host, Port: p, TLS: tlsMode, From: "sfsap <sfsap@example.com>",
		To: []string{"sales-ops@example.com", "Integration Team <it@example.com>"},
	}.withDefaults(NotifyFailures)
}

func sendEmail(t *testing.T, cfg Email, r msg.Result) error {
	t.Helper()
	sink, err := newEmail(cfg, "https://example.my.salesforce.com/lightning/r/Account/{id}/view", 10*time.Second)
	if err != nil {
		t.Fatalf("newEmail: %v", err)
	}
	return sink.send(context.Background(), r)
}

func TestEmailPlainWithoutAuth(t *testing.T) {
	t.Parallel()
	srv := &smtpServer{}
	addr := startSMTP(t, srv, nil)

	if err := sendEmail(t, emailConfig(t, addr, TLSNone), failedResult()); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := srv.received()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	m := got[0]
	if m.From != "sfsap@example.com" {
		t.Errorf("MAIL FROM = %q, want sfsap@example.com", m.From)
	}
	if diff := cmp.Diff([]string{"sales-ops@example.com", "it@example.com"}, m.To); diff != "" {
		t.Errorf("RCPT TO (-want +got):\n%s", diff)
	}
	if m.TLS {
		t.Errorf("session used TLS, want plain text with tls none")
	}
	checkMessage(t, m.Data)
}

// checkMessage parses an RFC 5322 message and checks its headers and the
// decoded body.
func checkMessage(t *testing.T, data string) {
	t.Helper()
	parsed, err := mail.ReadMessage(bufio.NewReader(strings.NewReader(data)))
	if err != nil {
		t.Fatalf("parsing message: %v\n%s", err, data)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decoding subject %q: %v", parsed.Header.Get("Subject"), err)
	}
	if want := "[sfsap] SAP sync failed: Brennerei Alpenglück GmbH"; subject != want {
		t.Errorf("Subject = %q, want %q", subject, want)
	}
	if got := parsed.Header.Get("To"); !strings.Contains(got, "it@example.com") || !strings.Contains(got, "sales-ops@example.com") {
		t.Errorf("To = %q, want both recipients", got)
	}
	if got := parsed.Header.Get("Message-Id"); !strings.HasSuffix(got, "@example.com>") {
		t.Errorf("Message-ID = %q, want one in the sender's domain", got)
	}

	if _, err := parsed.Header.Date(); err != nil {
		t.Errorf("Date header: %v", err)
	}
	if got := parsed.Header.Get("Content-Transfer-Encoding"); got != "quoted-printable" {
		t.Errorf("Content-Transfer-Encoding = %q, want quoted-printable", got)
	}

	body, err := io.ReadAll(quotedprintable.NewReader(parsed.Body))
	if err != nil {
		t.Fatalf("decoding body: %v", err)
	}
	for _, want := range []string{
		"Billing country is empty: set it on the Account",
		"Account: " + testAccount,
		"Account name: Brennerei Alpenglück GmbH",
		"Correlation id: corr-1",
		"Open the Account: https://example.my.salesforce.com/lightning/r/Account/" + testAccount + "/view",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("body lacks %q; body:\n%s", want, body)
		}
	}
}

func TestEmailStartTLSWithAuth(t *testing.T) {
	t.Parallel()
	serverTLS, caFile := testCert(t)
	srv := &smtpServer{startTLS: serverTLS, user: "notifier", password: "s3cret"}
	addr := startSMTP(t, srv, nil)

	cfg := emailConfig(t, addr, TLSStartTLS)
	cfg.CAFile = caFile
	cfg.Username, cfg.Password = "notifier", "s3cret"
	if err := sendEmail(t, cfg, failedResult()); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := srv.received()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	if !got[0].TLS {
		t.Errorf("message sent without TLS, want STARTTLS first")
	}
	if got[0].AuthUser != "notifier" {
		t.Errorf("authenticated user = %q, want notifier", got[0].AuthUser)
	}
}

func TestEmailImplicitTLS(t *testing.T) {
	t.Parallel()
	serverTLS, caFile := testCert(t)
	srv := &smtpServer{}
	addr := startSMTP(t, srv, serverTLS)

	cfg := emailConfig(t, addr, TLSImplicit)
	cfg.CAFile = caFile
	if err := sendEmail(t, cfg, failedResult()); err != nil {
		t.Fatalf("send: %v", err)
	}
	if got := srv.received(); len(got) != 1 || !got[0].TLS {
		t.Fatalf("server received %+v, want one message over TLS", got)
	}
}

func TestEmailFailures(t *testing.T) {
	t.Parallel()
	serverTLS, caFile := testCert(t)
	tests := []struct {
		name          string
		server        *smtpServer
		tlsMode       string
		caFile        string
		user          string
		wantStatus    int
		wantPermanent bool
	}{
		{"temporary recipient failure", &smtpServer{rcptReply: "451 4.3.0 mailbox busy"}, TLSNone, "", "", 451, false},
		{"rejected recipient", &smtpServer{rcptReply: "550 5.1.1 no such user"}, TLSNone, "", "", 550, true},
		{"temporary data failure", &smtpServer{dataReply: "452 4.3.1 out of storage"}, TLSNone, "", "", 452, false},
		{"STARTTLS required but not offered", &smtpServer{}, TLSStartTLS, "", "", 0, true},
		{"untrusted certificate", &smtpServer{startTLS: serverTLS}, TLSStartTLS, "", "", 0, true},
		{"wrong password", &smtpServer{startTLS: serverTLS, user: "notifier", password: "other"}, TLSStartTLS, caFile, "notifier", 535, true},
		{"AUTH not offered", &smtpServer{}, TLSNone, "", "notifier", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := startSMTP(t, tt.server, nil)
			cfg := emailConfig(t, addr, tt.tlsMode)
			cfg.CAFile = tt.caFile
			if tt.user != "" {
				cfg.Username, cfg.Password = tt.user, "s3cret"
			}
			err := sendEmail(t, cfg, failedResult())
			se, ok := err.(*SendError)
			if !ok {
				t.Fatalf("send error = %v (%T), want *SendError", err, err)
			}
			if se.Status != tt.wantStatus {
				t.Errorf("Status = %d, want %d (error %v)", se.Status, tt.wantStatus, err)
			}
			if se.Permanent != tt.wantPermanent {
				t.Errorf("Permanent = %v, want %v (error %v)", se.Permanent, tt.wantPermanent, err)
			}
			if got := tt.server.received(); len(got) != 0 {
				t.Errorf("server accepted %d messages, want none", len(got))
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}

func TestEmailConnectionRefusedIsTransient(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()

	err = sendEmail(t, emailConfig(t, addr, TLSNone), failedResult())
	if err == nil || IsPermanent(err) {
		t.Fatalf("send to a closed port = %v, want a transient error", err)
	}
}

func TestEmailSubjectHasNoLineBreak(t *testing.T) {
	t.Parallel()
	sink, err := newEmail(emailConfig(t, "127.0.0.1:25", TLSNone), "", time.Second)
	if err != nil {
		t.Fatalf("newEmail: %v", err)
	}
	r := failedResult()
	r.AccountName = "Evil\r\nBcc: victim@example.com"
	data, err := sink.message(r)
	if err != nil {
		t.Fatalf("message: %v", err)
	}
	header, _, _ := strings.Cut(string(data), "\n\n")
	if strings.Contains(header, "\nBcc:") {
		t.Fatalf("account name injected a header:\n%s", header)
	}
	parsed, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("parsing message: %v", err)
	}
	if got := parsed.Header.Get("Bcc"); got != "" {
		t.Fatalf("Bcc header = %q, want none", got)
	}
}
