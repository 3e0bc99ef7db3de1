package soaprfc

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/test/fixtures"
)

// bodyCall parses a SOAP request and returns the local name of the body
// element and its parameters.
func bodyCall(t *testing.T, data []byte) (string, map[string]any) {
	t.Helper()
	root, err := parseXML(data, "")
	if err != nil {
		t.Fatalf("parseXML() error = %v", err)
	}
	body := root.child("Body")
	if body == nil || len(body.children) != 1 {
		t.Fatalf("request has no single body element:\n%s", data)
	}
	return body.children[0].name, structFields(body.children[0])
}

func TestEncodeRequestMatchesCreateFixture(t *testing.T) {
	t.Parallel()

	fixture := fixtures.Read(t, "fixtures/sap/constructed/soap-rfc-BAPI_CUSTOMER_CREATEFROMDATA1-request.xml")
	params := map[string]any{
		"PI_COMPANYDATA": map[string]any{
			"NAME":       "Acme Widgets Inc",
			"CITY":       "Springfield",
			"POSTL_COD1": "62701",
			"STREET":     "100 Main St",
			"COUNTRY":    "US",
			"REGION":     "IL",
			"LANGU":      "E",
			"CURRENCY":   "USD",
			"TEL1_NUMBR": "217-555-0100",
			"E_MAIL":     "ap@acme.example",
		},
		"PI_COPYREFERENCE": map[string]any{
			"SALESORG":   "1000",
			"DISTR_CHAN": "10",
			"DIVISION":   "00",
			"REF_CUSTMR": "0000099999",
		},
	}
	got, err := encodeRequest("BAPI_CUSTOMER_CREATEFROMDATA1", params)
	if err != nil {
		t.Fatalf("encodeRequest() error = %v", err)
	}

	wantName, wantParams := bodyCall(t, fixture)
	gotName, gotParams := bodyCall(t, got)
	if gotName != wantName {
		t.Errorf("body element = %s, want %s", gotName, wantName)
	}
	if diff := cmp.Diff(wantParams, gotParams); diff != "" {
		t.Errorf("encoded parameters differ from the fixture (-want +got):\n%s", diff)
	}
	checkNamespaces(t, got, "BAPI_CUSTOMER_CREATEFROMDATA1")
}

// checkNamespaces checks that the envelope is SOAP 1.1, the body element
// is in the RFC namespace and its children are unqualified.
func checkNamespaces(t *testing.T, data []byte, wantElem string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch se := tok.(type) {
		case xml.StartElement:
			depth++
			switch depth {
			case 1, 2:
				if se.Name.Space != envelopeNS {
					t.Errorf("element %s in namespace %q, want %q", se.Name.Local, se.Name.Space, envelopeNS)
				}
			case 3:
				if se.Name.Space != rfcNS || se.Name.Local != wantElem {
					t.Errorf("body element = {%s}%s, want {%s}%s", se.Name.Space, se.Name.Local, rfcNS, wantElem)
				}
			default:
				if se.Name.Space != "" {
					t.Errorf("parameter element %s in namespace %q, want unqualified", se.Name.Local, se.Name.Space)
				}
			}
		case xml.EndElement:
			depth--
		}
	}
}

func TestEncodeRequestMatchesTableFixture(t *testing.T) {
	t.Parallel()

	fixture := fixtures.Read(t, "fixtures/sap/soap-rfc-table-encoding-request-SAPHelp-BW.xml")
	params := map[string]any{
		"DATASOURCE": "6ATEST",
		"DATA": []map[string]any{
			{"VENDOR": "JOHN", "MATERIAL": "DETERGENT", "DATE": "20010815", "UNIT": "KG", "AMOUNT": "1.25"},
			{"VENDOR": "DAVID", "MATERIAL": "DETERGENT", "DATE": "20010816", "UNIT": "ML", "AMOUNT": 125},
		},
	}
	got, err := encodeRequest("/BIO/QI6ATEST_RFC", params)
	if err != nil {
		t.Fatalf("encodeRequest() error = %v", err)
	}

	wantName, wantParams := bodyCall(t, fixture)
	gotName, gotParams := bodyCall(t, got)
	if gotName != wantName {
		t.Errorf("body element = %s, want %s", gotName, wantName)
	}
	if diff := cmp.Diff(wantParams, gotParams); diff != "" {
		t.Errorf("encoded parameters differ from the fixture (-want +got):\n%s", diff)
	}
	checkNamespaces(t, got, "_-BIO_-QI6ATEST_RFC")
}

