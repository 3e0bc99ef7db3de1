package deploy

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/sfsap/sfsap/pkg/config"
)

const k8sBase = "deploy/k8s/base"

// k8sSecrets are the Secrets that deploy/k8s/README.md tells operators to
// create, with their keys.
var k8sSecrets = map[string][]string{
	"sfsap-nats-passwords": passwordUsers,
	"sfsap-nats-tls":       {"tls.crt", "tls.key", "ca.crt"},
	"sfsap-salesforce":     {"client-secret"},
	"sfsap-sap":            {"password"},
	"sfsap-notifier":       {"teams-webhook-url", "slack-webhook-url", "email-password", "sharepoint-client-secret"},
}

// kustomization is the part of kustomization.yaml that the tests read.
type kustomization struct {
	Resources          []string `json:"resources"`
	ConfigMapGenerator []struct {
		Name  string   `json:"name"`
		Files []string `json:"files"`
	} `json:"configMapGenerator"`
}

func readKustomization(t *testing.T, dir string) kustomization {
	t.Helper()
	var k kustomization
	if err := yaml.Unmarshal([]byte(readRepoFile(t, filepath.Join(dir, "kustomization.yaml"))), &k); err != nil {
		t.Fatalf("decoding %s/kustomization.yaml: %v", dir, err)
	}
	return k
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	t.Parallel()
	k := readKustomization(t, k8sBase)
	generated := map[string]bool{}
	for _, g := range k.ConfigMapGenerator {
		for _, f := range g.Files {
			generated[f] = true
			if _, err := os.Stat(filepath.Join(repoRoot, k8sBase, f)); err != nil {
				t.Errorf("configMapGenerator %s: %v", g.Name, err)
			}
		}
	}
	files, err := filepath.Glob(filepath.Join(repoRoot, k8sBase, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if name == "kustomization.yaml" || generated[name] {
			continue
		}
		if !slices.Contains(k.Resources, name) {
			t.Errorf("%s is not listed in kustomization.yaml resources", name)
		}
	}
	for _, r := range k.Resources {
		if _, err := os.Stat(filepath.Join(repoRoot, k8sBase, r)); err != nil {
			t.Errorf("kustomization.yaml lists %s: %v", r, err)
		}
	}
}

// manifests is the output of kustomize build, decoded into API types.
type manifests struct {
	deployments     map[string]*appsv1.Deployment
	statefulSets    map[string]*appsv1.StatefulSet
	services        map[string]*corev1.Service
	jobs            map[string]*batchv1.Job
	configMaps      map[string]*corev1.ConfigMap
	networkPolicies []*networkingv1.NetworkPolicy
}

// buildK8s runs kustomize on the base, as `kubectl kustomize` does, and
// decodes every object strictly, so an unknown or misspelt field fails.
func buildK8s(t *testing.T) manifests {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(repoRoot, k8sBase))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", k8sBase, err)
	}
	m := manifests{
		deployments:  map[string]*appsv1.Deployment{},
		statefulSets: map[string]*appsv1.StatefulSet{},
		services:     map[string]*corev1.Service{},
		jobs:         map[string]*batchv1.Job{},
		configMaps:   map[string]*corev1.ConfigMap{},
	}
	for _, r := range res.Resources() {
		data, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		var obj any
		switch r.GetKind() {
		case "Deployment":
			d := &appsv1.Deployment{}
			m.deployments[r.GetName()], obj = d, d
		case "StatefulSet":
			s := &appsv1.StatefulSet{}
			m.statefulSets[r.GetName()], obj = s, s
		case "Service":
			s := &corev1.Service{}
			m.services[r.GetName()], obj = s, s
		case "Job":
			j := &batchv1.Job{}
			m.jobs[r.GetName()], obj = j, j
		case "ConfigMap":
			c := &corev1.ConfigMap{}
			m.configMaps[r.GetName()], obj = c, c
		case "NetworkPolicy":
			n := &networkingv1.NetworkPolicy{}
			m.networkPolicies = append(m.networkPolicies, n)
			obj = n
		default:
			t.Errorf("unexpected %s %s; add a check for it", r.GetKind(), r.GetName())
			continue
		}
		if err := yaml.UnmarshalStrict(data, obj); err != nil {
			t.Errorf("decoding %s %s: %v", r.GetKind(), r.GetName(), err)
		}
	}
	return m
}

