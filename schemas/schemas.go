// Package schemas embeds the JSON Schemas of sfsap's messages and
// validates messages against them.
package schemas

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed *.json
var files embed.FS

var (
	compileOnce sync.Once
	compiled    map[string]*jsonschema.Schema
	compileErr  error
)

// Names returns the schema ids, such as "sfsap.result.v1".
func Names() []string {
	entries, _ := files.ReadDir(".")
	var out []string
	for _, e := range entries {
		out = append(out, "sfsap."+strings.TrimSuffix(e.Name(), ".json"))
	}
	return out
}

func compileAll() {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	entries, err := files.ReadDir(".")
	if err != nil {
		compileErr = err
		return
	}
	compiled = map[string]*jsonschema.Schema{}
	for _, e := range entries {
		data, _ := files.ReadFile(e.Name())
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			compileErr = fmt.Errorf("parsing schema %s: %w", e.Name(), err)
			return
		}
		if err := c.AddResource(e.Name(), doc); err != nil {
			compileErr = fmt.Errorf("adding schema %s: %w", e.Name(), err)
			return
		}
		sch, err := c.Compile(e.Name())
		if err != nil {
			compileErr = fmt.Errorf("compiling schema %s: %w", e.Name(), err)
			return
		}
		compiled["sfsap."+strings.TrimSuffix(e.Name(), ".json")] = sch
	}
}

// Validate checks a JSON message against the schema named by its "schema"
// field and returns an error that lists every violation.
func Validate(data []byte) error {
	compileOnce.Do(compileAll)
	if compileErr != nil {
		return compileErr
	}
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("decoding message: %w", err)
	}
	sch, ok := compiled[head.Schema]
	if !ok {
		return fmt.Errorf("message names unknown schema %q: want one of %v", head.Schema, Names())
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("decoding message: %w", err)
	}
	if err := sch.Validate(doc); err != nil {
		return fmt.Errorf("message does not match %s: %w", head.Schema, err)
	}
	return nil
}
