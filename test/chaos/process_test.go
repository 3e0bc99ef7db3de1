package chaos

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// service is one service process that the chaos test kills and restarts.
type service struct {
	name    string
	bin     string
	env     []string
	logPath string

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	killing bool
	// down is set while the process is stopped on purpose, so the
	// supervisor does not restart it.
	down   bool
	starts int
	kills  int
	stops  int
	// stopTime adds up how long graceful stops took.
	stopTime   time.Duration
	unexpected []string
}

func (s *service) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()

	cmd := exec.Command(s.bin)
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", s.name, err)
	}

	done := make(chan struct{})
	s.cmd, s.done, s.down = cmd, done, false
	s.starts++
	go func() {
		err := cmd.Wait()
		s.mu.Lock()
		if !s.killing {
			s.unexpected = append(s.unexpected, fmt.Sprintf("%s: %v", time.Now().Format(time.TimeOnly), err))
		}
		if s.cmd == cmd {
			s.cmd = nil
		}
		s.mu.Unlock()
		close(done)
	}()
	return nil
}

// signal sends sig and waits until the process has exited, keeping it
// down until start is called.
func (s *service) signal(sig syscall.Signal) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	if cmd == nil {
		s.down = true
		s.mu.Unlock()
		return
	}
	s.killing, s.down = true, true
	s.mu.Unlock()

	began := time.Now()
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
	s.mu.Lock()
	s.killing = false
	if sig == syscall.SIGKILL {
		s.kills++
	} else {
		s.stops++
		s.stopTime += time.Since(began)
	}
	s.mu.Unlock()
}

// needsStart reports whether the process exited without being stopped on
// purpose.
func (s *service) needsStart() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd == nil && !s.down
}

// logLines returns the lines of the service's log that contain any of
// the needles.
func (s *service) logLines(needles ...string) ([]string, error) {
	f, err := os.Open(s.logPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		for _, n := range needles {
			if strings.Contains(sc.Text(), n) {
				out = append(out, sc.Text())
				break
			}
		}
	}
	return out, sc.Err()
}

// tail returns the last n lines of the service's log.
func (s *service) tail(n int) string {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