// configMap returns the generated ConfigMap whose name starts with name
// and a hash suffix.
func (m manifests) configMap(t *testing.T, name string) *corev1.ConfigMap {
	t.Helper()
	for full, c := range m.configMaps {
		if strings.HasPrefix(full, name+"-") {
			return c
		}
	}
	t.Fatalf("no ConfigMap %s in the build", name)
	return nil
}

func TestK8sObjects(t *testing.T) {
	t.Parallel()
	m := buildK8s(t)
	var deployments []string
	for name := range m.deployments {
		deployments = append(deployments, name)
	}
	slices.Sort(deployments)
	want := []string{"sfsap-filter", "sfsap-listener", "sfsap-notifier", "sfsap-reconciler", "sfsap-sapworker", "sfsap-writeback"}
	if !slices.Equal(deployments, want) {
		t.Errorf("Deployments = %v, want %v", deployments, want)
	}
	if _, ok := m.statefulSets["sfsap-nats"]; !ok {
		t.Errorf("no StatefulSet sfsap-nats")
	}
	if _, ok := m.jobs["sfsap-provision"]; !ok {
		t.Errorf("no Job sfsap-provision")
	}
	for _, name := range want {
		if _, ok := m.services[name]; !ok {
			t.Errorf("Deployment %s has no metrics Service", name)
		}
	}
}

// podSpecs returns the pod templates of every workload by name.
func (m manifests) podSpecs() map[string]*corev1.PodTemplateSpec {
	pods := map[string]*corev1.PodTemplateSpec{}
	for name, d := range m.deployments {
		pods[name] = &d.Spec.Template
	}
	for name, s := range m.statefulSets {
		pods[name] = &s.Spec.Template
	}
	for name, j := range m.jobs {
		pods[name] = &j.Spec.Template
	}
	return pods
}

func envValue(c corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

// mountedSecretFile returns the Secret name and key that provide the file
// at path in container c of pod, if any.
func mountedSecretFile(pod *corev1.PodSpec, c corev1.Container, path string) (secret, key string, ok bool) {
	for _, vm := range c.VolumeMounts {
		rel, found := strings.CutPrefix(path, strings.TrimSuffix(vm.MountPath, "/")+"/")
		if !found {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name != vm.Name || v.Secret == nil {
				continue
			}
			for _, item := range v.Secret.Items {
				if item.Path == rel {
					return v.Secret.SecretName, item.Key, true
				}
			}
			if len(v.Secret.Items) == 0 {
				return v.Secret.SecretName, rel, true
			}
		}
	}
	return "", "", false
}

// TestK8sSecretReferences checks that every Secret a pod uses is one the
// README documents, with a documented key.
func TestK8sSecretReferences(t *testing.T) {
	t.Parallel()
	m := buildK8s(t)
	check := func(where, secret, key string) {
		keys, ok := k8sSecrets[secret]
		if !ok {
			t.Errorf("%s uses Secret %s, which deploy/k8s/README.md does not document", where, secret)
			return
		}
		if key != "" && !slices.Contains(keys, key) {
			t.Errorf("%s uses key %s of Secret %s, want one of %v", where, key, secret, keys)
		}
	}
	readme := readRepoFile(t, "deploy/k8s/README.md")
	for secret, keys := range k8sSecrets {
		if !strings.Contains(readme, secret) {
			t.Errorf("deploy/k8s/README.md does not explain Secret %s", secret)
		}
		for _, key := range keys {
			if !strings.Contains(readme, key) {
				t.Errorf("deploy/k8s/README.md does not name key %s of Secret %s", key, secret)
			}
		}
	}
	for name, pod := range m.podSpecs() {
		for _, v := range pod.Spec.Volumes {
			if v.Secret == nil {
				continue
			}
			if len(v.Secret.Items) == 0 {
				check(name, v.Secret.SecretName, "")
			}
			for _, item := range v.Secret.Items {
				check(name, v.Secret.SecretName, item.Key)
			}
		}
		for _, c := range pod.Spec.Containers {
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					check(name+" "+e.Name, e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key)
				}
			}
		}
	}
}

