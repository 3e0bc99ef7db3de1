package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestEnvVarsNamesKnownKeys(t *testing.T) {
	t.Parallel()
	names := EnvVars()
	for _, want := range []string{
		"SFSAP_NATS_URL",
		"SFSAP_NATS_PASSWORD",
		"SFSAP_NATS_PASSWORD_FILE",
		"SFSAP_NATS_DOMAIN",
		"SFSAP_NATS_SKIP_TOPOLOGY",
		"SFSAP_SALESFORCE_LOGIN_URL",
		"SFSAP_SALESFORCE_CLIENT_SECRET_FILE",
		"SFSAP_SALESFORCE_FIELDS_SAP_ID",
		"SFSAP_SAP_PASSWORD_FILE",
		"SFSAP_TOPOLOGY_REPLICAS",
		"SFSAP_SAPWORKER_LEASE",
		"SFSAP_FILTER_CUSTOMER_TYPES",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("EnvVars() lacks %s", want)
		}
	}
	for _, absent := range []string{"SFSAP_SAP_ECC_RETURN_RULES", "SFSAP_NATS_URL_FILE", "SFSAP_SALESFORCE_LOGGER"} {
		if slices.Contains(names, absent) {
			t.Errorf("EnvVars() contains %s, which the environment cannot set", absent)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("EnvVars() is not sorted")
	}
}

// TestEnvVarsEachChangesConfig sets every listed variable on its own and
// checks that it changes the configuration, so the list and the loader
// agree on every name.
func TestEnvVarsEachChangesConfig(t *testing.T) {
	t.Parallel()
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range EnvVars() {
		value := sampleValue(t, name, secret)
		var c Config
		if err := applyEnv(&c, []string{name + "=" + value}); err != nil {
			t.Errorf("applyEnv(%s=%s) = %v, want nil", name, value, err)
			continue
		}
		if reflect.DeepEqual(c, Config{}) {
			t.Errorf("%s=%s left the configuration unchanged", name, value)
		}
	}
}

// sampleValue returns a value that the variable's key accepts.
func sampleValue(t *testing.T, name, secretFile string) string {
	t.Helper()
	if strings.HasSuffix(name, "_FILE") {
		return secretFile
	}
	var c Config
	for _, v := range []string{"7", "17s", "true", "sample-value"} {
		if applyEnv(&c, []string{name + "=" + v}) == nil {
			return v
		}
	}
	t.Fatalf("no sample value is accepted for %s", name)
	return ""
}
