package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Program names. Each is the binary's file name and the name under which
// the report lists its memory.
const (
	progNATS      = "nats-server"
	progListener  = "listener"
	progFilter    = "filter"
	progSAPWorker = "sapworker"
	progWriteback = "writeback"
)

// services are the sfsap services in the order they start.
var services = []string{progListener, progFilter, progSAPWorker, progWriteback}

// packages maps each program to the Go package of its main.
var packages = map[string]string{
	progNATS:      "github.com/nats-io/nats-server/v2",
	progListener:  "github.com/sfsap/sfsap/services/listener/cmd/listener",
	progFilter:    "github.com/sfsap/sfsap/services/filter/cmd/filter",
	progSAPWorker: "github.com/sfsap/sfsap/services/sapworker/cmd/sapworker",
	progWriteback: "github.com/sfsap/sfsap/services/writeback/cmd/writeback",
}

// Build compiles the four service binaries and nats-server, at the version
// go.mod requires, into dir with one go build command. It must run inside
// the sfsap module, because go build resolves the packages there.
func Build(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating binary folder: %w", err)
	}
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, name := range append([]string{progNATS}, services...) {
		args = append(args, packages[name])
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building binaries with go %s: %w: %s: run the bench from the sfsap module, or pass -bin with prebuilt binaries", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// checkBinaries reports the first program missing from dir.
func checkBinaries(dir string) error {
	for _, name := range append([]string{progNATS}, services...) {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("binary %s missing in %s: %w: build it with go build -o %s/ %s", name, dir, err, dir, packages[name])
		}
	}
	return nil
}

// process is a child process whose output goes to a log file.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error // set before done is closed
}

// startProcess starts bin with args and env, sending stdout and stderr to
// logPath.
func startProcess(name, bin, logPath string, args, env []string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating log file of %s: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// exited returns an error describing the exit when the process has ended,
// and nil while it runs.
func (p *process) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited: %v; last log lines:\n%s", p.name, p.err, tail(p.logPath, 10))
	default:
		return nil
	}
}

// stop sends SIGTERM and waits up to grace for the process to end, then
// kills it.
func (p *process) stop(grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Memory is a process's resident memory as the kernel reports it in
// /proc/<pid>/status, in MiB.
type Memory struct {
	// PeakMiB is VmHWM, the peak resident set size.
	PeakMiB float64 `json:"peak_mib"`
	// CurrentMiB is VmRSS at the time of reading.
	CurrentMiB float64 `json:"current_mib"`
}

// memory reads the process's VmHWM and VmRSS.
func (p *process) memory() (Memory, error) {
	return readMemory(p.cmd.Process.Pid)
}

// readMemory reads VmHWM and VmRSS of pid from /proc, which only Linux
// provides.
func readMemory(pid int) (Memory, error) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	f, err := os.Open(path)
	if err != nil {
		return Memory{}, fmt.Errorf("reading memory of process %d: %w: the bench reads /proc, which needs Linux", pid, err)
	}
	defer f.Close()
	var m Memory
	found := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmHWM" && key != "VmRSS") {
			continue
		}
		kib, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 64)
		if err != nil {
			return Memory{}, fmt.Errorf("reading %s of process %d: invalid value %q", key, pid, value)
		}
		if key == "VmHWM" {
			m.PeakMiB = kib / 1024
		} else {
			m.CurrentMiB = kib / 1024
		}
		found++
	}
	if err := sc.Err(); err != nil {
		return Memory{}, fmt.Errorf("reading %s: %w", path, err)
	}
	if found != 2 {
		return Memory{}, fmt.Errorf("reading %s: VmHWM or VmRSS missing", path)
	}
	return m, nil
}

// natsServer is a nats-server process with its client and monitoring
// URLs.
type natsServer struct {
	*process
	clientURL     string
	monitoringURL string
}

// startNATS starts nats-server with JetStream and HTTP monitoring on
// random loopback ports, read from the ports file the server writes.
func startNATS(bin, dir string) (*natsServer, error) {
	storeDir := filepath.Join(dir, "jetstream")
	args := []string{"-a", "127.0.0.1", "-p", "-1", "-m", "-1", "-js", "-sd", storeDir, "-n", "sfsap-bench", "--ports_file_dir", dir}
	p, err := startProcess(progNATS, bin, filepath.Join(dir, progNATS+".log"), args, os.Environ())
	if err != nil {
		return nil, err
	}
	portsFile := filepath.Join(dir, fmt.Sprintf("%s_%d.ports", progNATS, p.cmd.Process.Pid))
	deadline := time.Now().Add(30 * time.Second)
	for {
		ports, err := readPorts(portsFile)
		if err == nil {
			return &natsServer{process: p, clientURL: ports.NATS[0], monitoringURL: ports.Monitoring[0]}, nil
		}
		if exitErr := p.exited(); exitErr != nil {
			return nil, exitErr
		}
		if time.Now().After(deadline) {
			p.stop(5 * time.Second)
			return nil, fmt.Errorf("nats-server wrote no ports file %s within 30s: %w", portsFile, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ports are the URLs a nats-server ports file lists.
type ports struct {
	NATS       []string `json:"nats"`
	Monitoring []string `json:"monitoring"`
}

// readPorts reads a nats-server ports file that lists at least one client
// URL and one monitoring URL.
func readPorts(path string) (ports, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ports{}, err
	}
	var p ports
	if err := json.Unmarshal(data, &p); err != nil {
		return ports{}, fmt.Errorf("decoding ports file %s: %w", path, err)
	}
	if len(p.NATS) == 0 || len(p.Monitoring) == 0 {
		return ports{}, errors.New("ports file lacks a client or monitoring URL")
	}
	return p, nil
}

// messageCounts returns the messages the server received from clients
// and sent to them so far, from its /varz monitoring endpoint.
func (n *natsServer) messageCounts(ctx context.Context) (in, out int64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.monitoringURL+"/varz", nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("reading NATS message counts: %w", err)
	}
	defer resp.Body.Close()
	var varz struct {
		InMsgs  int64 `json:"in_msgs"`
		OutMsgs int64 `json:"out_msgs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&varz); err != nil {
		return 0, 0, fmt.Errorf("decoding NATS /varz: %w", err)
	}
	return varz.InMsgs, varz.OutMsgs, nil
}

// serviceEnv returns the environment of a service process: this process's
// environment without SFSAP_* variables, so only the bench's config file
// configures the service.
func serviceEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SFSAP_") {
			env = append(env, kv)
		}
	}
	return env
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// userHZ is the unit of the CPU times in /proc/<pid>/stat: Linux reports
// them in USER_HZ, 100 per second on every architecture it supports.
const userHZ = 100

// cpuTime returns the CPU time, user and system, that the process and all
// its threads used so far.
func (p *process) cpuTime() (time.Duration, error) {
	return readCPUTime(p.cmd.Process.Pid)
}

// readCPUTime reads utime and stime of pid from /proc/<pid>/stat.
func readCPUTime(pid int) (time.Duration, error) {
	path := fmt.Sprintf("/proc/%d/stat", pid)
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("reading CPU time of process %d: %w", pid, err)
	}
	// The command name in parentheses may contain spaces, so the fields
	// are counted from the last closing parenthesis: state is field 3 of
	// the stat line, utime field 14 and stime field 15.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("reading %s: no closing parenthesis after the command name", path)
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("reading %s: %d fields after the command name, want at least 13", path, len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("reading %s: invalid CPU time %q", path, f)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// selfCPUTime returns the CPU time this process used so far.
func selfCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