// TestK8sServiceContainers checks the containers of the sfsap workloads:
// probes on the port the binary serves, real configuration keys, secrets
// as mounted files, their own NATS user, and a configuration that loads.
func TestK8sServiceContainers(t *testing.T) {
	t.Parallel()
	m := buildK8s(t)
	sfsapConfig := m.configMap(t, "sfsap-config")
	configFile := filepath.Join(t.TempDir(), "sfsap.yaml")
	if err := os.WriteFile(configFile, []byte(sfsapConfig.Data["sfsap.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	known := append(config.EnvVars(), setupEnvVars...)
	users := natsConfigUsers(t)
	pods := m.podSpecs()
	delete(pods, "sfsap-nats")
	for name, pod := range pods {
		if len(pod.Spec.Containers) != 1 {
			t.Errorf("%s has %d containers, want 1", name, len(pod.Spec.Containers))
			continue
		}
		c := pod.Spec.Containers[0]
		checkHardening(t, name, pod, c)

		var env []string
		for _, e := range c.Env {
			if !strings.HasPrefix(e.Name, config.EnvPrefix) {
				t.Errorf("%s sets %s, which sfsap does not read", name, e.Name)
				continue
			}
			if !slices.Contains(known, e.Name) {
				t.Errorf("%s sets %s, which is no configuration key", name, e.Name)
				continue
			}
			v := e.Value
			switch {
			case e.Name == "SFSAP_CONFIG":
				if !strings.HasPrefix(v, "/etc/sfsap/config/") || !mountsConfigMap(pod, c, v, "sfsap-config") {
					t.Errorf("%s: SFSAP_CONFIG=%s is not the mounted sfsap-config", name, v)
				}
				v = configFile
			case strings.HasSuffix(e.Name, "_FILE") && slices.Contains(known, strings.TrimSuffix(e.Name, "_FILE")):
				if _, _, ok := mountedSecretFile(&pod.Spec, c, v); !ok {
					t.Errorf("%s: %s=%s is no file of a mounted Secret", name, e.Name, v)
				}
				v = writeSecret(t, t.TempDir(), "secret", "x")
			case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
				v = "https://hooks.example.test/placeholder"
			}
			env = append(env, e.Name+"="+v)
		}
		cfg, err := config.Load(configFile, env)
		if err != nil {
			t.Errorf("%s: its configuration does not load: %v", name, err)
			continue
		}
		if _, _, ok := mountedSecretFile(&pod.Spec, c, cfg.NATS.CAFile); !ok {
			t.Errorf("%s: nats.ca_file %s is no file of a mounted Secret", name, cfg.NATS.CAFile)
		}

		user := cfg.NATS.User
		if !slices.Contains(users, user) {
			t.Errorf("%s logs in as NATS user %q, which nats-server.conf does not define", name, user)
		}
		if want := "_INBOX_" + user; cfg.NATS.InboxPrefix != want {
			t.Errorf("%s: nats.inbox_prefix = %q, want %q", name, cfg.NATS.InboxPrefix, want)
		}
		passwordFile, _ := envValue(c, "SFSAP_NATS_PASSWORD_FILE")
		if secret, key, ok := mountedSecretFile(&pod.Spec, c, passwordFile); !ok || secret != "sfsap-nats-passwords" || key != user {
			t.Errorf("%s reads its NATS password from %s key %s, want sfsap-nats-passwords key %s", name, secret, key, user)
		}
		wantSkip := name != "sfsap-provision"
		if cfg.NATS.SkipTopology != wantSkip {
			t.Errorf("%s: nats.skip_topology = %v, want %v", name, cfg.NATS.SkipTopology, wantSkip)
		}

		if _, isDeployment := m.deployments[name]; isDeployment {
			checkProbes(t, name, c)
		}
	}
}

func mountsConfigMap(pod *corev1.PodTemplateSpec, c corev1.Container, path, configMap string) bool {
	for _, vm := range c.VolumeMounts {
		if !strings.HasPrefix(path, strings.TrimSuffix(vm.MountPath, "/")+"/") {
			continue
		}
		for _, v := range pod.Spec.Volumes {
			if v.Name == vm.Name && v.ConfigMap != nil && strings.HasPrefix(v.ConfigMap.Name, configMap+"-") {
				return true
			}
		}
	}
	return false
}

// checkProbes checks that the liveness probe requests /healthz and the
// readiness probe /readyz, on the container port that SFSAP_HTTP_ADDR
// names.
func checkProbes(t *testing.T, name string, c corev1.Container) {
	t.Helper()
	addr, ok := envValue(c, "SFSAP_HTTP_ADDR")
	if !ok {
		addr = ":8080"
	}
	_, portText, err := net.SplitHostPort(addr)
	if err != nil {
		t.Errorf("%s: SFSAP_HTTP_ADDR %q: %v", name, addr, err)
		return
	}
	port, _ := strconv.Atoi(portText)
	for _, p := range []struct {
		kind  string
		probe *corev1.Probe
		path  string
	}{
		{"liveness", c.LivenessProbe, "/healthz"},
		{"readiness", c.ReadinessProbe, "/readyz"},
	} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s has no HTTP %s probe", name, p.kind)
			continue
		}
		if p.probe.HTTPGet.Path != p.path {
			t.Errorf("%s: %s probe requests %s, want %s", name, p.kind, p.probe.HTTPGet.Path, p.path)
		}
		if got := containerPort(c, p.probe.HTTPGet.Port); got != int32(port) {
			t.Errorf("%s: %s probe targets port %d, but the service listens on %d", name, p.kind, got, port)
		}
	}
}

// containerPort resolves a probe or Service port, by number or by name.
func containerPort(c corev1.Container, port intstr.IntOrString) int32 {
	if port.Type == intstr.Int {
		return port.IntVal
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return p.ContainerPort
		}
	}
	return -1
}

