package config

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix starts every environment override. A key's variable is the
// prefix plus its YAML path in upper case joined by underscores, such as
// SFSAP_SAP_PASSWORD for sap.password. For secret keys (those whose name
// contains password, secret, token or webhook) the variable with a _FILE
// suffix names a file to read the value from, as container secrets are
// mounted.
const EnvPrefix = "SFSAP_"

// applyEnv sets every field of c that has an environment override.
func applyEnv(c *Config, env []string) error {
	vars := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			vars[k] = v
		}
	}
	if err := checkUnknownEnv(vars); err != nil {
		return err
	}
	return walk(reflect.ValueOf(c).Elem(), strings.TrimSuffix(EnvPrefix, "_"), vars)
}

// checkUnknownEnv rejects a variable that starts like a configuration
// section, such as SFSAP_SAP_, but names no key of it, because a typo
// would otherwise leave the setting at its default without a word.
// Variables outside every section, such as SFSAP_LOG_LEVEL, are left to
// their own readers.
func checkUnknownEnv(vars map[string]string) error {
	known := EnvVars()
	var sections []string
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		name := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if name != "" && name != "-" {
			sections = append(sections, EnvPrefix+strings.ToUpper(name)+"_")
		}
	}
	for k := range vars {
		if slices.Contains(known, k) {
			continue
		}
		for _, sec := range sections {
			if strings.HasPrefix(k, sec) {
				return fmt.Errorf("environment variable %s names no configuration key: %s", k, suggest(k, known))
			}
		}
	}
	return nil
}

// suggest names the known variable closest to k.
func suggest(k string, known []string) string {
	best, bestDist := "", len(k)
	for _, c := range known {
		if d := editDistance(k, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best != "" && bestDist <= 3 {
		return "did you mean " + best + "?"
	}
	return "check the spelling against the keys of the configuration file"
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

var durationType = reflect.TypeFor[time.Duration]()

func walk(v reflect.Value, prefix string, vars map[string]string) error {
	t := v.Type()
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
		fv := v.Field(i)
		if len(tag) > 1 && tag[1] == "inline" {
			if err := walk(fv, prefix, vars); err != nil {
				return err
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		key := prefix + "_" + strings.ToUpper(name)
		if f.Type.Kind() == reflect.Struct && f.Type != durationType {
			if err := walk(fv, key, vars); err != nil {
				return err
			}
			continue
		}
		val, ok, err := lookup(key, name, vars)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := set(fv, val); err != nil {
			return fmt.Errorf("environment variable %s=%q: %w", key, val, err)
		}
	}
	return nil
}

func lookup(key, name string, vars map[string]string) (string, bool, error) {
	// An empty variable does not hide a secret file given beside it.
	if v, ok := vars[key]; ok && (v != "" || vars[key+"_FILE"] == "") {
		return v, true, nil
	}
	if !isSecret(name) {
		return "", false, nil
	}
	file, ok := vars[key+"_FILE"]
	if !ok {
		return "", false, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", false, fmt.Errorf("reading secret file named by %s_FILE: %w", key, err)
	}
	return strings.TrimRight(string(data), "\r\n"), true, nil
}

func isSecret(name string) bool {
	for _, s := range []string{"password", "secret", "token", "webhook"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

func set(fv reflect.Value, val string) error {
	if fv.Type() == durationType {
		d, err := time.ParseDuration(val)
		if err != nil {
			return fmt.Errorf("not a duration: use a value such as 30s or 5m")
		}
		fv.SetInt(int64(d))
		return nil
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(val)
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer")
		}
		fv.SetInt(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(val)
		if err != nil {
			return fmt.Errorf("not a boolean: use true or false")
		}
		fv.SetBool(b)
	case reflect.Slice:
		if fv.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("this list cannot be set from the environment: set it in the config file")
		}
		var items []string
		for _, s := range strings.Split(val, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		fv.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("this setting cannot be set from the environment: set it in the config file")
	}
	return nil
}
