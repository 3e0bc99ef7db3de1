package notifier

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sfsap/sfsap/pkg/msg"
)

// emailSink sends one e-mail per outcome over SMTP.
type emailSink struct {
	cfg        Email
	accountURL string
	tls        *tls.Config
	timeout    time.Duration
	now        func() time.Time
}

func newEmail(cfg Email, accountURL string, timeout time.Duration) (*emailSink, error) {
	tc := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading notifier.email.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("notifier.email.ca_file %s contains no PEM certificate: use a PEM bundle of the CAs that sign the server's certificate", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	return &emailSink{cfg: cfg, accountURL: accountURL, tls: tc, timeout: timeout, now: time.Now}, nil
}

func (e *emailSink) name() string { return "email" }

func (e *emailSink) send(ctx context.Context, r msg.Result) error {
	body, err := e.message(r)
	if err != nil {
		return &SendError{Sink: "email", Permanent: true, Err: err}
	}
	if err := e.deliver(ctx, body); err != nil {
		return smtpError(err)
	}
	return nil
}

// deliver runs one SMTP session: connect, STARTTLS or TLS as configured,
// AUTH PLAIN when a username is set, then MAIL, RCPT, DATA and QUIT.
func (e *emailSink) deliver(ctx context.Context, body []byte) error {
	addr := net.JoinHostPort(e.cfg.Host, strconv.Itoa(e.cfg.Port))
	dialer := &net.Dialer{Timeout: e.timeout}
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", addr, err)
	}
	deadline := time.Now().Add(e.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	// net/smtp takes no context, so closing the connection ends a session
	// whose context ends first.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	if e.cfg.TLS == TLSImplicit {
		conn = tls.Client(conn, e.tls)
	}
	c, err := smtp.NewClient(conn, e.cfg.Host)
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("starting SMTP session with %s: %w", addr, err)
	}
	defer c.Close()

	if e.cfg.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errNoStartTLS
		}
		if err := c.StartTLS(e.tls); err != nil {
			return fmt.Errorf("STARTTLS with %s: %w", addr, err)
		}
	}
	if e.cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errNoAuth
		}
		if err := c.Auth(smtp.PlainAuth("", e.cfg.Username, e.cfg.Password, e.cfg.Host)); err != nil {
			return fmt.Errorf("authenticating as %s: %w", e.cfg.Username, err)
		}
	}
	from, _ := mail.ParseAddress(e.cfg.From)
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, to := range e.cfg.To {
		addr, _ := mail.ParseAddress(to)
		if err := c.Rcpt(addr.Address); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", addr.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("writing message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("ending message: %w", err)
	}
	return c.Quit()
}

var (
	errNoStartTLS = errors.New("the server does not offer STARTTLS: set notifier.email.tls to tls for port 465, or to none only for a trusted relay")
	errNoAuth     = errors.New("the server does not offer AUTH: remove notifier.email.username, or use the server's submission port")
)

// smtpError classifies err: reply codes 4xx are transient and 5xx
// permanent, as RFC 5321 section 4.2.1 defines them. Missing extensions
// and certificate errors are permanent; network errors are transient.
func smtpError(err error) *SendError {
	se := &SendError{Sink: "email", Err: err}
	var tp *textproto.Error
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &tp):
		se.Status = tp.Code
		se.Permanent = tp.Code >= 500
	case errors.Is(err, errNoStartTLS), errors.Is(err, errNoAuth), errors.As(err, &certErr):
		se.Permanent = true
	case strings.Contains(err.Error(), "unencrypted connection"):
		// net/smtp's PlainAuth refuses to send a password in plain text
		// to a host other than localhost.
		se.Permanent = true
	}
	return se
}

// message returns the RFC 5322 message for r, with LF line ends that the
// SMTP DATA writer turns into CRLF.
func (e *emailSink) message(r msg.Result) ([]byte, error) {
	v := render(r, e.accountURL)
	var text bytes.Buffer
	qp := quotedprintable.NewWriter(&text)
	fmt.Fprintf(qp, "%s\n\n%s\n\n", v.Title, v.Summary)
	for _, f := range v.Facts {
		fmt.Fprintf(qp, "%s: %s\n", f.Title, f.Value)
	}
	if v.AccountURL != "" {
		fmt.Fprintf(qp, "\nOpen the Account: %s\n", v.AccountURL)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("encoding message body: %w", err)
	}

	from, err := mail.ParseAddress(e.cfg.From)
	if err != nil {
		return nil, fmt.Errorf("notifier.email.from %q: %w", e.cfg.From, err)
	}
	to := make([]string, len(e.cfg.To))
	for i, t := range e.cfg.To {
		addr, err := mail.ParseAddress(t)
		if err != nil {
			return nil, fmt.Errorf("notifier.email.to entry %q: %w", t, err)
		}
		to[i] = addr.String()
	}
	subject := strings.Join(strings.Fields(e.cfg.SubjectPrefix+" "+v.Title), " ")

	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\n", k, v) }
	header("From", from.String())
	header("To", strings.Join(to, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", subject))
	header("Date", e.now().Format(time.RFC1123Z))
	header("Message-ID", messageID(from.Address))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\n")
	b.Write(text.Bytes())
	return b.Bytes(), nil
}

// messageID returns a unique Message-ID in the sender's domain.
func messageID(from string) string {
	domain := "sfsap.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = d
	}
	buf := make([]byte, 12)
	_, _ = rand.Read(buf)
	return "<" + hex.EncodeToString(buf) + "@" + domain + ">"
}
