// Package deploy tests the files under deploy/, docker-compose.yml and the
// Dockerfile: the NATS configurations run as real nats-server processes
// with the service binaries attached, and the compose, Kubernetes and
// Salesforce files are parsed and checked against the code.
package deploy

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// repoRoot is the module root, relative to this package's folder.
const repoRoot = "../.."

// binDir holds the binaries built for this test run.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sfsap-deploy-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "creating the binary folder:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type build struct {
	once sync.Once
	path string
	err  error
}

var (
	buildsMu sync.Mutex
	builds   = map[string]*build{}
)

// buildBinary builds the main package pkg (a path relative to the module
// root, or a module path such as github.com/nats-io/nats-server/v2) as a
// static binary, once per test run, and returns its path. It builds the
// way the Dockerfile does, with CGO_ENABLED=0.
func buildBinary(t *testing.T, pkg string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH: install Go to build the binaries these tests run")
	}
	buildsMu.Lock()
	b, ok := builds[pkg]
	if !ok {
		b = &build{}
		builds[pkg] = b
	}
	buildsMu.Unlock()
	b.once.Do(func() {
		name := strings.ReplaceAll(strings.Trim(pkg, "./"), "/", "_")
		b.path = filepath.Join(binDir, name)
		cmd := exec.Command(goTool, "build", "-trimpath", "-o", b.path, pkg)
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// render copies the file at src (relative to the module root) to a new
// file in dir and replaces each old string with its new one. It fails the
// test when an old string does not occur, so a changed file cannot
// silently escape the test's paths and ports.
func render(t *testing.T, src, dir string, replacements ...string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, src))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for i := 0; i+1 < len(replacements); i += 2 {
		old, repl := replacements[i], replacements[i+1]
		if !strings.Contains(text, old) {
			t.Fatalf("%s does not contain %q; update the test's replacements", src, old)
		}
		text = strings.ReplaceAll(text, old, repl)
	}
	dst := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(dst, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// process is a program started by a test.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error
}

// startProcess starts bin with args and exactly the given environment,
// and stops it with SIGTERM when the test ends. On failure the test log
// gets the process's output.
func startProcess(t *testing.T, name, bin string, args, env []string) *process {
	t.Helper()
	p := &process{name: name, out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = env
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("output of %s:\n%s", name, tail(p.out.String(), 6000))
		}
	})
	return p
}

// stop sends SIGTERM and waits for the process, killing it if it does not
// end within 20 seconds.
func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// waitHTTP polls url until it returns 200 OK. It fails the test when the
// process p ends first or no such response arrives within a minute.
func waitHTTP(t *testing.T, p *process, url string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		if p != nil && p.exited() {
			t.Fatalf("%s ended before %s answered: %v", p.name, url, p.err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s did not answer 200 OK within a minute: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitFor polls cond until it returns true, failing the test with msg
// after the given time.
func waitFor(t *testing.T, within time.Duration, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writeSecret writes value to a new file readable by its owner only and
// returns the path.
func writeSecret(t *testing.T, dir, name, value string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
