package config

import (
	"reflect"
	"slices"
	"strings"
)

// EnvVars returns the name of every environment variable that overrides a
// configuration key, sorted, including the _FILE form of each secret key.
// Keys that only the YAML file can set, such as lists of structs, are left
// out. Deployment manifests are checked against it.
func EnvVars() []string {
	var names []string
	collectEnv(reflect.TypeFor[Config](), strings.TrimSuffix(EnvPrefix, "_"), &names)
	slices.Sort(names)
	return names
}

// collectEnv follows the naming rules of walk.
func collectEnv(t reflect.Type, prefix string, names *[]string) {
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
			collectEnv(f.Type, prefix, names)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		key := prefix + "_" + strings.ToUpper(name)
		if f.Type.Kind() == reflect.Struct && f.Type != durationType {
			collectEnv(f.Type, key, names)
			continue
		}
		if !settableFromEnv(f.Type) {
			continue
		}
		*names = append(*names, key)
		if isSecret(name) {
			*names = append(*names, key+"_FILE")
		}
	}
}

// settableFromEnv reports whether set accepts a value for type t.
func settableFromEnv(t reflect.Type) bool {
	if t == durationType {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Int, reflect.Int64, reflect.Int32, reflect.Bool:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.String
	}
	return false
}
