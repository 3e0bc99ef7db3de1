package natstest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

// ModuleRoot returns the folder of sfsap's go.mod.
func ModuleRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("locating the module root: no caller information")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("locating the module root: %w", err)
	}
	return root, nil
}

// ServerBinary builds the nats-server command of the version in go.mod
// once per test binary, into a temporary folder, and returns its path. A
// package that calls it should call RemoveBuilds from TestMain.
func ServerBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := ModuleRoot()
		if err != nil {
			buildErr = err
			return
		}
		if buildDir, err = os.MkdirTemp("", "sfsap-natstest-"); err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(buildDir, "nats-server")
		cmd := exec.Command("go", "build", "-o", buildBin, "github.com/nats-io/nats-server/v2")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building nats-server: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("%v", buildErr)
	}
	return buildBin
}

// RemoveBuilds deletes the binary ServerBinary built, if any.
func RemoveBuilds() {
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
}

// Process is a nats-server process with JetStream on a loopback port.
type Process struct {
	// URL is the client URL, such as nats://127.0.0.1:4222.
	URL      string
	Port     int
	StoreDir string
	// LogFile receives the server's output, appended on each start.
	LogFile string

	bin string
	mu  sync.Mutex
	cmd *exec.Cmd
}

// StartProcess starts nats-server with JetStream on a free port of
// 127.0.0.1 with its store in a temporary folder, and kills it when the
// test ends.
func StartProcess(t testing.TB) *Process {
	t.Helper()
	dir := t.TempDir()
	port, err := freePort()
	if err != nil {
		t.Fatalf("finding a free port for nats-server: %v", err)
	}
	p := &Process{
		URL:      "nats://127.0.0.1:" + strconv.Itoa(port),
		Port:     port,
		StoreDir: filepath.Join(dir, "store"),
		LogFile:  filepath.Join(dir, "nats-server.log"),
		bin:      ServerBinary(t),
	}
	if err := p.Start(); err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { _ = p.Stop(syscall.SIGKILL) })
	return p
}

// Start starts the server on its port and store and waits until it
// accepts connections. It returns an error when the server is running.
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("starting nats-server on port %d: it is running already", p.Port)
	}
	logf, err := os.OpenFile(p.LogFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("opening nats-server log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(p.bin, "-a", "127.0.0.1", "-p", strconv.Itoa(p.Port), "-js", "-sd", p.StoreDir)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting nats-server: %w", err)
	}
	p.cmd = cmd
	if err := waitReady(p.Port, 30*time.Second); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		p.cmd = nil
		return fmt.Errorf("starting nats-server on port %d: %w (log in %s)", p.Port, err, p.LogFile)
	}
	return nil
}

// Stop sends sig to the server and waits until it has exited. Stopping a
// server that is not running does nothing.
func (p *Process) Stop(sig os.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return nil
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signalling nats-server: %w", err)
	}
	_ = p.cmd.Wait()
	p.cmd = nil
	return nil
}

// Restart stops the server with sig and starts it again on the same port
// and store.
func (p *Process) Restart(sig os.Signal) error {
	if err := p.Stop(sig); err != nil {
		return err
	}
	return p.Start()
}

// waitReady waits until the server on port sends its INFO line, which it
// does once it accepts clients.
func waitReady(port int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			line, rerr := bufio.NewReader(conn).ReadString('\n')
			_ = conn.Close()
			if rerr == nil && strings.HasPrefix(line, "INFO ") {
				return nil
			}
			err = rerr
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not accepting connections after %s: %v", limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
