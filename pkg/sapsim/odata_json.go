package sapsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// odataEntitySets lists the entity sets in the service document. The
// simulator serves only A_BusinessPartner.
var odataEntitySets = []string{"A_BusinessPartner"}

// odataFilterProperties are the properties that $filter may compare.
var odataFilterProperties = []string{"BusinessPartner", "Customer", "BusinessPartnerIDByExtSystem", "SearchTerm1"}

func writeODataJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("DataServiceVersion", "2.0")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// writeODataError writes the OData V2 error JSON of SAP Gateway for m.
// Gateway repeats the main message in errordetails, and so does the
// simulator.
func (s *Server) writeODataError(w http.ResponseWriter, status int, m message) {
	detail := map[string]any{
		"code":        odataCode(m),
		"message":     m.text,
		"propertyref": "",
		"severity":    odataSeverity(m.typ),
		"target":      "",
	}
	body := map[string]any{"error": map[string]any{
		"code":    odataCode(m),
		"message": map[string]any{"lang": "en", "value": m.text},
		"innererror": map[string]any{
			"application": map[string]any{
				"component_id":      "",
				"service_namespace": "/SAP/",
				"service_id":        "API_BUSINESS_PARTNER",
				"service_version":   "0001",
			},
			"transactionid": randomHex(16),
			"timestamp":     time.Now().UTC().Format("20060102150405.0000000"),
			"errordetails":  []any{detail},
		},
	}}
	writeODataJSON(w, status, body)
}

// sapMessageHeader returns the sap-message header value that carries m
// with a successful response.
func sapMessageHeader(m message) string {
	data, _ := json.Marshal(map[string]any{
		"code":     odataCode(m),
		"message":  m.text,
		"severity": odataSeverity(m.typ),
		"target":   "",
		"details":  []any{},
	})
	return string(data)
}

// odataCode returns the OData message code of m, "<class>/<number>", or
// "" for a message without a class.
func odataCode(m message) string {
	if m.id == "" {
		return ""
	}
	return m.id + "/" + m.numc3()
}

func odataSeverity(typ string) string {
	switch typ {
	case "W":
		return "warning"
	case "I":
		return "info"
	case "S":
		return "success"
	}
	return "error"
}

// trimNumber returns a customer number as OData returns keys: numeric
// numbers without their leading zeros.
func trimNumber(no string) string {
	if no == "" || strings.Trim(no, "0123456789") != "" {
		return no
	}
	if t := strings.TrimLeft(no, "0"); t != "" {
		return t
	}
	return "0"
}

// entity returns the A_BusinessPartnerType properties of customer c.
func (s *Server) entity(r *http.Request, c *Customer) map[string]any {
	no := trimNumber(c.Number)
	uri := "http://" + r.Host + ODataServicePath + "/A_BusinessPartner('" + no + "')"
	e := map[string]any{
		"__metadata": map[string]any{
			"id":   uri,
			"uri":  uri,
			"type": "API_BUSINESS_PARTNER.A_BusinessPartnerType",
		},
		"BusinessPartner":              no,
		"Customer":                     no,
		"BusinessPartnerIDByExtSystem": c.ExternalRef,
		"SearchTerm1":                  searchTerm(c.Name),
	}
	if c.Person {
		e["BusinessPartnerCategory"] = "1"
		e["LastName"] = c.Name
		e["FirstName"] = c.Name2
		e["BusinessPartnerFullName"] = strings.TrimSpace(c.Name2 + " " + c.Name)
		return e
	}
	e["BusinessPartnerCategory"] = "2"
	e["OrganizationBPName1"] = c.Name
	e["OrganizationBPName2"] = c.Name2
	e["OrganizationBPName3"] = c.Name3
	e["OrganizationBPName4"] = c.Name4
	e["BusinessPartnerFullName"] = strings.TrimSpace(c.Name + " " + c.Name2)
	return e
}

// searchTerm returns the search term the simulator derives from a name:
// its first word in upper case, at most 20 characters.
func searchTerm(name string) string {
	words := strings.Fields(name)
	if len(words) == 0 {
		return ""
	}
	t := []rune(strings.ToUpper(words[0]))
	if len(t) > 20 {
		t = t[:20]
	}
	return string(t)
}

func addressEntity(c *Customer) map[string]any {
	lang := languages[c.Language]
	return map[string]any{
		"BusinessPartner": trimNumber(c.Number),
		"AddressID":       trimNumber(c.Number),
		"Country":         c.Country,
		"Region":          c.Region,
		"CityName":        c.City,
		"PostalCode":      c.PostalCode,
		"StreetName":      c.Street,
		"HouseNumber":     c.HouseNo,
		"Language":        lang,
	}
}

