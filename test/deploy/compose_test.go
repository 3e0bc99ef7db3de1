package deploy

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/sfsap/sfsap/pkg/config"
)

const (
	composeFile = "docker-compose.yml"
	demoEnvFile = "deploy/compose/demo.env"
	dockerfile  = "deploy/docker/Dockerfile"
)

// setupEnvVars are the variables that pkg/setup reads besides the
// configuration keys.
var setupEnvVars = []string{"SFSAP_CONFIG", "SFSAP_HTTP_ADDR", "SFSAP_LOG_LEVEL"}

// sfsapServices are the compose services that run an sfsap service
// binary through pkg/setup, with the NATS user each logs in as.
var sfsapServices = map[string]string{
	"listener":   "listener",
	"filter":     "filter",
	"sapworker":  "sapworker",
	"writeback":  "writeback",
	"reconciler": "reconciler",
	"notifier":   "notifier",
}

// loadCompose loads docker-compose.yml as docker compose would with the
// demo variables and the given profiles.
func loadCompose(t *testing.T, envFiles []string, profiles ...string) (*types.Project, error) {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, composeFile)},
		cli.WithWorkingDirectory(root),
		cli.WithEnv([]string{}),
		cli.WithEnvFiles(envFiles...),
		cli.WithDotEnv,
		cli.WithProfiles(profiles),
	)
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(context.Background())
}

func demoProject(t *testing.T) *types.Project {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	p, err := loadCompose(t, []string{filepath.Join(root, demoEnvFile)}, "demo", "notify", "tools")
	if err != nil {
		t.Fatalf("loading %s with %s: %v", composeFile, demoEnvFile, err)
	}
	return p
}

func TestComposeNeedsSecrets(t *testing.T) {
	t.Parallel()
	_, err := loadCompose(t, nil)
	if err == nil {
		t.Fatalf("loading %s without any variables succeeded, want an error about a missing password", composeFile)
	}
	if !strings.Contains(err.Error(), "NATS_PASSWORD_") && !strings.Contains(err.Error(), "SALESFORCE_") && !strings.Contains(err.Error(), "SAP_") {
		t.Errorf("error %q names no required variable", err)
	}
}

func TestComposeServices(t *testing.T) {
	t.Parallel()
	p := demoProject(t)
	want := []string{"certs", "nats", "provision", "sfsim", "sapsim", "sfsapctl"}
	for name := range sfsapServices {
		want = append(want, name)
	}
	slices.Sort(want)
	got := p.ServiceNames()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("services = %v, want %v", got, want)
	}
	for _, name := range []string{"sfsim", "sapsim"} {
		if s := p.Services[name]; !slices.Equal(s.Profiles, []string{"demo"}) {
			t.Errorf("service %s has profiles %v, want [demo]", name, s.Profiles)
		}
	}
	// Without the demo profile the simulators are left out and the
	// services still load, since their dependency on them is optional.
	root, _ := filepath.Abs(repoRoot)
	plain, err := loadCompose(t, []string{filepath.Join(root, demoEnvFile)})
	if err != nil {
		t.Fatalf("loading without the demo profile: %v", err)
	}
	for _, name := range []string{"sfsim", "sapsim", "notifier", "sfsapctl"} {
		if _, ok := plain.Services[name]; ok {
			t.Errorf("service %s runs without its profile", name)
		}
	}
}

// TestComposeBuilds checks that every service builds from the Dockerfile
// and that its PACKAGE is a main package of this module or the NATS
// server module.
func TestComposeBuilds(t *testing.T) {
	t.Parallel()
	p := demoProject(t)
	for name, s := range p.Services {
		if s.Build == nil {
			t.Errorf("service %s has no build section", name)
			continue
		}
		if got := filepath.ToSlash(s.Build.Dockerfile); got != dockerfile {
			t.Errorf("service %s builds from %q, want %s", name, got, dockerfile)
		}
		if s.Image == "" || !strings.HasPrefix(s.Image, "sfsap/") {
			t.Errorf("service %s has image %q, want an sfsap/ name", name, s.Image)
		}
		pkg := s.Build.Args["PACKAGE"]
		if pkg == nil {
			t.Errorf("service %s sets no PACKAGE build argument", name)
			continue
		}
		if *pkg == natsServerModule {
			continue
		}
		if !isMainPackage(t, *pkg) {
			t.Errorf("service %s: PACKAGE %q is not a main package of this module", name, *pkg)
		}
	}
}