func TestEncodeValueTypes(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		value any
		want  string
	}{
		{"string", "a<b&c", "<P>a&lt;b&amp;c</P>"},
		{"empty", "", "<P></P>"},
		{"nil", nil, "<P></P>"},
		{"true", true, "<P>X</P>"},
		{"false", false, "<P></P>"},
		{"int", 42, "<P>42</P>"},
		{"int64", int64(-1), "<P>-1</P>"},
		{"float", 1.5, "<P>1.5</P>"},
		{"structure", map[string]any{"B": "2", "A": "1"}, "<P><A>1</A><B>2</B></P>"},
		{"string map", map[string]string{"A": "1"}, "<P><A>1</A></P>"},
		{"table", []map[string]any{{"A": "1"}, {"A": "2"}}, "<P><item><A>1</A></item><item><A>2</A></item></P>"},
		{"gorfc table", []any{map[string]any{"A": "1"}}, "<P><item><A>1</A></item></P>"},
		{"scalar table", []map[string]any{{"TABLE_LINE": "x"}}, "<P><item>x</item></P>"},
		{"leading blanks", "  7", "<P>  7</P>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := encodeValue(&b, "P", tt.value); err != nil {
				t.Fatalf("encodeValue(P, %#v) error = %v", tt.value, err)
			}
			if got := b.String(); got != tt.want {
				t.Fatalf("encodeValue(P, %#v) = %s, want %s", tt.value, got, tt.want)
			}
		})
	}
}

func TestEncodeRejects(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		fm     string
		params map[string]any
	}{
		{"empty function", "", nil},
		{"space in function", "BAPI CUSTOMER", nil},
		{"digit first", "FM", map[string]any{"1ABC": "x"}},
		{"markup in name", "FM", map[string]any{"A<B": "x"}},
		{"unsupported type", "FM", map[string]any{"A": struct{}{}}},
		{"bad table row", "FM", map[string]any{"T": []any{"row"}}},
		{"bad nested name", "FM", map[string]any{"S": map[string]any{"A B": "x"}}},
	}
	for _, tt := range tests {
		if _, err := encodeRequest(tt.fm, tt.params); err == nil {
			t.Errorf("encodeRequest(%q, %v) error = nil, want an error (%s)", tt.fm, tt.params, tt.name)
		}
	}
}

func TestDecodeSystemInfoFixture(t *testing.T) {
	t.Parallel()

	data := fixtures.Read(t, "fixtures/sap/soap-rfc-RFC_SYSTEM_INFO-response.xml")
	got, fault, err := decodeResponse("RFC_SYSTEM_INFO", data, "text/xml")
	if err != nil || fault != nil {
		t.Fatalf("decodeResponse() = fault %v, error %v", fault, err)
	}
	rfcsi, ok := got["RFCSI"].(map[string]any)
	if !ok {
		t.Fatalf("RFCSI = %#v, want a structure", got["RFCSI"])
	}
	checks := map[string]string{
		"RFCSYSID":  "T01",
		"RFCSAPRL":  "740",
		"RFCMACH":   "  324",
		"RFCTZONE":  "  3600",
		"RFCDAYST":  "",
		"RFCIPADDR": "10.11.11.80",
	}
	for field, want := range checks {
		if got := rfcsi[field]; got != want {
			t.Errorf("RFCSI-%s = %q, want %q", field, got, want)
		}
	}
}

