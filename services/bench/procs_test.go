package bench

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadMemoryOfSelf(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc: reading process memory needs Linux")
	}
	m, err := readMemory(os.Getpid())
	if err != nil {
		t.Fatalf("readMemory(self) error = %v", err)
	}
	if m.PeakMiB <= 0 {
		t.Errorf("readMemory(self).PeakMiB = %v, want above 0", m.PeakMiB)
	}
	if m.CurrentMiB <= 0 || m.CurrentMiB > m.PeakMiB {
		t.Errorf("readMemory(self).CurrentMiB = %v, want above 0 and at most the peak %v", m.CurrentMiB, m.PeakMiB)
	}
	if _, err := readCPUTime(os.Getpid()); err != nil {
		t.Errorf("readCPUTime(self) error = %v", err)
	}
}

func TestReadMemoryMissingProcess(t *testing.T) {
	t.Parallel()
	if _, err := readMemory(-1); err == nil {
		t.Fatal("readMemory(-1) error = nil, want an error")
	}
}

func TestReadPorts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name           string
		content        string
		wantClient     string
		wantMonitoring string
		wantErr        bool
	}{
		{"both urls", `{"nats":["nats://127.0.0.1:42043"],"monitoring":["http://127.0.0.1:34921"]}`, "nats://127.0.0.1:42043", "http://127.0.0.1:34921", false},
		{"no monitoring", `{"nats":["nats://127.0.0.1:42043"]}`, "", "", true},
		{"no client url", `{"nats":[],"monitoring":["http://127.0.0.1:34921"]}`, "", "", true},
		{"not json", `nats://127.0.0.1:4222`, "", "", true},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name)
		if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
			t.Fatalf("writing %s: %v", path, err)
		}
		got, err := readPorts(path)
		if (err != nil) != tt.wantErr {
			t.Errorf("readPorts(%s) error = %v, want error %v", tt.name, err, tt.wantErr)
		}
		if err != nil {
			continue
		}
		if got.NATS[0] != tt.wantClient {
			t.Errorf("readPorts(%s) client URL = %q, want %q", tt.name, got.NATS[0], tt.wantClient)
		}
		if got.Monitoring[0] != tt.wantMonitoring {
			t.Errorf("readPorts(%s) monitoring URL = %q, want %q", tt.name, got.Monitoring[0], tt.wantMonitoring)
		}
	}
}

func TestTail(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte("a\nb\nc\nd\n"), 0o600); err != nil {
		t.Fatalf("writing log: %v", err)
	}
	if got := tail(path, 2); got != "c\nd" {
		t.Errorf("tail(log, 2) = %q, want %q", got, "c\nd")
	}
	if got := tail(path, 10); got != "a\nb\nc\nd" {
		t.Errorf("tail(log, 10) = %q, want all four lines", got)
	}
}

func TestMachineBusyGrows(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc/stat: reading machine CPU time needs Linux")
	}
	first, err := machineBusy()
	if err != nil {
		t.Fatalf("machineBusy() error = %v", err)
	}
	if first <= 0 {
		t.Fatalf("machineBusy() = %v, want above 0", first)
	}
	second, err := machineBusy()
	if err != nil {
		t.Fatalf("second machineBusy() error = %v", err)
	}
	if second < first {
		t.Errorf("machineBusy() went back from %v to %v", first, second)
	}
}