// isMainPackage reports whether dir (relative to the module root) holds
// a Go package named main.
func isMainPackage(t *testing.T, dir string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, dir, "*.go"))
	if err != nil || len(files) == 0 {
		return false
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if regexp.MustCompile(`(?m)^package main$`).Match(data) {
			return true
		}
	}
	return false
}

// TestComposeEnvironment checks every SFSAP_* variable against the
// configuration keys, every _FILE variable against the secrets and
// volumes, and loads each service's environment with config.Load.
func TestComposeEnvironment(t *testing.T) {
	t.Parallel()
	p := demoProject(t)
	known := append(config.EnvVars(), setupEnvVars...)
	for name, s := range p.Services {
		var env []string
		for key, value := range s.Environment {
			if !strings.HasPrefix(key, config.EnvPrefix) {
				continue
			}
			if !slices.Contains(known, key) {
				t.Errorf("service %s sets %s, which is no configuration key", name, key)
				continue
			}
			v := ""
			if value != nil {
				v = *value
			}
			if strings.HasSuffix(key, "_FILE") {
				if !mountsFile(s, v) {
					t.Errorf("service %s: %s=%s names a file that no secret or volume provides", name, key, v)
				}
				// A secret's _FILE variable is read at load time, so a
				// local file replaces the mounted secret.
				if slices.Contains(known, strings.TrimSuffix(key, "_FILE")) {
					v = writeSecret(t, t.TempDir(), "secret", "x")
				}
			}
			env = append(env, key+"="+v)
		}
		if len(env) == 0 {
			continue
		}
		if _, err := config.Load("", env); err != nil {
			t.Errorf("service %s: its environment does not load: %v", name, err)
		}
	}
}

// mountsFile reports whether path is a secret of s under /run/secrets or
// lies in one of its volumes.
func mountsFile(s types.ServiceConfig, path string) bool {
	for _, sec := range s.Secrets {
		target := sec.Target
		if target == "" {
			target = sec.Source
		}
		if !strings.HasPrefix(target, "/") {
			target = "/run/secrets/" + target
		}
		if path == target {
			return true
		}
	}
	for _, v := range s.Volumes {
		if path == v.Target || strings.HasPrefix(path, strings.TrimSuffix(v.Target, "/")+"/") {
			return true
		}
	}
	return false
}

// TestComposeServiceNATSUsers checks that each service logs in as its own
// user of deploy/nats/nats-server.conf, with that user's reply prefix,
// and leaves the topology to the provisioner.
func TestComposeServiceNATSUsers(t *testing.T) {
	t.Parallel()
	p := demoProject(t)
	users := natsConfigUsers(t)
	get := func(s types.ServiceConfig, key string) string {
		if v := s.Environment[key]; v != nil {
			return *v
		}
		return ""
	}
	seen := map[string]string{}
	for name, s := range p.Services {
		user := get(s, "SFSAP_NATS_USER")
		if user == "" {
			continue
		}
		if !slices.Contains(users, user) {
			t.Errorf("service %s logs in as %q, which nats-server.conf does not define", name, user)
		}
		if other, ok := seen[user]; ok {
			t.Errorf("services %s and %s share NATS user %s", name, other, user)
		}
		seen[user] = name
		if got, want := get(s, "SFSAP_NATS_INBOX_PREFIX"), "_INBOX_"+user; got != want {
			t.Errorf("service %s: SFSAP_NATS_INBOX_PREFIX = %q, want %q", name, got, want)
		}
		if got := get(s, "SFSAP_NATS_URL"); !strings.HasPrefix(got, "tls://nats:") {
			t.Errorf("service %s: SFSAP_NATS_URL = %q, want tls://nats:4222", name, got)
		}
		wantSkip := "true"
		if name == "provision" {
			wantSkip = ""
		}
		if got := get(s, "SFSAP_NATS_SKIP_TOPOLOGY"); got != wantSkip {
			t.Errorf("service %s: SFSAP_NATS_SKIP_TOPOLOGY = %q, want %q", name, got, wantSkip)
		}
		if want, ok := sfsapServices[name]; ok && user != want {
			t.Errorf("service %s logs in as %s, want %s", name, user, want)
		}
		if _, ok := s.DependsOn["provision"]; !ok && name != "provision" {
			t.Errorf("service %s does not wait for the provisioner", name)
		}
	}
	// The NATS server gets a password for every user that has one.
	nats := p.Services["nats"]
	for _, user := range users {
		if strings.HasPrefix(user, "CN=") {
			continue
		}
		if v := nats.Environment[passwordEnv(user)]; v == nil || *v == "" {
			t.Errorf("the nats service lacks %s", passwordEnv(user))
		}
	}
}

