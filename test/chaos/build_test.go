package chaos

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sfsap/sfsap/test/natstest"
)

// serviceCommands are the service binaries the chaos test runs, by the
// package that builds each.
var serviceCommands = map[string]string{
	"listener":   "./services/listener/cmd/listener",
	"filter":     "./services/filter/cmd/filter",
	"sapworker":  "./services/sapworker/cmd/sapworker",
	"writeback":  "./services/writeback/cmd/writeback",
	"reconciler": "./services/reconciler/cmd/reconciler",
}

var (
	servicesOnce sync.Once
	servicesDir  string
	servicesErr  error
)

// serviceBinaries builds the service binaries once per test binary, with
// the race detector when race is set, and returns the folder that holds
// them, each named after its service.
func serviceBinaries(t *testing.T, race bool) string {
	t.Helper()
	servicesOnce.Do(func() {
		root, err := natstest.ModuleRoot()
		if err != nil {
			servicesErr = err
			return
		}
		if servicesDir, err = os.MkdirTemp("", "sfsap-chaos-"); err != nil {
			servicesErr = err
			return
		}
		args := []string{"build", "-o", servicesDir + string(filepath.Separator)}
		if race {
			args = append(args, "-race")
		}
		for _, pkg := range serviceCommands {
			args = append(args, pkg)
		}
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			servicesErr = err
			t.Logf("go build output:\n%s", out)
		}
	})
	if servicesErr != nil {
		t.Fatalf("building service binaries: %v", servicesErr)
	}
	return servicesDir
}

func removeServiceBuilds() {
	if servicesDir != "" {
		_ = os.RemoveAll(servicesDir)
	}
}
