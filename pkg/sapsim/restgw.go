package sapsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RESTServicesPath is the path below which the simulated REST gateway
// serves its services. They work like the services that SAP gateway
// products generate from function modules: a POST to /services/<name>
// sends the import parameters as a JSON object, and the response carries
// the export and table parameters as a JSON object.
const RESTServicesPath = "/services/"

// Services of the REST gateway.
const (
	// RESTCreateService runs the create wrapper function module
	// (Options.CreateFunction): it takes PI_COMPANYDATA, PI_COPYREFERENCE
	// and the external reference parameter, and returns CUSTOMERNO and
	// RETURN. Faults injected for the create wrapper apply to it.
	RESTCreateService = "CreateSAPCustomer"
	// RESTFindService finds customers by external reference with
	// BAPI_CUSTOMER_FIND. It takes the external reference parameter from
	// the query string (GET) or the JSON body (POST), and returns
	// RESULT_TAB and RETURN.
	RESTFindService = "FindSAPCustomer"
)

// serveREST serves the REST gateway below RESTServicesPath.
func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	if status, ok := s.faults.takeHTTPStatus(); ok {
		http.Error(w, http.StatusText(status), status)
		return
	}
	if !s.authorized(r) {
		s.writeUnauthorized(w)
		return
	}

	service := strings.TrimPrefix(r.URL.Path, RESTServicesPath)
	switch {
	case service == RESTCreateService && r.Method == http.MethodPost:
		params, err := readJSONParams(r)
		if err != nil {
			writeRESTError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.serveRESTCall(w, r, s.opts.CreateFunction, params)
	case service == RESTFindService && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		ref := r.URL.Query().Get(s.opts.ExternalRefParam)
		if r.Method == http.MethodPost {
			p, err := readJSONParams(r)
			if err != nil {
				writeRESTError(w, http.StatusBadRequest, err.Error())
				return
			}
			ref = paramString(p, s.opts.ExternalRefParam)
		}
		if strings.TrimSpace(ref) == "" {
			writeRESTError(w, http.StatusBadRequest, fmt.Sprintf("parameter %s is missing", s.opts.ExternalRefParam))
			return
		}
		s.serveRESTCall(w, r, "BAPI_CUSTOMER_FIND", map[string]any{
			"MAX_CNT": "100",
			"PL_HOLD": "",
			"SELOPT_TAB": []map[string]any{{
				"TABNAME":    s.opts.ExternalRefTable,
				"FIELDNAME":  s.opts.ExternalRefField,
				"FIELDVALUE": strings.TrimSpace(ref),
			}},
		})
	case service == RESTCreateService || service == RESTFindService:
		writeRESTError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed for service %s", r.Method, service))
	default:
		writeRESTError(w, http.StatusNotFound, fmt.Sprintf("service %q not found: use %s or %s", service, RESTCreateService, RESTFindService))
	}
}

// serveRESTCall runs function module fm with params and writes its export
// and table parameters as JSON, applying the faults injected for fm as
// serveCall does for SOAP-RFC. Each request is its own session.
func (s *Server) serveRESTCall(w http.ResponseWriter, r *http.Request, fm string, params map[string]any) {
	s.mu.Lock()
	s.calls[fm]++
	s.mu.Unlock()

	if d := s.faults.latency(fm); d > 0 {
		select {
		case <-time.After(d):
		case <-s.closing:
			return
		}
	}
	if text, ok := s.faults.takeFault(fm); ok {
		writeRESTError(w, http.StatusInternalServerError, text)
		return
	}

	s.mu.Lock()
	c := &call{s: s, fm: fm, session: &session{}, params: params}
	fields := s.function(fm)(c)
	s.mu.Unlock()

	if c.committed {
		if hold, ok := s.faults.takeTimeoutAfterCommit(); ok {
			s.holdOrDrop(w, r, hold)
		}
	}
	var b bytes.Buffer
	writeJSONFields(&b, fields)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(b.Bytes())
}

// readJSONParams reads a JSON object of import parameters into the shapes
// of package rfc: objects become structures, arrays of objects tables,
// and scalars strings (true becomes "X", false and null ""). Names are
// upper-cased, because the casing of generated services varies.
func readJSONParams(r *http.Request) (map[string]any, error) {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxRequestBytes))
	dec.UseNumber()
	var body map[string]any
	if err := dec.Decode(&body); err != nil {
		return nil, fmt.Errorf("the request body is not a JSON object: %v", err)
	}
	params, _ := rfcValue(body).(map[string]any)
	return params, nil
}

func rfcValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, item := range v {
			out[strings.ToUpper(k)] = rfcValue(item)
		}
		return out
	case []any:
		rows := make([]map[string]any, 0, len(v))
		for _, item := range v {
			if row, ok := rfcValue(item).(map[string]any); ok {
				rows = append(rows, row)
			}
		}
		return rows
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "X"
		}
		return ""
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// writeJSONFields writes fields as a JSON object in interface order.
func writeJSONFields(b *bytes.Buffer, fields []field) {
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(f.name)
		b.Write(name)
		b.WriteByte(':')
		switch v := f.value.(type) {
		case string:
			data, _ := json.Marshal(v)
			b.Write(data)
		case []field:
			writeJSONFields(b, v)
		case [][]field:
			b.WriteByte('[')
			for j, row := range v {
				if j > 0 {
					b.WriteByte(',')
				}
				writeJSONFields(b, row)
			}
			b.WriteByte(']')
		default:
			b.WriteString("null")
		}
	}
	b.WriteByte('}')
}

// writeRESTError writes a JSON error body. The error bodies of gateway
// products differ, so the simulator uses a minimal one.
func writeRESTError(w http.ResponseWriter, status int, text string) {
	data, _ := json.Marshal(map[string]any{"error": map[string]any{"status": strconv.Itoa(status), "message": text}})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
