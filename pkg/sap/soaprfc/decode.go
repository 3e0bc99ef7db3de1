package soaprfc

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode/utf8"
)

// node is one element of a parsed XML document, named by its local name.
type node struct {
	name     string
	children []*node
	text     strings.Builder
}

func (n *node) child(name string) *node {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// childText returns the text of the named child, or "" when it is absent.
func (n *node) childText(name string) string {
	if c := n.child(name); c != nil {
		return c.text.String()
	}
	return ""
}

// writeInner writes the children of n as XML with local names only.
func (n *node) writeInner(b *bytes.Buffer) {
	if len(n.children) == 0 {
		_ = xml.EscapeText(b, []byte(n.text.String()))
		return
	}
	for _, c := range n.children {
		b.WriteString("<" + c.name + ">")
		c.writeInner(b)
		b.WriteString("</" + c.name + ">")
	}
}

// parseXML parses an XML document into a tree of local names. The charset
// comes from the XML declaration, or from the Content-Type header when the
// document has no declaration.
func parseXML(data []byte, contentType string) (*node, error) {
	if !hasEncodingDecl(data) {
		if _, params, err := mime.ParseMediaType(contentType); err == nil && params["charset"] != "" {
			r, err := charsetReader(params["charset"], bytes.NewReader(data))
			if err != nil {
				return nil, err
			}
			if data, err = io.ReadAll(r); err != nil {
				return nil, err
			}
		}
	}

	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = charsetReader
	var root *node
	var stack []*node
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name.Local}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("no XML element")
	}
	return root, nil
}

// hasEncodingDecl reports whether data starts with an XML declaration that
// names an encoding.
func hasEncodingDecl(data []byte) bool {
	if !bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n\ufeff"), []byte("<?xml")) {
		return false
	}
	end := bytes.Index(data, []byte("?>"))
	return end > 0 && bytes.Contains(data[:end], []byte("encoding"))
}

// charsetReader converts the charsets SAP sends to UTF-8. SAP systems with
// a Latin-1 code page respond in iso-8859-1.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(charset)) {
	case "utf-8", "utf8":
		return input, nil
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii":
		data, err := io.ReadAll(input)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(data)+len(data)/8)
		for _, c := range data {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("unsupported charset %q: SAP sends utf-8 or iso-8859-1", charset)
}

// decodeResponse returns the parameters of fm's response, or the fault
// that the envelope carries instead.
func decodeResponse(fm string, data []byte, contentType string) (map[string]any, *Fault, error) {
	root, err := parseXML(data, contentType)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: parsing XML: %v", ErrInvalidResponse, err)
	}
	if root.name != "Envelope" {
		return nil, nil, fmt.Errorf("%w: root element is %s, want a SOAP Envelope", ErrInvalidResponse, root.name)
	}
	body := root.child("Body")
	if body == nil || len(body.children) == 0 {
		return nil, nil, fmt.Errorf("%w: the SOAP Body is missing or empty", ErrInvalidResponse)
	}

	first := body.children[0]
	if first.name == "Fault" {
		return nil, decodeFault(first), nil
	}
	want, _ := elementName(fm)
	want += ".Response"
	if first.name != want {
		return nil, nil, fmt.Errorf("%w: body element is %s, want %s", ErrInvalidResponse, first.name, want)
	}
	return structFields(first), nil, nil
}

func decodeFault(n *node) *Fault {
	f := &Fault{
		FaultCode:   strings.TrimSpace(n.childText("faultcode")),
		FaultString: strings.TrimSpace(n.childText("faultstring")),
		FaultActor:  strings.TrimSpace(n.childText("faultactor")),
	}
	if detail := n.child("detail"); detail != nil {
		var b bytes.Buffer
		detail.writeInner(&b)
		f.Detail = strings.TrimSpace(b.String())
		for _, c := range detail.children {
			if strings.HasSuffix(c.name, ".Exception") {
				f.Exception = strings.TrimSpace(c.childText("Name"))
				break
			}
		}
	}
	return f
}

// tableLine is the ABAP name of the whole row of a table whose rows are
// not structures.
const tableLine = "TABLE_LINE"

// value converts an element to the rfc package's shapes: an element
// without children is a scalar, one whose children are all <item> a table,
// any other a structure. An empty element is the empty string, because
// the wire does not tell an empty table or structure from an empty
// scalar. Scalars lose trailing blanks and keep leading ones, as SAP
// formats CHAR values.
func value(n *node) any {
	if len(n.children) == 0 {
		return strings.TrimRight(n.text.String(), " ")
	}
	for _, c := range n.children {
		if c.name != "item" {
			return structFields(n)
		}
	}
	rows := make([]map[string]any, 0, len(n.children))
	for _, item := range n.children {
		if len(item.children) == 0 {
			row := map[string]any{}
			if text := strings.TrimRight(item.text.String(), " "); text != "" {
				row[tableLine] = text
			}
			rows = append(rows, row)
			continue
		}
		rows = append(rows, structFields(item))
	}
	return rows
}

func structFields(n *node) map[string]any {
	m := make(map[string]any, len(n.children))
	for _, c := range n.children {
		m[abapName(c.name)] = value(c)
	}
	return m
}
