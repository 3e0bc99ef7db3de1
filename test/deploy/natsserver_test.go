package deploy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsServerModule is the nats-server main package. The test builds it
// at the version go.mod pins, the same the Dockerfile builds.
const natsServerModule = "github.com/nats-io/nats-server/v2"

// passwordUsers are the users of deploy/nats/nats-server.conf that log in
// with a password; the leaf node logs in with its certificate instead.
var passwordUsers = []string{"provisioner", "listener", "filter", "sapworker", "writeback", "reconciler", "notifier", "operator"}

// hub is a nats-server process running deploy/nats/nats-server.conf.
type hub struct {
	proc       *process
	clientURL  string
	leafURL    string
	monitorURL string
	tlsDir     string
	passwords  map[string]string
}

// passwordEnv returns the name of the server's environment variable with
// the user's password.
func passwordEnv(user string) string {
	return "NATS_PASSWORD_" + strings.ToUpper(user)
}

func randomPassword(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// makeCerts runs deploy/tlsgen into a new folder and returns it. Besides
// the leaf node's certificate it issues one for "intruder", a client the
// CA signed but the server maps to no user.
func makeCerts(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(buildBinary(t, "./deploy/tlsgen"), "-dir", dir, "-hosts", "localhost,127.0.0.1", "-clients", "sfsap-leaf,intruder")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tlsgen: %v\n%s", err, out)
	}
	return dir
}

// startHub starts nats-server with deploy/nats/nats-server.conf on
// loopback ports, with a fresh store, certificates and passwords.
func startHub(t *testing.T) *hub {
	t.Helper()
	natsBin := buildBinary(t, natsServerModule)
	h := &hub{tlsDir: makeCerts(t), passwords: map[string]string{}}
	dir := t.TempDir()
	clientPort, monitorPort, leafPort := freePort(t), freePort(t), freePort(t)
	conf := render(t, "deploy/nats/nats-server.conf", dir,
		"0.0.0.0:4222", fmt.Sprintf("127.0.0.1:%d", clientPort),
		"0.0.0.0:8222", fmt.Sprintf("127.0.0.1:%d", monitorPort),
		"0.0.0.0:7422", fmt.Sprintf("127.0.0.1:%d", leafPort),
		"/etc/nats/tls/", h.tlsDir+"/",
		"/data/jetstream", filepath.Join(dir, "jetstream"),
	)
	var env []string
	for _, u := range passwordUsers {
		h.passwords[u] = randomPassword(t)
		env = append(env, passwordEnv(u)+"="+h.passwords[u])
	}
	h.clientURL = fmt.Sprintf("tls://127.0.0.1:%d", clientPort)
	h.leafURL = fmt.Sprintf("tls://127.0.0.1:%d", leafPort)
	h.monitorURL = fmt.Sprintf("http://127.0.0.1:%d", monitorPort)
	h.proc = startProcess(t, "nats hub", natsBin, []string{"-c", conf}, env)
	waitHTTP(t, h.proc, h.monitorURL+"/healthz")
	return h
}

// serviceEnv returns the SFSAP_* variables that connect a service binary
// to the hub as user, as the compose file and the Kubernetes manifests
// set them, with the password in a file.
func (h *hub) serviceEnv(t *testing.T, user string) []string {
	t.Helper()
	return []string{
		"SFSAP_NATS_URL=" + h.clientURL,
		"SFSAP_NATS_USER=" + user,
		"SFSAP_NATS_PASSWORD_FILE=" + writeSecret(t, t.TempDir(), "nats-password", h.passwords[user]),
		"SFSAP_NATS_CA_FILE=" + filepath.Join(h.tlsDir, "ca.crt"),
		"SFSAP_NATS_INBOX_PREFIX=_INBOX_" + user,
		"SFSAP_NATS_SKIP_TOPOLOGY=true",
	}
}

// provision runs `sfsap --provision` as the provisioner user and waits for
// it to finish.
func (h *hub) provision(t *testing.T) {
	t.Helper()
	env := h.serviceEnv(t, "provisioner")
	cmd := exec.Command(buildBinary(t, "./cmd/sfsap"), "--provision")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sfsap --provision as provisioner: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "are in place") {
		t.Fatalf("sfsap --provision printed %q, want the confirmation", out)
	}
}

// permissionViolations reports the lines of the server log that record a
// refused publish or subscription.
func permissionViolations(p *process) []string {
	var lines []string
	for _, line := range strings.Split(p.out.String(), "\n") {
		// The server logs "Publish Violation" or "Subscription Violation";
		// only the client sees "Permissions Violation".
		if strings.Contains(line, "Violation") {
			lines = append(lines, line)
		}
	}
	return lines
}

// conn is a client connection that records the permission violations the
// server reports to it.
type conn struct {
	nc         *nats.Conn
	js         jetstream.JetStream
	violations chan string
}

// connect logs in to url as user with the CA of tlsDir and the user's own
// reply prefix, and opens JetStream in domain (empty for the server's own).
func connect(t *testing.T, url, tlsDir, user, password, domain string) *conn {
	t.Helper()
	c := &conn{violations: make(chan string, 16)}
	nc, err := nats.Connect(url,
		nats.UserInfo(user, password),
		nats.RootCAs(filepath.Join(tlsDir, "ca.crt")),
		nats.CustomInboxPrefix("_INBOX_"+user),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrPermissionViolation) {
				select {
				case c.violations <- err.Error():
				default:
				}
			}
		}),
	)
	if err != nil {
		t.Fatalf("connecting to %s as %s: %v", url, user, err)
	}
	t.Cleanup(nc.Close)
	c.nc = nc
	if domain == "" {
		c.js, err = jetstream.New(nc)
	} else {
		c.js, err = jetstream.NewWithDomain(nc, domain)
	}
	if err != nil {
		t.Fatalf("opening JetStream: %v", err)
	}
	return c
}

// try runs action and returns the first permission violation the server
// reported meanwhile, if any, and the action's error. A violation ends the
// action's context at once, since the server drops a refused request and
// the action would otherwise wait for its timeout.
func (c *conn) try(action func(ctx context.Context, c *conn) error) (violation string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	stop := make(chan struct{})
	watched := make(chan string, 1)
	go func() {
		select {
		case v := <-c.violations:
			cancel()
			watched <- v
		case <-stop:
			watched <- ""
		}
	}()
	err = action(ctx, c)
	// A refused plain publish or subscription gets no reply: the server
	// reports it on the connection, and the client hands the report to
	// its error handler on another goroutine. The flush makes sure the
	// report has arrived; the short wait lets the handler run.
	_ = c.nc.FlushTimeout(5 * time.Second)
	select {
	case violation = <-watched:
	case <-time.After(500 * time.Millisecond):
		close(stop)
		violation = <-watched
	}
	return violation, err
}