// TestComposeSecretsStayWithTheirService checks that only the services
// that talk to Salesforce get Salesforce settings, and only the SAP worker
// gets SAP's.
func TestComposeSecretsStayWithTheirService(t *testing.T) {
	t.Parallel()
	p := demoProject(t)
	talksTo := map[string][]string{
		"listener":   {"SALESFORCE"},
		"filter":     {"SALESFORCE"},
		"writeback":  {"SALESFORCE"},
		"reconciler": {"SALESFORCE"},
		"sapworker":  {"SAP"},
		"notifier":   {"NOTIFIER"},
		"sfsapctl":   {"SALESFORCE"},
		"provision":  nil,
	}
	for name, systems := range talksTo {
		s := p.Services[name]
		for key := range s.Environment {
			for _, system := range []string{"SALESFORCE", "SAP", "NOTIFIER"} {
				if strings.HasPrefix(key, config.EnvPrefix+system+"_") && !slices.Contains(systems, system) {
					t.Errorf("service %s gets %s but does not talk to %s", name, key, strings.ToLower(system))
				}
			}
		}
		user := ""
		if v := s.Environment["SFSAP_NATS_USER"]; v != nil {
			user = *v
		}
		for _, sec := range s.Secrets {
			if strings.HasPrefix(sec.Source, "nats_") && sec.Source != "nats_"+user+"_password" {
				t.Errorf("service %s gets secret %s of another NATS user", name, sec.Source)
			}
		}
	}
}

// TestComposeHealthChecks checks that each health check requests /healthz
// on the port the service listens on.
func TestComposeHealthChecks(t *testing.T) {
	t.Parallel()
	p := demoProject(t)
	for name, s := range p.Services {
		if name == "certs" || name == "provision" || name == "sfsapctl" {
			if s.HealthCheck != nil {
				t.Errorf("one-off service %s has a health check", name)
			}
			continue
		}
		if s.HealthCheck == nil || len(s.HealthCheck.Test) != 3 {
			t.Errorf("service %s: health check %v, want [CMD /usr/local/bin/healthcheck URL]", name, s.HealthCheck)
			continue
		}
		test := s.HealthCheck.Test
		if test[0] != "CMD" || test[1] != "/usr/local/bin/healthcheck" {
			t.Errorf("service %s: health check %v, want [CMD /usr/local/bin/healthcheck URL]", name, test)
		}
		want := "http://127.0.0.1:" + listenPort(t, name, s) + "/healthz"
		if test[2] != want {
			t.Errorf("service %s: health check requests %s, want %s", name, test[2], want)
		}
	}
}

// listenPort returns the port the service's program listens on for HTTP:
// SFSAP_HTTP_ADDR for sfsap services (default :8080), --addr for the
// simulators and the http setting of nats-server.conf.
func listenPort(t *testing.T, name string, s types.ServiceConfig) string {
	t.Helper()
	if name == "nats" {
		m := regexp.MustCompile(`(?m)^http: [0-9.]+:(\d+)$`).FindStringSubmatch(readRepoFile(t, "deploy/nats/nats-server.conf"))
		if m == nil {
			t.Fatalf("nats-server.conf has no http listen address")
		}
		return m[1]
	}
	addr := ":8080"
	if v := s.Environment["SFSAP_HTTP_ADDR"]; v != nil {
		addr = *v
	}
	for _, arg := range s.Command {
		if a, ok := strings.CutPrefix(arg, "--addr="); ok {
			addr = a
		}
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("service %s: listen address %q: %v", name, addr, err)
	}
	return port
}