// serveODataQuery serves GET A_BusinessPartner with $filter, $select,
// $top, $skip and $inlinecount. $filter accepts comparisons with eq of
// the properties in odataFilterProperties with string literals, joined by
// "and".
func (s *Server) serveODataQuery(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls[ODataQuery]++
	s.mu.Unlock()
	if m, ok := s.queryFault(); ok {
		s.writeODataError(w, http.StatusBadRequest, m)
		return
	}

	q := r.URL.Query()
	if f := q.Get("$format"); f != "" && f != "json" {
		s.writeODataError(w, http.StatusBadRequest, msgSim("031", "Format &1 is not supported: the simulator serves json only", f))
		return
	}
	conds, err := parseFilter(q.Get("$filter"))
	if err != nil {
		s.writeODataError(w, http.StatusBadRequest, msgSim("032", "Invalid $filter: &1", err.Error()))
		return
	}
	skip, err1 := optionalInt(q.Get("$skip"))
	top, err2 := optionalInt(q.Get("$top"))
	if err1 != nil || err2 != nil {
		s.writeODataError(w, http.StatusBadRequest, msgSim("033", "$top and $skip must be non-negative integers"))
		return
	}
	skip = max(skip, 0)

	s.mu.Lock()
	var matches []map[string]any
	for _, c := range s.customers {
		e := s.entity(r, c)
		if matchesFilter(e, conds) {
			matches = append(matches, e)
		}
	}
	s.mu.Unlock()

	count := len(matches)
	matches = matches[min(skip, len(matches)):]
	if top >= 0 && top < len(matches) {
		matches = matches[:top]
	}
	results := make([]any, 0, len(matches))
	for _, e := range matches {
		results = append(results, selectProperties(e, q.Get("$select")))
	}
	d := map[string]any{"results": results}
	if q.Get("$inlinecount") == "allpages" {
		d["__count"] = strconv.Itoa(count)
	}
	writeODataJSON(w, http.StatusOK, map[string]any{"d": d})
}

// serveODataEntity serves GET A_BusinessPartner('<number>').
func (s *Server) serveODataEntity(w http.ResponseWriter, r *http.Request, key string) {
	s.mu.Lock()
	s.calls[ODataQuery]++
	s.mu.Unlock()
	if m, ok := s.queryFault(); ok {
		s.writeODataError(w, http.StatusBadRequest, m)
		return
	}

	no, ok := strings.CutPrefix(key, "('")
	if ok {
		no, ok = strings.CutSuffix(no, "')")
	}
	if !ok {
		s.writeODataError(w, http.StatusBadRequest, msgSim("034", "Invalid key &1: use A_BusinessPartner('<number>')", key))
		return
	}
	s.mu.Lock()
	c, found := s.byNumber[normalizeNumber(no)]
	var e map[string]any
	if found {
		e = s.entity(r, c)
	}
	s.mu.Unlock()
	if !found {
		s.writeODataError(w, http.StatusNotFound, msgSim("035", "Business partner &1 does not exist", no))
		return
	}
	writeODataJSON(w, http.StatusOK, map[string]any{"d": selectProperties(e, r.URL.Query().Get("$select"))})
}

// queryFault applies the faults injected for ODataQuery: the latency and
// an injected message, which fails the read.
func (s *Server) queryFault() (message, bool) {
	if d := s.faults.latency(ODataQuery); d > 0 {
		select {
		case <-time.After(d):
		case <-s.closing:
		}
	}
	if m, ok := s.faults.takeReturn(ODataQuery); ok {
		return messageFrom(m), true
	}
	return message{}, false
}

type condition struct{ property, value string }

// parseFilter parses `Prop eq 'value' [and Prop eq 'value' ...]`.
func parseFilter(filter string) ([]condition, error) {
	filter = strings.TrimSpace(filter)
	if filter == "" {
		return nil, nil
	}
	var conds []condition
	rest := filter
	for {
		prop, after, ok := strings.Cut(strings.TrimSpace(rest), " eq ")
		prop = strings.TrimSpace(prop)
		if !ok || !slices.Contains(odataFilterProperties, prop) {
			return nil, fmt.Errorf("%q: compare one of %s with eq", filter, strings.Join(odataFilterProperties, ", "))
		}
		value, tail, err := stringLiteral(strings.TrimSpace(after))
		if err != nil {
			return nil, fmt.Errorf("%q: %v", filter, err)
		}
		conds = append(conds, condition{prop, value})
		tail = strings.TrimSpace(tail)
		if tail == "" {
			return conds, nil
		}
		next, ok := strings.CutPrefix(tail, "and ")
		if !ok {
			return nil, fmt.Errorf("%q: join comparisons with and", filter)
		}
		rest = next
	}
}

// stringLiteral reads an OData string literal at the start of s, where ”
// stands for one quote, and returns its value and the rest of s.
func stringLiteral(s string) (string, string, error) {
	if !strings.HasPrefix(s, "'") {
		return "", "", fmt.Errorf("expected a string literal in quotes at %q", s)
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return b.String(), s[i+1:], nil
	}
	return "", "", fmt.Errorf("unterminated string literal %q", s)
}

// matchesFilter reports whether e meets every condition. Key properties
// are compared without leading zeros, as OData returns them.
func matchesFilter(e map[string]any, conds []condition) bool {
	for _, c := range conds {
		got, _ := e[c.property].(string)
		want := c.value
		if c.property == "BusinessPartner" || c.property == "Customer" {
			want = trimNumber(want)
		}
		if got != want {
			return false
		}
	}
	return true
}

// selectProperties returns e with only the properties named in selectList
// and __metadata, or e when selectList is empty.
func selectProperties(e map[string]any, selectList string) map[string]any {
	if strings.TrimSpace(selectList) == "" {
		return e
	}
	out := map[string]any{"__metadata": e["__metadata"]}
	for _, p := range strings.Split(selectList, ",") {
		p = strings.TrimSpace(p)
		if v, ok := e[p]; ok {
			out[p] = v
		}
	}
	return out
}

func optionalInt(s string) (int, error) {
	if s == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a non-negative integer", s)
	}
	return n, nil
}
