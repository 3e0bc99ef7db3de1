package deploy

import (
	"debug/elf"
	"regexp"
	"strings"
	"testing"
)

// dockerStage is one FROM section of a Dockerfile.
type dockerStage struct {
	from  string
	lines []string
}

func parseDockerfile(t *testing.T) []dockerStage {
	t.Helper()
	var stages []dockerStage
	text := strings.ReplaceAll(readRepoFile(t, dockerfile), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if from, ok := strings.CutPrefix(line, "FROM "); ok {
			stages = append(stages, dockerStage{from: strings.Fields(from)[0]})
			continue
		}
		if len(stages) > 0 {
			stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, line)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("%s has %d stages, want a build stage and a runtime stage", dockerfile, len(stages))
	}
	return stages
}

func TestDockerfileRuntimeStage(t *testing.T) {
	t.Parallel()
	stages := parseDockerfile(t)
	final := stages[len(stages)-1]
	if !regexp.MustCompile(`^(gcr\.io/distroless/static(-debian\d+)?:nonroot|scratch)$`).MatchString(final.from) {
		t.Errorf("runtime stage is FROM %s, want distroless static (nonroot) or scratch", final.from)
	}

	var user, entrypoint string
	copies := map[string]bool{}
	for _, line := range final.lines {
		switch {
		case strings.HasPrefix(line, "USER "):
			user = strings.TrimSpace(strings.TrimPrefix(line, "USER "))
		case strings.HasPrefix(line, "ENTRYPOINT "):
			entrypoint = strings.TrimSpace(strings.TrimPrefix(line, "ENTRYPOINT "))
		case strings.HasPrefix(line, "COPY "):
			fields := strings.Fields(line)
			copies[fields[len(fields)-1]] = true
		case strings.HasPrefix(line, "RUN "):
			t.Errorf("runtime stage runs %q, but a distroless image has no shell", line)
		}
	}

	uid, _, _ := strings.Cut(user, ":")
	if uid == "" || uid == "0" || uid == "root" {
		t.Errorf("runtime stage runs as %q, want a non-root user", user)
	}
	if entrypoint != `["/usr/local/bin/service"]` {
		t.Errorf("ENTRYPOINT %s, want the exec form [\"/usr/local/bin/service\"]", entrypoint)
	}
	// The compose health checks call this path.
	if !copies["/usr/local/bin/healthcheck"] {
		t.Errorf("runtime stage does not copy /usr/local/bin/healthcheck")
	}
}

func TestDockerfileBuildsStatically(t *testing.T) {
	t.Parallel()
	build := parseDockerfile(t)[0]
	body := strings.Join(build.lines, "\n")
	for _, want := range []string{"ARG PACKAGE", "CGO_ENABLED=0", `go build -trimpath -ldflags="-s -w" -o /out/service "$PACKAGE"`, "./deploy/docker/healthcheck"} {
		if !strings.Contains(body, want) {
			t.Errorf("build stage lacks %q", want)
		}
	}
}

// TestComposeBinariesAreStatic builds every program the compose file
// names, as the Dockerfile does, and checks that each is a static
// executable that a distroless static image can run.
func TestComposeBinariesAreStatic(t *testing.T) {
	t.Parallel()
	p := demoProject(t)
	pkgs := map[string]bool{"./deploy/docker/healthcheck": true}
	for _, s := range p.Services {
		pkgs[*s.Build.Args["PACKAGE"]] = true
	}
	for pkg := range pkgs {
		bin := buildBinary(t, pkg)
		f, err := elf.Open(bin)
		if err != nil {
			t.Errorf("%s: %v", pkg, err)
			continue
		}
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked: it names a program interpreter", pkg)
			}
		}
		libs, err := f.ImportedLibraries()
		if err != nil {
			t.Errorf("%s: reading imported libraries: %v", pkg, err)
		}
		if len(libs) > 0 {
			t.Errorf("%s needs shared libraries %v", pkg, libs)
		}
		f.Close()
	}
}