func TestDecodeCreateFixtures(t *testing.T) {
	t.Parallel()

	tests := []struct {
		file       string
		wantNo     string
		wantType   string
		wantNumber string
	}{
		{"fixtures/sap/constructed/soap-rfc-BAPI_CUSTOMER_CREATEFROMDATA1-response-success.xml", "0000100234", "", "000"},
		{"fixtures/sap/constructed/soap-rfc-BAPI_CUSTOMER_CREATEFROMDATA1-response-error.xml", "", "E", "156"},
	}
	for _, tt := range tests {
		data := fixtures.Read(t, tt.file)
		got, fault, err := decodeResponse("BAPI_CUSTOMER_CREATEFROMDATA1", data, "text/xml; charset=utf-8")
		if err != nil || fault != nil {
			t.Fatalf("decodeResponse(%s) = fault %v, error %v", tt.file, fault, err)
		}
		if got["CUSTOMERNO"] != tt.wantNo {
			t.Errorf("%s: CUSTOMERNO = %q, want %q", tt.file, got["CUSTOMERNO"], tt.wantNo)
		}
		ret, _ := got["RETURN"].(map[string]any)
		if ret["TYPE"] != tt.wantType || ret["NUMBER"] != tt.wantNumber {
			t.Errorf("%s: RETURN TYPE/NUMBER = %q/%q, want %q/%q", tt.file, ret["TYPE"], ret["NUMBER"], tt.wantType, tt.wantNumber)
		}
		if ret["LOG_MSG_NO"] != "000000" {
			t.Errorf("%s: RETURN-LOG_MSG_NO = %q, want 000000", tt.file, ret["LOG_MSG_NO"])
		}
	}
}

func TestDecodeFaultFixture(t *testing.T) {
	t.Parallel()

	data := fixtures.Read(t, "fixtures/sap/soamanager-generic-fault-es.xml")
	_, fault, err := decodeResponse("BAPI_CUSTOMER_CREATEFROMDATA1", data, "text/xml; charset=utf-8")
	if err != nil {
		t.Fatalf("decodeResponse() error = %v", err)
	}
	if fault == nil {
		t.Fatal("decodeResponse() fault = nil, want the fault")
	}
	if fault.FaultCode != "soap-env:Server" {
		t.Errorf("FaultCode = %q, want soap-env:Server", fault.FaultCode)
	}
	if !strings.HasPrefix(fault.FaultString, "Error en el tratamiento de servicio web; Más detalles") {
		t.Errorf("FaultString = %q, want the Spanish text with its accents", fault.FaultString)
	}
	if !strings.Contains(fault.FaultString, "386BDE44326A0040E006A6F8652D99A4") {
		t.Errorf("FaultString = %q, want it to keep the transaction id", fault.FaultString)
	}
	if fault.IsClient() {
		t.Errorf("IsClient() = true, want false for %s", fault.FaultCode)
	}
	if fault.Detail != "" {
		t.Errorf("Detail = %q, want empty", fault.Detail)
	}
}

func TestDecodeFaultDetail(t *testing.T) {
	t.Parallel()

	data := []byte(`<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>` +
		`<SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode><faultstring>Function module not found</faultstring>` +
		`<detail><rfc:Z_X.Exception xmlns:rfc="urn:sap-com:document:sap:rfc:functions"><Name>FU_NOT_FOUND</Name></rfc:Z_X.Exception></detail>` +
		`</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`)
	_, fault, err := decodeResponse("Z_X", data, "")
	if err != nil || fault == nil {
		t.Fatalf("decodeResponse() = fault %v, error %v", fault, err)
	}
	want := &Fault{
		FaultCode:   "SOAP-ENV:Client",
		FaultString: "Function module not found",
		Detail:      "<Z_X.Exception><Name>FU_NOT_FOUND</Name></Z_X.Exception>",
		Exception:   "FU_NOT_FOUND",
	}
	if diff := cmp.Diff(want, fault); diff != "" {
		t.Errorf("fault mismatch (-want +got):\n%s", diff)
	}
	if !fault.IsClient() {
		t.Errorf("IsClient() = false, want true for %s", fault.FaultCode)
	}
}

