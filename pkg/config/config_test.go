package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFileAndEnv(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "sfsap.yaml", `
nats:
  url: nats://127.0.0.1:4222
salesforce:
  login_url: https://login.salesforce.com
  client_id: app
  replay_preset: earliest
  fields:
    sap_id: SAP_Customer_Number__c
sap:
  url: https://sap.example.test:44300
  client: "100"
sapworker:
  concurrency: 8
filter:
  customer_types: [Customer]
`)
	secret := writeFile(t, "secret", "s3cret\n")
	cfg, err := Load(path, []string{
		"SFSAP_SAP_USER=RFC_SFSAP",
		"SFSAP_SAP_PASSWORD_FILE=" + secret,
		"SFSAP_SAPWORKER_CALL_TIMEOUT=20s",
		"SFSAP_FILTER_PROSPECT_TYPES=Prospect, Lead",
		"OTHER=ignored",
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"nats url", cfg.NATS.URL, "nats://127.0.0.1:4222"},
		{"replay preset", cfg.Salesforce.ReplayPreset, "earliest"},
		{"sap user from env", cfg.SAP.User, "RFC_SFSAP"},
		{"sap password from file", cfg.SAP.Password, "s3cret"},
		{"call timeout from env", cfg.SAPWorker.CallTimeout, 20 * time.Second},
		{"concurrency from file", cfg.SAPWorker.Concurrency, 8},
		{"prospect types from env", strings.Join(cfg.Filter.ProspectTypes, "|"), "Prospect|Lead"},
		{"sap id field reaches writeback", cfg.Writeback.Fields.SAPID, "SAP_Customer_Number__c"},
		{"sap id field reaches filter", cfg.Filter.Fields.SAPID, "SAP_Customer_Number__c"},
		{"default status field", cfg.Writeback.Fields.SyncStatus, "SAP_Sync_Status__c"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadErrorsNameTheSetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml string
		env        []string
		want       string
	}{
		{"unknown key", "sap:\n  hostname: x\n", nil, "hostname"},
		{"bad preset", "salesforce:\n  replay_preset: sometime\n", nil, "salesforce.replay_preset"},
		{"bad duration in env", "", []string{"SFSAP_SAPWORKER_LEASE=forever"}, "SFSAP_SAPWORKER_LEASE"},
		{"lease shorter than timeout", "sapworker:\n  lease: 10s\n", nil, "lease"},
		{"bad sap url", "sap:\n  url: not a url\n", nil, "sap.url"},
		{"missing secret file", "", []string{"SFSAP_SAP_PASSWORD_FILE=/nonexistent/secret"}, "SFSAP_SAP_PASSWORD_FILE"},
	}
	for _, tt := range tests {
		path := ""
		if tt.yaml != "" {
			path = writeFile(t, "c.yaml", tt.yaml)
		}
		env := append([]string{"X=1"}, tt.env...)
		_, err := Load(path, env)
		if err == nil {
			t.Errorf("%s: Load = nil error, want one mentioning %q", tt.name, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q does not mention %q", tt.name, err, tt.want)
		}
	}
}

func TestLoadEmptyFile(t *testing.T) {
	t.Parallel()
	cfg, err := Load(writeFile(t, "empty.yaml", ""), []string{"X=1"})
	if err != nil {
		t.Fatalf("Load of an empty file: %v", err)
	}
	if cfg.SAP.Adapter != "ecc" || cfg.NATS.StoreDir != "sfsap-data" {
		t.Errorf("defaults not applied: adapter %q store %q", cfg.SAP.Adapter, cfg.NATS.StoreDir)
	}
}

func TestLoadRejectsMistypedEnv(t *testing.T) {
	t.Parallel()
	_, err := Load("", []string{"SFSAP_SAP_TIMOUT=5s"})
	if err == nil {
		t.Fatal("Load with SFSAP_SAP_TIMOUT = nil error, want one naming the variable")
	}
	for _, want := range []string{"SFSAP_SAP_TIMOUT", "SFSAP_SAP_TIMEOUT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if _, err := Load("", []string{"SFSAP_LOG_LEVEL=debug", "SFSAP_SOMETHING_ELSE=1"}); err != nil {
		t.Errorf("variables outside the configuration sections: %v, want them ignored", err)
	}
}

func TestLoadDurationHint(t *testing.T) {
	t.Parallel()
	_, err := Load(writeFile(t, "d.yaml", "sap:\n  timeout: 5\n"), []string{"X=1"})
	if err == nil || !strings.Contains(err.Error(), "such as 30s") {
		t.Errorf("Load with timeout: 5 = %v, want a hint to write a unit", err)
	}
}

func TestPubSubAddrMustMatchOrg(t *testing.T) {
	t.Parallel()
	load := func(env ...string) Salesforce {
		t.Helper()
		cfg, err := Load("", env)
		if err != nil {
			t.Fatalf("Load(%v): %v", env, err)
		}
		return cfg.Salesforce
	}
	err := load("SFSAP_SALESFORCE_LOGIN_URL=http://127.0.0.1:9999").CheckPubSubAddr()
	if err == nil || !strings.Contains(err.Error(), "salesforce.pubsub_addr") {
		t.Fatalf("CheckPubSubAddr with a loopback login URL and the default endpoint = %v, want an error naming salesforce.pubsub_addr", err)
	}
	for _, env := range [][]string{
		{"SFSAP_SALESFORCE_LOGIN_URL=https://acme.my.salesforce.com"},
		{"SFSAP_SALESFORCE_LOGIN_URL=http://127.0.0.1:9999", "SFSAP_SALESFORCE_PUBSUB_ADDR=127.0.0.1:7443"},
		{"SFSAP_SALESFORCE_LOGIN_URL=http://127.0.0.1:9999", "SFSAP_SALESFORCE_TRANSPORT=cometd"},
	} {
		if err := load(env...).CheckPubSubAddr(); err != nil {
			t.Errorf("CheckPubSubAddr(%v): %v", env, err)
		}
	}
}

func TestRESTAdapterNeedsLookup(t *testing.T) {
	t.Parallel()
	_, err := Load("", []string{"SFSAP_SAP_ADAPTER=rest"})
	if err == nil || !strings.Contains(err.Error(), "sap.rest.lookup_url") {
		t.Fatalf("Load with the rest adapter and no lookup URL = %v, want an error naming sap.rest.lookup_url", err)
	}
	if _, err := Load("", []string{"SFSAP_SAP_ADAPTER=rest", "SFSAP_SAP_REST_LOOKUP_URL=/find?id={{.ExternalRef}}"}); err != nil {
		t.Errorf("Load with a lookup URL: %v", err)
	}
}

func TestEmptyVariableKeepsSecretFile(t *testing.T) {
	t.Parallel()
	secret := writeFile(t, "pw", "from-file\n")
	cfg, err := Load("", []string{"SFSAP_SAP_PASSWORD=", "SFSAP_SAP_PASSWORD_FILE=" + secret})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.SAP.Password != "from-file" {
		t.Errorf("sap.password = %q, want the file's value", cfg.SAP.Password)
	}
}

func TestLoadTypeErrorHint(t *testing.T) {
	t.Parallel()
	_, err := Load(writeFile(t, "t.yaml", "sapworker:\n  concurrency: many\n"), []string{"X=1"})
	if err == nil || !strings.Contains(err.Error(), "wrong type") {
		t.Errorf("Load with concurrency: many = %v, want a hint about the value's type", err)
	}
}
