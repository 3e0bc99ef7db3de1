package restgw

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sfsap/sfsap/pkg/sap"
)

// checkPath returns an error when path cannot be used by valuesAt.
func checkPath(path string) error {
	if strings.TrimSpace(path) == "" {
		return fmt.Errorf("the path is empty")
	}
	for _, seg := range strings.Split(path, ".") {
		if seg == "" {
			return fmt.Errorf("path %q has an empty segment: separate keys with single dots, such as RESULT_TAB.*.CUSTOMER", path)
		}
	}
	return nil
}

// valuesAt returns the values at path in a decoded JSON document. A path
// is a list of segments separated by dots. A segment is an object key,
// matched exactly or else without regard to case, an array index such as
// 0, or * for every element of an array. A path that leads nowhere
// returns nothing.
func valuesAt(doc any, path string) []any {
	current := []any{doc}
	for _, seg := range strings.Split(path, ".") {
		var next []any
		for _, v := range current {
			next = append(next, step(v, seg)...)
		}
		current = next
	}
	return current
}

// step returns the values that segment seg selects in v.
func step(v any, seg string) []any {
	switch v := v.(type) {
	case map[string]any:
		if item, ok := v[seg]; ok {
			return []any{item}
		}
		for k, item := range v {
			if strings.EqualFold(k, seg) {
				return []any{item}
			}
		}
	case []any:
		if seg == "*" {
			return v
		}
		if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(v) {
			return []any{v[i]}
		}
	}
	return nil
}

// stringsAt returns the non-empty scalar values at path as strings.
func stringsAt(doc any, path string) []string {
	var out []string
	for _, v := range valuesAt(doc, path) {
		if s := scalar(v); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// scalar returns a JSON string or number as a trimmed string, and "" for
// anything else.
func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v)
	case fmt.Stringer: // json.Number
		return v.String()
	}
	return ""
}

// messagesAt returns the RETURN messages at path: an object in the shape
// of BAPIRETURN1 or BAPIRET2, or an array of them. Field names are matched
// without regard to case. Entries without a type and a text are left out.
func messagesAt(doc any, path string) []sap.Message {
	var rows []map[string]any
	for _, v := range valuesAt(doc, path) {
		switch v := v.(type) {
		case map[string]any:
			rows = append(rows, v)
		case []any:
			for _, item := range v {
				if row, ok := item.(map[string]any); ok {
					rows = append(rows, row)
				}
			}
		}
	}

	var msgs []sap.Message
	for _, row := range rows {
		field := func(name string) string {
			vals := valuesAt(row, name)
			if len(vals) == 0 {
				return ""
			}
			return scalar(vals[0])
		}
		m := sap.Message{
			Type:    strings.ToUpper(field("TYPE")),
			ID:      field("ID"),
			Number:  field("NUMBER"),
			Message: field("MESSAGE"),
		}
		if m.Type == "" && m.Message == "" {
			continue
		}
		if m.ID == "" && strings.Trim(m.Number, "0") == "" {
			m.Number = ""
		}
		msgs = append(msgs, m)
	}
	return msgs
}
