package sapsim

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

const (
	envelopeNS = "http://schemas.xmlsoap.org/soap/envelope/"
	rfcNS      = "urn:sap-com:document:sap:rfc:functions"
)

// element is one parsed XML element.
type element struct {
	space    string
	name     string
	children []*element
	text     strings.Builder
}

func (e *element) child(name string) *element {
	for _, c := range e.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// parseRequest returns the function module and parameters of a SOAP-RFC
// request. Parameters have the shapes of package rfc: strings, maps for
// structures and slices of maps for tables.
func parseRequest(body []byte) (fm string, params map[string]any, err error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.CharsetReader = latin1Reader
	var root *element
	var stack []*element
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", nil, fmt.Errorf("parsing XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			e := &element{space: t.Name.Space, name: t.Name.Local}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, e)
			} else {
				root = e
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		}
	}

	if root == nil || root.name != "Envelope" || root.space != envelopeNS {
		return "", nil, fmt.Errorf("root element is not a SOAP 1.1 Envelope")
	}
	b := root.child("Body")
	if b == nil || len(b.children) != 1 {
		return "", nil, fmt.Errorf("SOAP Body must hold exactly one element")
	}
	call := b.children[0]
	if call.space != rfcNS {
		return "", nil, fmt.Errorf("element %s is not in namespace %s", call.name, rfcNS)
	}
	return abapName(call.name), structOf(call), nil
}

func latin1Reader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "latin-1", "us-ascii":
		data, err := io.ReadAll(input)
		if err != nil {
			return nil, err
		}
		var out []byte
		for _, c := range data {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("unsupported charset %q", charset)
}

func valueOf(e *element) any {
	if len(e.children) == 0 {
		return strings.TrimRight(e.text.String(), " ")
	}
	for _, c := range e.children {
		if c.name != "item" {
			return structOf(e)
		}
	}
	rows := make([]map[string]any, 0, len(e.children))
	for _, item := range e.children {
		rows = append(rows, structOf(item))
	}
	return rows
}

func structOf(e *element) map[string]any {
	m := make(map[string]any, len(e.children))
	for _, c := range e.children {
		m[abapName(c.name)] = valueOf(c)
	}
	return m
}

func abapName(elem string) string { return strings.ReplaceAll(elem, "_-", "/") }

func elemName(name string) string { return strings.ReplaceAll(name, "/", "_-") }

// paramString returns the scalar params[name], or "" when it is absent or
// not a scalar.
func paramString(params map[string]any, name string) string {
	s, _ := params[name].(string)
	return s
}

func paramStruct(params map[string]any, name string) map[string]any {
	m, _ := params[name].(map[string]any)
	return m
}

func paramTable(params map[string]any, name string) []map[string]any {
	rows, _ := params[name].([]map[string]any)
	return rows
}

// field is one export parameter or structure field of a response, kept in
// interface order. Its value is a string, a []field (structure) or a
// [][]field (table).
type field struct {
	name  string
	value any
}

// encodeResponse returns the SOAP envelope of fm's response in charset
// utf-8 or iso-8859-1. Characters that iso-8859-1 lacks become '#', as in
// an SAP code page conversion.
func encodeResponse(fm string, fields []field, charset string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="` + charset + `"?>`)
	b.WriteString(`<SOAP-ENV:Envelope xmlns:SOAP-ENV="` + envelopeNS + `"><SOAP-ENV:Body>`)
	b.WriteString(`<rfc:` + elemName(fm) + `.Response xmlns:rfc="` + rfcNS + `">`)
	writeFields(&b, fields)
	b.WriteString(`</rfc:` + elemName(fm) + `.Response></SOAP-ENV:Body></SOAP-ENV:Envelope>`)
	return toCharset(b.Bytes(), charset)
}

func writeFields(b *bytes.Buffer, fields []field) {
	for _, f := range fields {
		writeField(b, f)
	}
}

// writeField writes one field as SAP does: an empty value is a
// self-closing element.
func writeField(b *bytes.Buffer, f field) {
	name := elemName(f.name)
	switch v := f.value.(type) {
	case string:
		if v == "" {
			b.WriteString("<" + name + "/>")
			return
		}
		b.WriteString("<" + name + ">")
		_ = xml.EscapeText(b, []byte(v))
		b.WriteString("</" + name + ">")
	case []field:
		if len(v) == 0 {
			b.WriteString("<" + name + "/>")
			return
		}
		b.WriteString("<" + name + ">")
		writeFields(b, v)
		b.WriteString("</" + name + ">")
	case [][]field:
		if len(v) == 0 {
			b.WriteString("<" + name + "/>")
			return
		}
		b.WriteString("<" + name + ">")
		for _, row := range v {
			b.WriteString("<item>")
			writeFields(b, row)
			b.WriteString("</item>")
		}
		b.WriteString("</" + name + ">")
	}
}

// encodeFault returns a SOAP 1.1 fault envelope. exception, when set, is
// the ABAP exception name carried in the detail.
func encodeFault(fm, code, text, exception, charset string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="` + charset + `"?>`)
	b.WriteString(`<SOAP-ENV:Envelope xmlns:SOAP-ENV="` + envelopeNS + `"><SOAP-ENV:Body><SOAP-ENV:Fault>`)
	b.WriteString(`<faultcode>SOAP-ENV:` + code + `</faultcode><faultstring xml:lang="en">`)
	_ = xml.EscapeText(&b, []byte(text))
	b.WriteString(`</faultstring>`)
	if exception != "" && fm != "" {
		b.WriteString(`<detail><rfc:` + elemName(fm) + `.Exception xmlns:rfc="` + rfcNS + `"><Name>`)
		_ = xml.EscapeText(&b, []byte(exception))
		b.WriteString(`</Name></rfc:` + elemName(fm) + `.Exception></detail>`)
	} else {
		b.WriteString(`<detail/>`)
	}
	b.WriteString(`</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`)
	return toCharset(b.Bytes(), charset)
}

func toCharset(utf8Data []byte, charset string) []byte {
	if charset != "iso-8859-1" {
		return utf8Data
	}
	out := make([]byte, 0, len(utf8Data))
	for _, r := range string(utf8Data) {
		if r > 0xFF {
			r = '#'
		}
		out = append(out, byte(r))
	}
	return out
}
