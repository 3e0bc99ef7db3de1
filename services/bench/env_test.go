package bench

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestServiceConfigStaysOnLoopback(t *testing.T) {
	t.Parallel()
	sims, err := startSimulators(0, 0)
	if err != nil {
		t.Fatalf("starting simulators: %v", err)
	}
	t.Cleanup(sims.Close)
	path := filepath.Join(t.TempDir(), "sfsap.yaml")
	if err := writeServiceConfig(path, sims, "nats://127.0.0.1:4222", "pubsub", 8); err != nil {
		t.Fatalf("writeServiceConfig() error = %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the config: %v", err)
	}
	var doc struct {
		NATS struct {
			URL string `yaml:"url"`
		} `yaml:"nats"`
		Salesforce struct {
			LoginURL   string `yaml:"login_url"`
			Transport  string `yaml:"transport"`
			PubSubAddr string `yaml:"pubsub_addr"`
		} `yaml:"salesforce"`
		SAP struct {
			URL string `yaml:"url"`
		} `yaml:"sap"`
		SAPWorker struct {
			Concurrency int `yaml:"concurrency"`
		} `yaml:"sapworker"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("decoding the config: %v\n%s", err, data)
	}

	for name, raw := range map[string]string{"nats.url": doc.NATS.URL, "salesforce.login_url": doc.Salesforce.LoginURL, "sap.url": doc.SAP.URL} {
		u, err := url.Parse(raw)
		if err != nil || !isLoopback(u.Hostname()) {
			t.Errorf("%s = %q, want a loopback URL", name, raw)
		}
	}
	host, _, err := net.SplitHostPort(doc.Salesforce.PubSubAddr)
	if err != nil || !isLoopback(host) {
		t.Errorf("salesforce.pubsub_addr = %q, want a loopback address", doc.Salesforce.PubSubAddr)
	}
	if doc.Salesforce.Transport != "pubsub" {
		t.Errorf("salesforce.transport = %q, want pubsub", doc.Salesforce.Transport)
	}
	if doc.SAPWorker.Concurrency != 8 {
		t.Errorf("sapworker.concurrency = %d, want 8", doc.SAPWorker.Concurrency)
	}
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