// checkHardening checks the non-root, read-only and resource settings.
func checkHardening(t *testing.T, name string, pod *corev1.PodTemplateSpec, c corev1.Container) {
	t.Helper()
	psc := pod.Spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("%s: pod does not run as a non-root user", name)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("%s: container root file system is writable", name)
	}
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("%s: container allows privilege escalation", name)
	}
	if sc == nil || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("%s: container does not drop all capabilities", name)
	}
	if pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken {
		t.Errorf("%s: pod mounts a service account token it does not need", name)
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[res]; !ok {
			t.Errorf("%s: no %s request", name, res)
		}
		if _, ok := c.Resources.Limits[res]; !ok {
			t.Errorf("%s: no %s limit", name, res)
		}
	}
	if !strings.HasPrefix(c.Image, "sfsap/") || !strings.HasSuffix(c.Image, ":dev") {
		t.Errorf("%s: image %s, want sfsap/<name>:dev from the kustomization's images", name, c.Image)
	}
}

// TestK8sImagesAreBuilt checks that every image the manifests use is one
// the compose file builds from the Dockerfile.
func TestK8sImagesAreBuilt(t *testing.T) {
	t.Parallel()
	m := buildK8s(t)
	built := map[string]bool{}
	for _, s := range demoProject(t).Services {
		name, _, _ := strings.Cut(s.Image, ":")
		built[name] = true
	}
	for name, pod := range m.podSpecs() {
		for _, c := range pod.Spec.Containers {
			image, _, _ := strings.Cut(c.Image, ":")
			if !built[image] {
				t.Errorf("%s uses image %s, which docker-compose.yml does not build", name, image)
			}
		}
	}
}