// TestComposePorts checks that every published port is one the program
// listens on, and that it is published on loopback only.
func TestComposePorts(t *testing.T) {
	t.Parallel()
	p := demoProject(t)
	natsConf := readRepoFile(t, "deploy/nats/nats-server.conf")
	for name, s := range p.Services {
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("service %s publishes port %d on %q, want 127.0.0.1", name, port.Target, port.HostIP)
			}
			target := strconv.Itoa(int(port.Target))
			switch name {
			case "nats":
				if !strings.Contains(natsConf, "0.0.0.0:"+target) {
					t.Errorf("service nats publishes port %s, which nats-server.conf does not listen on", target)
				}
			default:
				if got := listenPort(t, name, s); got != target {
					t.Errorf("service %s publishes port %s but listens on %s", name, target, got)
				}
			}
		}
	}
}

// TestComposeVolumes checks that every bind-mounted file exists and that
// the NATS server reads the configuration from the mounted path.
func TestComposeVolumes(t *testing.T) {
	t.Parallel()
	p := demoProject(t)
	root, _ := filepath.Abs(repoRoot)
	for name, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				if _, ok := p.Volumes[v.Source]; !ok {
					t.Errorf("service %s mounts volume %q, which is not declared", name, v.Source)
				}
				continue
			}
			if !strings.HasPrefix(v.Source, root) {
				t.Errorf("service %s mounts %s from outside the repository", name, v.Source)
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("service %s mounts %s: %v", name, v.Source, err)
			}
			if !v.ReadOnly {
				t.Errorf("service %s mounts %s writable, want read-only", name, v.Source)
			}
		}
	}
	nats := p.Services["nats"]
	if !slices.Equal(nats.Command, types.ShellCommand{"-c", "/etc/nats/nats-server.conf"}) {
		t.Errorf("nats command = %v, want [-c /etc/nats/nats-server.conf]", nats.Command)
	}
	if !mountsFile(nats, "/etc/nats/nats-server.conf") || !mountsFile(nats, "/etc/nats/tls/tls.crt") || !mountsFile(nats, "/data/jetstream") {
		t.Errorf("nats does not mount its configuration, certificates and store at the paths nats-server.conf names")
	}
}

// TestComposeHardening checks that every container runs as the non-root
// user of the images with a read-only root file system and no
// capabilities.
func TestComposeHardening(t *testing.T) {
	t.Parallel()
	p := demoProject(t)
	for name, s := range p.Services {
		if s.User != "65532:65532" {
			t.Errorf("service %s runs as %q, want 65532:65532", name, s.User)
		}
		if !s.ReadOnly {
			t.Errorf("service %s has a writable root file system", name)
		}
		if !slices.Equal(s.CapDrop, []string{"ALL"}) {
			t.Errorf("service %s drops capabilities %v, want [ALL]", name, s.CapDrop)
		}
		if !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
			t.Errorf("service %s allows new privileges", name)
		}
	}
}

// TestComposeCommandFlags runs each program with -h and checks that it
// defines every flag its compose command passes.
func TestComposeCommandFlags(t *testing.T) {
	t.Parallel()
	p := demoProject(t)
	for name, s := range p.Services {
		if len(s.Command) == 0 || name == "nats" {
			continue
		}
		bin := buildBinary(t, *s.Build.Args["PACKAGE"])
		out, _ := exec.Command(bin, "-h").CombinedOutput()
		for _, arg := range s.Command {
			if !strings.HasPrefix(arg, "-") {
				continue
			}
			flagName, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
			if !regexp.MustCompile(`(?m)^\s+-` + regexp.QuoteMeta(flagName) + `\b`).Match(out) {
				t.Errorf("service %s passes %s, which %s -h does not list:\n%s", name, arg, filepath.Base(bin), out)
			}
		}
	}
}

func readRepoFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// natsConfigUsers returns the user names of deploy/nats/nats-server.conf.
func natsConfigUsers(t *testing.T) []string {
	t.Helper()
	var users []string
	for _, m := range regexp.MustCompile(`\{user: "?([^",]+)"?,`).FindAllStringSubmatch(readRepoFile(t, "deploy/nats/nats-server.conf"), -1) {
		users = append(users, m[1])
	}
	if len(users) == 0 {
		t.Fatalf("found no users in nats-server.conf")
	}
	return users
}
