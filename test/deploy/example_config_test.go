package deploy

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sfsap/sfsap/pkg/config"
)

const exampleConfig = "deploy/sfsap.example.yaml"

// derivedKeys are configuration keys whose values WithDefaults replaces
// with those of another key, so the example leaves them out and names
// their source.
var derivedKeys = []string{"filter.fields", "writeback.fields", "sapworker.ack_wait", "sapworker.max_deliver", "writeback.max_deliver"}

func TestExampleConfigLoads(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(filepath.Join(repoRoot, exampleConfig), []string{"X=1"})
	if err != nil {
		t.Fatalf("config.Load(%s) = %v", exampleConfig, err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"nats.url", cfg.NATS.URL, "tls://nats.example.com:4222"},
		{"salesforce.flow", string(cfg.Salesforce.Flow), "client_credentials"},
		{"sap.adapter", cfg.SAP.Adapter, "ecc"},
		{"sap.url", cfg.SAP.URL, "https://sap.example.com:44300"},
		{"filter fields follow salesforce.fields", cfg.Filter.Fields.SAPID, cfg.Salesforce.Fields.SAPID},
		{"sapworker.lease", cfg.SAPWorker.Lease, 2 * time.Minute},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// configKeys returns the YAML path of every configuration key.
func configKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := strings.Split(f.Tag.Get("yaml"), ",")
		name := tag[0]
		if name == "-" {
			continue
		}
		if len(tag) > 1 && tag[1] == "inline" {
			keys = append(keys, configKeys(f.Type, prefix)...)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		key := strings.TrimPrefix(prefix+"."+name, ".")
		keys = append(keys, key)
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Duration]() {
			keys = append(keys, configKeys(f.Type, key)...)
		}
	}
	return keys
}

// exampleKey is one key of the example, its value and whether a comment
// explains it.
type exampleKey struct {
	key, value *yaml.Node
	explained  bool
}

// exampleKeys parses the example and returns its keys by YAML path.
func exampleKeys(t *testing.T) map[string]exampleKey {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(readRepoFile(t, exampleConfig)), &doc); err != nil {
		t.Fatalf("parsing %s: %v", exampleConfig, err)
	}
	keys := map[string]exampleKey{}
	var walk func(n *yaml.Node, prefix, parentComment string)
	walk = func(n *yaml.Node, prefix, parentComment string) {
		if n.Kind != yaml.MappingNode {
			return
		}
		prevComment := ""
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := strings.TrimPrefix(prefix+"."+k.Value, ".")
			own := k.HeadComment + k.LineComment + v.LineComment
			// A key is explained by its own comment, or by the comment of
			// the key before it or of its section when that names it.
			named := func(c string) bool {
				c = strings.ToLower(c)
				return strings.Contains(c, k.Value) || strings.Contains(c, strings.ReplaceAll(k.Value, "_", " "))
			}
			keys[path] = exampleKey{key: k, value: v, explained: own != "" || named(prevComment) || named(parentComment)}
			if own != "" {
				prevComment = own
			}
			walk(v, path, own)
		}
	}
	walk(doc.Content[0], "", doc.Content[0].HeadComment)
	return keys
}

// TestExampleConfigCoversEveryKey checks that the example sets and
// explains every key of config.Config, and sets no secret.
func TestExampleConfigCoversEveryKey(t *testing.T) {
	t.Parallel()
	example := exampleKeys(t)
	for _, key := range configKeys(reflect.TypeFor[config.Config](), "") {
		derived := slices.ContainsFunc(derivedKeys, func(d string) bool { return key == d || strings.HasPrefix(key, d+".") })
		ex, ok := example[key]
		switch {
		case derived && ok:
			t.Errorf("%s sets %s, which WithDefaults overwrites", exampleConfig, key)
		case derived:
		case !ok:
			t.Errorf("%s lacks %s", exampleConfig, key)
		case !ex.explained:
			t.Errorf("%s: %s has no comment that explains it", exampleConfig, key)
		}
	}
	for path, ex := range example {
		name := path[strings.LastIndex(path, ".")+1:]
		secret := slices.ContainsFunc([]string{"password", "secret", "token", "webhook"}, func(s string) bool {
			return strings.Contains(name, s)
		})
		if secret && name != "token_url" && ex.value.Kind == yaml.ScalarNode && ex.value.Value != "" {
			t.Errorf("%s sets secret %s: leave it empty and use the _FILE variable", exampleConfig, path)
		}
	}
}