// TestK8sNATS checks the StatefulSet against deploy/nats/nats-server.conf:
// the mounted configuration is that file, every password variable comes
// from the Secret, and the ports and probes match its listen addresses.
func TestK8sNATS(t *testing.T) {
	t.Parallel()
	m := buildK8s(t)
	ss := m.statefulSets["sfsap-nats"]
	if ss == nil {
		t.Fatal("no StatefulSet sfsap-nats")
	}
	pod := &ss.Spec.Template
	c := pod.Spec.Containers[0]
	checkHardening(t, "sfsap-nats", pod, c)
	conf := readRepoFile(t, "deploy/nats/nats-server.conf")

	if got := m.configMap(t, "sfsap-nats-config").Data["nats-server.conf"]; got != conf {
		t.Errorf("ConfigMap sfsap-nats-config differs from deploy/nats/nats-server.conf")
	}
	if !slices.Equal(c.Args, []string{"-c", "/etc/nats/nats-server.conf"}) {
		t.Errorf("nats args = %v, want [-c /etc/nats/nats-server.conf]", c.Args)
	}
	mounted := map[string]string{}
	for _, vm := range c.VolumeMounts {
		mounted[vm.MountPath] = vm.Name
	}
	for path, volume := range map[string]string{"/etc/nats/nats-server.conf": "config", "/etc/nats/tls": "tls", "/data": "data"} {
		if mounted[path] != volume {
			t.Errorf("nats mounts %q at %s, want volume %s", mounted[path], path, volume)
		}
	}
	for _, user := range passwordUsers {
		found := false
		for _, e := range c.Env {
			if e.Name == passwordEnv(user) && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil &&
				e.ValueFrom.SecretKeyRef.Name == "sfsap-nats-passwords" && e.ValueFrom.SecretKeyRef.Key == user {
				found = true
			}
		}
		if !found {
			t.Errorf("nats lacks %s from Secret sfsap-nats-passwords key %s", passwordEnv(user), user)
		}
	}
	for _, p := range c.Ports {
		if !strings.Contains(conf, fmt.Sprintf("0.0.0.0:%d", p.ContainerPort)) {
			t.Errorf("nats port %s (%d) is not a listen address of nats-server.conf", p.Name, p.ContainerPort)
		}
	}
	for kind, probe := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != "/healthz" {
			t.Errorf("nats %s probe %v, want GET /healthz", kind, probe)
			continue
		}
		if got := containerPort(c, probe.HTTPGet.Port); !strings.Contains(conf, fmt.Sprintf("http: 0.0.0.0:%d", got)) {
			t.Errorf("nats %s probe targets port %d, which is not the monitoring port", kind, got)
		}
	}
	if len(ss.Spec.VolumeClaimTemplates) != 1 || ss.Spec.VolumeClaimTemplates[0].Name != "data" {
		t.Errorf("nats has no volume claim template named data")
	}
}

// TestK8sServicesSelectPods checks that every Service selects a pod
// template and targets ports the pod names.
func TestK8sServicesSelectPods(t *testing.T) {
	t.Parallel()
	m := buildK8s(t)
	pods := m.podSpecs()
	for name, svc := range m.services {
		var target *corev1.PodTemplateSpec
		for _, pod := range pods {
			matches := len(svc.Spec.Selector) > 0
			for k, v := range svc.Spec.Selector {
				if pod.Labels[k] != v {
					matches = false
				}
			}
			if matches {
				target = pod
			}
		}
		if target == nil {
			t.Errorf("Service %s selects no pod template", name)
			continue
		}
		for _, p := range svc.Spec.Ports {
			if containerPort(target.Spec.Containers[0], p.TargetPort) < 0 {
				t.Errorf("Service %s port %s targets %s, which the pod does not name", name, p.Name, p.TargetPort.String())
			}
		}
	}
}

func TestK8sMonitorPortRestricted(t *testing.T) {
	t.Parallel()
	m := buildK8s(t)
	var found bool
	for _, np := range m.networkPolicies {
		for _, rule := range np.Spec.Ingress {
			for _, p := range rule.Ports {
				if p.Port == nil || p.Port.String() != "monitor" {
					continue
				}
				found = true
				if len(rule.From) == 0 {
					t.Errorf("NetworkPolicy %s opens the NATS monitoring port to every pod; want it limited to scrapers", np.Name)
				}
			}
		}
	}
	if !found {
		t.Error("no NetworkPolicy limits the NATS monitoring port, which has no authentication")
	}
}
