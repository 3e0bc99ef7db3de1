package soaprfc

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

const (
	envelopeNS = "http://schemas.xmlsoap.org/soap/envelope/"
	rfcNS      = "urn:sap-com:document:sap:rfc:functions"
)

// encodeRequest returns the SOAP envelope that calls fm with params.
// Parameters and fields are written in name order, because SAP reads them
// by name.
func encodeRequest(fm string, params map[string]any) ([]byte, error) {
	fmName, err := elementName(fm)
	if err != nil {
		return nil, fmt.Errorf("function module: %w", err)
	}

	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>`)
	b.WriteString(`<SOAP-ENV:Envelope xmlns:SOAP-ENV="` + envelopeNS + `"><SOAP-ENV:Body>`)
	b.WriteString(`<rfc:` + fmName + ` xmlns:rfc="` + rfcNS + `">`)
	if err := encodeFields(&b, params); err != nil {
		return nil, err
	}
	b.WriteString(`</rfc:` + fmName + `></SOAP-ENV:Body></SOAP-ENV:Envelope>`)
	return b.Bytes(), nil
}

func encodeFields(b *bytes.Buffer, fields map[string]any) error {
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		if err := encodeValue(b, name, fields[name]); err != nil {
			return err
		}
	}
	return nil
}

// encodeValue writes one parameter or field. Strings and numbers become
// text, a bool becomes SAP's flag "X" or "", a map a structure, and a
// slice of maps a table of <item> rows.
func encodeValue(b *bytes.Buffer, name string, v any) error {
	elem, err := elementName(name)
	if err != nil {
		return err
	}

	var text string
	switch v := v.(type) {
	case nil:
		text = ""
	case string:
		text = v
	case bool:
		if v {
			text = "X"
		}
	case int:
		text = strconv.Itoa(v)
	case int32:
		text = strconv.FormatInt(int64(v), 10)
	case int64:
		text = strconv.FormatInt(v, 10)
	case float64:
		text = strconv.FormatFloat(v, 'f', -1, 64)
	case map[string]any:
		b.WriteString("<" + elem + ">")
		if err := encodeFields(b, v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		b.WriteString("</" + elem + ">")
		return nil
	case map[string]string:
		m := make(map[string]any, len(v))
		for k, s := range v {
			m[k] = s
		}
		return encodeValue(b, name, m)
	case []map[string]any:
		b.WriteString("<" + elem + ">")
		for i, row := range v {
			if line, ok := row[tableLine]; ok && len(row) == 1 {
				// A row of a table of scalars is the line itself.
				if err := encodeValue(b, "item", line); err != nil {
					return fmt.Errorf("%s row %d: %w", name, i, err)
				}
				continue
			}
			if err := encodeValue(b, "item", row); err != nil {
				return fmt.Errorf("%s row %d: %w", name, i, err)
			}
		}
		b.WriteString("</" + elem + ">")
		return nil
	case []any:
		rows := make([]map[string]any, len(v))
		for i, item := range v {
			row, ok := item.(map[string]any)
			if !ok {
				return fmt.Errorf("%s row %d: unsupported type %T: table rows must be map[string]any", name, i, item)
			}
			rows[i] = row
		}
		return encodeValue(b, name, rows)
	default:
		return fmt.Errorf("%s: unsupported type %T: use a string, a number, a bool, map[string]any or []map[string]any", name, v)
	}

	b.WriteString("<" + elem + ">")
	if err := xml.EscapeText(b, []byte(text)); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	b.WriteString("</" + elem + ">")
	return nil
}

// elementName returns the XML element name of an ABAP name: a '/' in a
// namespaced name such as /BIO/QI6ATEST becomes "_-". It rejects names
// that cannot be XML element names.
func elementName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("empty name")
	}
	elem := strings.ReplaceAll(name, "/", "_-")
	for i, r := range elem {
		letter := r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '_'
		if i == 0 && !letter {
			return "", fmt.Errorf("name %q: must start with a letter, '_' or '/'", name)
		}
		if !letter && !(r >= '0' && r <= '9') && r != '-' && r != '.' {
			return "", fmt.Errorf("name %q: invalid character %q: use letters, digits, '_' and '/'", name, r)
		}
	}
	return elem, nil
}

// abapName reverses elementName.
func abapName(elem string) string {
	return strings.ReplaceAll(elem, "_-", "/")
}
