package natsembed

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStartLocksStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv, err := Start(Options{StoreDir: dir})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	_, err = Start(Options{StoreDir: dir})
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Start on the same store: err = %v, want an in-use error", err)
	}
	srv.Shutdown()
	srv.WaitForShutdown()

	again, err := Start(Options{StoreDir: dir})
	if err != nil {
		t.Fatalf("Start after the first server stopped: %v", err)
	}
	again.Shutdown()
}

func TestStartUnwritableStore(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("running as root: permissions do not stop writes; the file case below still runs")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(Options{StoreDir: dir}); err == nil || !strings.Contains(err.Error(), "not writable") {
		t.Fatalf("Start on a read-only folder: err = %v, want not writable", err)
	}
}

func TestStartStoreIsAFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Start(Options{StoreDir: file})
	if err == nil || !strings.Contains(err.Error(), "--data") {
		t.Fatalf("Start with a file as store: err = %v, want an error naming --data", err)
	}
}