func TestDecodeCharsets(t *testing.T) {
	t.Parallel()

	response := func(decl string) []byte {
		body := decl + `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>` +
			`<rfc:FM.Response xmlns:rfc="urn:sap-com:document:sap:rfc:functions"><CITY>Z` + "\xfc" + `rich</CITY></rfc:FM.Response>` +
			`</SOAP-ENV:Body></SOAP-ENV:Envelope>`
		return []byte(body)
	}
	tests := []struct {
		name        string
		data        []byte
		contentType string
	}{
		{"declaration", response(`<?xml version="1.0" encoding="iso-8859-1"?>`), "text/xml"},
		{"upper-case declaration", response(`<?xml version="1.0" encoding="ISO-8859-1"?>`), ""},
		{"header only", response(""), "text/xml; charset=iso-8859-1"},
	}
	for _, tt := range tests {
		got, _, err := decodeResponse("FM", tt.data, tt.contentType)
		if err != nil {
			t.Errorf("%s: decodeResponse() error = %v", tt.name, err)
			continue
		}
		if got["CITY"] != "Zürich" {
			t.Errorf("%s: CITY = %q, want Zürich", tt.name, got["CITY"])
		}
	}

	utf8Body := []byte(`<?xml version="1.0" encoding="utf-8"?><E><Body><FM.Response><CITY>Zürich</CITY></FM.Response></Body></E>`)
	if _, _, err := decodeResponse("FM", utf8Body, ""); err == nil {
		t.Errorf("decodeResponse() of a non-SOAP root error = nil, want an error")
	}
	shiftJIS := response(`<?xml version="1.0" encoding="shift_jis"?>`)
	if _, _, err := decodeResponse("FM", shiftJIS, ""); err == nil || !strings.Contains(err.Error(), "shift_jis") {
		t.Errorf("decodeResponse() with shift_jis error = %v, want one naming the charset", err)
	}
}

func TestDecodeValues(t *testing.T) {
	t.Parallel()

	data := []byte(`<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>` +
		`<rfc:_-NS_-FM.Response xmlns:rfc="urn:sap-com:document:sap:rfc:functions">` +
		`<NAME>  Acme   </NAME><EMPTY/><S><A>1</A><_-NS_-B>2</_-NS_-B></S>` +
		`<T><item><A>1</A></item><item><A>2 </A></item></T><LINES><item>x</item><item/></LINES>` +
		`</rfc:_-NS_-FM.Response></SOAP-ENV:Body></SOAP-ENV:Envelope>`)
	got, fault, err := decodeResponse("/NS/FM", data, "")
	if err != nil || fault != nil {
		t.Fatalf("decodeResponse() = fault %v, error %v", fault, err)
	}
	want := map[string]any{
		"NAME":  "  Acme",
		"EMPTY": "",
		"S":     map[string]any{"A": "1", "/NS/B": "2"},
		"T":     []map[string]any{{"A": "1"}, {"A": "2"}},
		"LINES": []map[string]any{{"TABLE_LINE": "x"}, {}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decoded values mismatch (-want +got):\n%s", diff)
	}
}

func TestDecodeRejectsWrongResponse(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		data string
	}{
		{"not XML", "<html><body>ICM error"},
		{"empty body", `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>`},
		{"other function", `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><OTHER.Response/></e:Body></e:Envelope>`},
	}
	for _, tt := range tests {
		if _, _, err := decodeResponse("FM", []byte(tt.data), ""); err == nil {
			t.Errorf("%s: decodeResponse() error = nil, want an error", tt.name)
		}
	}
}
