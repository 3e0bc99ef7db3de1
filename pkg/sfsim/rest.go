package sfsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/sfid"
)

// restTimeLayout is the datetime form of the REST API, such as
// 2013-05-20T20:49:32.000+0000.
const restTimeLayout = "2006-01-02T15:04:05.000-0700"

// standardFields are the Account fields every simulated org has, in the
// order a full record is returned.
var standardFields = []string{
	"Id", "IsDeleted", "MasterRecordId", "Name", "Type", "ParentId",
	"BillingStreet", "BillingCity", "BillingState", "BillingPostalCode", "BillingCountry",
	"BillingStateCode", "BillingCountryCode", "BillingLatitude", "BillingLongitude",
	"BillingGeocodeAccuracy", "BillingAddress",
	"ShippingStreet", "ShippingCity", "ShippingState", "ShippingPostalCode", "ShippingCountry",
	"ShippingStateCode", "ShippingCountryCode", "ShippingLatitude", "ShippingLongitude",
	"ShippingGeocodeAccuracy", "ShippingAddress",
	"Phone", "Fax", "AccountNumber", "Website", "PhotoUrl", "Sic", "Industry", "AnnualRevenue",
	"NumberOfEmployees", "Ownership", "TickerSymbol", "Description", "Rating", "Site",
	"CurrencyIsoCode", "OwnerId", "CreatedDate", "CreatedById", "LastModifiedDate",
	"LastModifiedById", "SystemModstamp", "LastActivityDate", "LastViewedDate",
	"LastReferencedDate", "AccountSource", "SicDesc",
}

// readOnlyFields cannot be set through the REST API.
var readOnlyFields = []string{
	"Id", "IsDeleted", "MasterRecordId", "BillingAddress", "ShippingAddress", "PhotoUrl",
	"CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp",
	"LastActivityDate", "LastViewedDate", "LastReferencedDate",
}

// compoundFields maps each compound address field to its prefix.
var compoundFields = map[string]string{"BillingAddress": "Billing", "ShippingAddress": "Shipping"}

// fieldCache contains the Account field names by lower-case name. It is
// never changed after it is built, but replaced when the store's newest
// replay id changes, since every write appends an event.
type fieldCache struct {
	replay int64
	byName map[string]string
	order  []string
}

// fields returns the Account fields of the org: the standard ones, the
// custom fields sfsap uses, Options.CustomFields and every field set on a
// record.
func (s *Server) fields() *fieldCache {
	replay := s.store.LatestReplayID()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fieldSet != nil && s.fieldSet.replay == replay {
		return s.fieldSet
	}
	d := account.DefaultFields()
	order := slices.Clone(standardFields)
	extra := d.Custom()
	extra = append(extra, s.opts.CustomFields...)
	extra = append(extra, s.store.FieldNames()...)
	byName := make(map[string]string, len(order)+len(extra))
	for _, f := range order {
		byName[strings.ToLower(f)] = f
	}
	for _, f := range extra {
		if _, ok := byName[strings.ToLower(f)]; !ok {
			byName[strings.ToLower(f)] = f
			order = append(order, f)
		}
	}
	s.fieldSet = &fieldCache{replay: replay, byName: byName, order: order}
	return s.fieldSet
}

func (c *fieldCache) resolve(name string) (string, bool) {
	f, ok := c.byName[strings.ToLower(name)]
	return f, ok
}

// dataRequest is a data API request after version and session checks.
type dataRequest struct {
	version string
	rel     string // path after /services/data/vNN.N/
	userID  string
}

func (s *Server) handleData(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, dataPrefix)
	if rest == "" {
		s.handleVersions(w)
		return
	}
	seg, rel, _ := strings.Cut(rest, "/")
	version, ok := strings.CutPrefix(seg, "v")
	if !ok || !s.validVersion(version) {
		writeAPIError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist", nil)
		return
	}
	userID, err := s.CheckToken(r)
	if err != nil {
		writeAPIError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid", nil)
		return
	}

	s.mu.Lock()
	exhausted := s.apiUsed >= s.opts.DailyAPILimit
	if !exhausted {
		s.apiUsed++
	}
	usage := fmt.Sprintf("api-usage=%d/%d", s.apiUsed, s.opts.DailyAPILimit)
	s.mu.Unlock()
	w.Header().Set("Sforce-Limit-Info", usage)
	if exhausted {
		// NOTE: the message text is the one commonly reported, because
		// Salesforce does not document it.
		writeAPIError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", nil)
		return
	}

	if !s.wait(r) {
		return
	}
	req := dataRequest{version: version, rel: rel, userID: userID}
	next := func(w http.ResponseWriter, r *http.Request) { s.routeData(w, r, req) }
	if f, ok := s.faults.take(r.Method, rel, pathAccountID(rel)); ok {
		if !s.applyFault(w, r, f, formatREST, next) {
			return
		}
	}
	next(w, r)
}

// pathAccountID returns the 18-character id of a sobjects/Account/{id}
// path, or "".
func pathAccountID(rel string) string {
	parts := strings.Split(rel, "/")
	if len(parts) != 3 || parts[0] != "sobjects" || !strings.EqualFold(parts[1], "Account") {
		return ""
	}
	id, err := sfid.To18(parts[2])
	if err != nil {
		return ""
	}
	return id
}

func (s *Server) handleVersions(w http.ResponseWriter) {
	versions := s.opts.APIVersions
	if len(versions) == 0 {
		versions = []string{"60.0"}
	}
	var out []map[string]string
	for _, v := range versions {
		v = strings.TrimPrefix(v, "v")
		out = append(out, map[string]string{"label": "sfsim", "url": "/services/data/v" + v, "version": v})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) routeData(w http.ResponseWriter, r *http.Request, req dataRequest) {
	parts := strings.Split(strings.TrimSuffix(req.rel, "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "query":
		if allowMethods(w, r, http.MethodGet) {
			s.handleQuery(w, r, req)
		}
	case len(parts) == 2 && parts[0] == "query":
		if allowMethods(w, r, http.MethodGet) {
			s.handleQueryMore(w, req, parts[1])
		}
	case len(parts) == 1 && parts[0] == "limits":
		if allowMethods(w, r, http.MethodGet) {
			used, limit := s.APIUsage()
			writeJSON(w, http.StatusOK, map[string]any{
				"DailyApiRequests": map[string]int{"Max": limit, "Remaining": max(limit-used, 0)},
			})
		}
	case len(parts) == 2 && parts[0] == "composite" && parts[1] == "sobjects":
		if allowMethods(w, r, http.MethodPatch) {
			s.handleCompositeUpdate(w, r, req)
		}
	case len(parts) >= 2 && parts[0] == "sobjects" && !strings.EqualFold(parts[1], "Account"):
		writeAPIError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist", nil)
	case len(parts) == 2 && parts[0] == "sobjects":
		if allowMethods(w, r, http.MethodPost) {
			s.handleCreate(w, r, req)
		}
	case len(parts) == 3 && parts[0] == "sobjects":
		if allowMethods(w, r, http.MethodGet, http.MethodPatch, http.MethodDelete) {
			s.handleRecord(w, r, req, parts[2])
		}
	default:
		writeAPIError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist", nil)
	}
}

func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ","))
	writeAPIError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
		fmt.Sprintf("HTTP Method '%s' not allowed. Allowed are %s", r.Method, strings.Join(methods, ",")), nil)
	return false
}

// writeOptions attributes a REST write to the token's user and to the
// client named in the Sforce-Call-Options header, as changeOrigin shows.
func writeOptions(r *http.Request, req dataRequest) WriteOptions {
	origin := "com/salesforce/api/rest/" + req.version
	if client := callOptionsClient(r.Header.Get("Sforce-Call-Options")); client != "" {
		origin += ";client=" + client
	}
	return WriteOptions{User: req.userID, Origin: origin}
}

// callOptionsClient returns the client= value of a Sforce-Call-Options
// header such as "client=sfsap, defaultNamespace=x".
func callOptionsClient(header string) string {
	for part := range strings.SplitSeq(header, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(strings.TrimSpace(key), "client") {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

// recordError is a REST error about one record, written alone for sObject
// requests and inside the result array for composite requests.
type recordError struct {
	status  int
	code    string
	message string
	fields  []string
}

func (e *recordError) write(w http.ResponseWriter) {
	fields := e.fields
	if fields == nil {
		fields = []string{}
	}
	writeAPIError(w, e.status, e.code, e.message, fields)
}

// checkAccountID returns the 18-character form of an Account id from a
// request, or MALFORMED_ID.
func checkAccountID(id string) (string, *recordError) {
	id18, err := sfid.To18(id)
	if err != nil || !strings.HasPrefix(id18, "001") {
		return "", &recordError{
			status:  http.StatusBadRequest,
			code:    "MALFORMED_ID",
			message: "Account ID: id value of incorrect type: " + id,
			fields:  []string{"Id"},
		}
	}
	return id18, nil
}

// notFound maps a store error to the REST error of a missing or deleted
// record.
func notFound(err error) *recordError {
	var nf *NotFoundError
	if errors.As(err, &nf) && nf.Deleted {
		return &recordError{status: http.StatusNotFound, code: "ENTITY_IS_DELETED", message: "entity is deleted", fields: []string{}}
	}
	return &recordError{status: http.StatusNotFound, code: "NOT_FOUND", message: "The requested resource does not exist"}
}

// checkWriteFields validates a write body and returns it with field names
// in their API spelling. The attributes key is dropped, as are id keys
// when dropID is set (composite records carry their id in the body).
func (s *Server) checkWriteFields(body map[string]any, create, dropID bool) (map[string]any, *recordError) {
	known := s.fields()
	out := make(map[string]any, len(body))
	var readOnly []string
	for k, v := range body {
		if k == "attributes" || dropID && strings.EqualFold(k, "Id") {
			continue
		}
		name, ok := known.resolve(k)
		if !ok {
			return nil, &recordError{status: http.StatusBadRequest, code: "INVALID_FIELD",
				message: fmt.Sprintf("No such column '%s' on sobject of type Account", k), fields: []string{}}
		}
		if slices.Contains(readOnlyFields, name) {
			readOnly = append(readOnly, name)
			continue
		}
		switch v.(type) {
		case nil, string, bool, json.Number, float64:
		default:
			return nil, &recordError{status: http.StatusBadRequest, code: "JSON_PARSER_ERROR",
				message: fmt.Sprintf("Cannot deserialize instance of %s from an object or array value", name), fields: []string{name}}
		}
		out[name] = v
	}
	if len(readOnly) > 0 {
		slices.Sort(readOnly)
		return nil, &recordError{status: http.StatusBadRequest, code: "INVALID_FIELD_FOR_INSERT_UPDATE",
			message: fmt.Sprintf("Unable to create/update fields: %s. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", strings.Join(readOnly, ", ")),
			fields:  readOnly}
	}
	name, has := out["Name"]
	if (create || has) && isNull(name) {
		return nil, &recordError{status: http.StatusBadRequest, code: "REQUIRED_FIELD_MISSING",
			message: "Required fields are missing: [Name]", fields: []string{"Name"}}
	}
	return out, nil
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, req dataRequest) {
	var body map[string]any
	if err := decodeJSON(r.Body, &body); err != nil {
		writeAPIError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "invalid JSON body: "+err.Error(), nil)
		return
	}
	fields, rerr := s.checkWriteFields(body, true, false)
	if rerr != nil {
		rerr.write(w)
		return
	}
	id, err := s.store.Create(fields, writeOptions(r, req))
	if err != nil {
		s.opts.Logger.Error("creating Account failed", "error", err)
		writeAPIError(w, http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "creating Account: "+err.Error(), nil)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "success": true, "errors": []any{}})
}

func (s *Server) handleRecord(w http.ResponseWriter, r *http.Request, req dataRequest, rawID string) {
	id, rerr := checkAccountID(rawID)
	if rerr != nil {
		rerr.write(w)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.handleGet(w, r, req, id)
	case http.MethodPatch:
		var body map[string]any
		if err := decodeJSON(r.Body, &body); err != nil {
			writeAPIError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "invalid JSON body: "+err.Error(), nil)
			return
		}
		fields, rerr := s.checkWriteFields(body, false, false)
		if rerr != nil {
			rerr.write(w)
			return
		}
		if err := s.store.Update(id, fields, writeOptions(r, req)); err != nil {
			notFound(err).write(w)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		if err := s.store.Delete(id, writeOptions(r, req)); err != nil {
			notFound(err).write(w)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request, req dataRequest, id string) {
	known := s.fields()
	selected := known.order
	if list := r.URL.Query().Get("fields"); list != "" {
		selected = nil
		for name := range strings.SplitSeq(list, ",") {
			f, ok := known.resolve(strings.TrimSpace(name))
			if !ok {
				writeAPIError(w, http.StatusBadRequest, "INVALID_FIELD",
					fmt.Sprintf("No such column '%s' on sobject of type Account", strings.TrimSpace(name)), nil)
				return
			}
			selected = append(selected, f)
		}
	}
	rec, ok := s.store.Get(id)
	if !ok {
		notFound(nil).write(w)
		return
	}
	if rec["IsDeleted"] == true {
		notFound(&NotFoundError{ID: id, Deleted: true}).write(w)
		return
	}
	writeJSON(w, http.StatusOK, renderRecord(rec, selected, req.version))
}

// compositeRequest is the body of PATCH composite/sobjects.
type compositeRequest struct {
	AllOrNone bool             `json:"allOrNone"`
	Records   []map[string]any `json:"records"`
}

// compositeResult is one element of the composite response, in request
// order. Errors inside collections use statusCode, not errorCode.
type compositeResult struct {
	ID      string           `json:"id,omitempty"`
	Success bool             `json:"success"`
	Errors  []compositeError `json:"errors"`
}

type compositeError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

const maxCompositeRecords = 200

func (s *Server) handleCompositeUpdate(w http.ResponseWriter, r *http.Request, req dataRequest) {
	var body compositeRequest
	if err := decodeJSON(r.Body, &body); err != nil {
		writeAPIError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "invalid JSON body: "+err.Error(), nil)
		return
	}
	// NOTE: the error codes for an empty or oversized record list are
	// plausible choices, not captured Salesforce responses.
	if len(body.Records) == 0 {
		writeAPIError(w, http.StatusBadRequest, "MISSING_ARGUMENT", "records: the list of records is empty", nil)
		return
	}
	if len(body.Records) > maxCompositeRecords {
		writeAPIError(w, http.StatusBadRequest, "EXCEEDED_ID_LIMIT",
			fmt.Sprintf("record limit exceeded: %d records sent, at most %d allowed", len(body.Records), maxCompositeRecords), nil)
		return
	}

	results := make([]compositeResult, len(body.Records))
	work := make([]compositeRecord, len(body.Records))
	failed := false
	for i, rec := range body.Records {
		p, rerr := s.checkCompositeRecord(rec)
		if rerr == nil {
			rerr = s.recordFault(r, req, &p)
		}
		if rerr != nil {
			failed = true
			results[i] = compositeResult{Errors: []compositeError{rerr.inCollection()}}
			continue
		}
		work[i] = p
	}

	opts := writeOptions(r, req)
	for i, p := range work {
		if p.id == "" {
			continue
		}
		if body.AllOrNone && failed {
			results[i] = compositeResult{Errors: []compositeError{{
				StatusCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK",
				Message:    "Record rolled back because not all records were valid and the request was using AllOrNone header",
				Fields:     []string{},
			}}}
			continue
		}
		// NOTE: with allOrNone the records are checked first and then
		// written one by one, so a record deleted between the two steps
		// fails alone instead of rolling back the others.
		if err := s.store.Update(p.id, p.fields, opts); err != nil {
			results[i] = compositeResult{Errors: []compositeError{notFound(err).inCollection()}}
			continue
		}
		if p.fault != nil {
			results[i] = compositeResult{Errors: []compositeError{faultError(*p.fault).inCollection()}}
			continue
		}
		results[i] = compositeResult{ID: p.id, Success: true, Errors: []compositeError{}}
	}
	writeJSON(w, http.StatusOK, results)
}

type compositeRecord struct {
	id     string
	fields map[string]any
	fault  *Fault
}

// checkCompositeRecord validates one record of a composite update
// without writing it.
func (s *Server) checkCompositeRecord(rec map[string]any) (compositeRecord, *recordError) {
	attrs, _ := rec["attributes"].(map[string]any)
	typ, _ := attrs["type"].(string)
	if typ == "" {
		return compositeRecord{}, &recordError{code: "INVALID_TYPE", message: "the record has no sObject type in attributes.type"}
	}
	if !strings.EqualFold(typ, "Account") {
		return compositeRecord{}, &recordError{code: "INVALID_TYPE", message: fmt.Sprintf("sObject type '%s' is not supported.", typ)}
	}

	var rawID string
	for k, v := range rec {
		if strings.EqualFold(k, "Id") {
			rawID, _ = v.(string)
		}
	}
	if rawID == "" {
		return compositeRecord{}, &recordError{code: "MISSING_ARGUMENT", message: "Id not specified in an update call", fields: []string{"Id"}}
	}
	id, rerr := checkAccountID(rawID)
	if rerr != nil {
		return compositeRecord{}, rerr
	}
	fields, rerr := s.checkWriteFields(rec, false, true)
	if rerr != nil {
		return compositeRecord{}, rerr
	}

	stored, ok := s.store.Get(id)
	switch {
	case !ok:
		return compositeRecord{}, notFound(nil)
	case stored["IsDeleted"] == true:
		return compositeRecord{}, notFound(&NotFoundError{ID: id, Deleted: true})
	}
	return compositeRecord{id: id, fields: fields}, nil
}

// recordFault applies a fault rule for one record of a composite request.
// It returns the injected error, or keeps the fault in p when the record
// is to be written first.
func (s *Server) recordFault(r *http.Request, req dataRequest, p *compositeRecord) *recordError {
	f, ok := s.faults.takeForRecord(r.Method, req.rel, p.id)
	if !ok {
		return nil
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	if f.ErrorCode == "" {
		return nil
	}
	if f.AfterWrite {
		p.fault = &f
		return nil
	}
	return faultError(f)
}

func faultError(f Fault) *recordError {
	return &recordError{status: f.Status, code: f.ErrorCode, message: f.Message, fields: f.Fields}
}

// inCollection returns the error as an element of a composite result.
// Inside collections a never-existing id is reported as an invalid
// reference. NOTE: INVALID_CROSS_REFERENCE_KEY is the commonly reported
// code for it, but no captured response confirms it.
func (e *recordError) inCollection() compositeError {
	code, message, fields := e.code, e.message, e.fields
	if code == "NOT_FOUND" {
		code, message = "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"
	}
	if fields == nil {
		fields = []string{}
	}
	if message == "" {
		message = code
	}
	return compositeError{StatusCode: code, Message: message, Fields: fields}
}

// renderRecord returns a record as the REST API writes it: attributes
// first, then the selected fields in order, datetimes in REST form and
// compound addresses as objects.
func renderRecord(rec map[string]any, fields []string, version string) orderedRecord {
	id, _ := rec["Id"].(string)
	out := orderedRecord{
		keys: []string{"attributes"},
		values: []any{map[string]string{
			"type": "Account",
			"url":  "/services/data/v" + version + "/sobjects/Account/" + id,
		}},
	}
	for _, f := range fields {
		out.keys = append(out.keys, f)
		out.values = append(out.values, renderValue(rec, f))
	}
	return out
}

func renderValue(rec map[string]any, field string) any {
	if prefix, ok := compoundFields[field]; ok {
		return renderAddress(rec, prefix)
	}
	switch v := rec[field].(type) {
	case time.Time:
		return v.UTC().Format(restTimeLayout)
	case nil:
		return nil
	default:
		return v
	}
}

func renderAddress(rec map[string]any, prefix string) any {
	parts := map[string]string{
		"city": "City", "country": "Country", "countryCode": "CountryCode",
		"geocodeAccuracy": "GeocodeAccuracy", "latitude": "Latitude", "longitude": "Longitude",
		"postalCode": "PostalCode", "state": "State", "stateCode": "StateCode", "street": "Street",
	}
	out := map[string]any{}
	empty := true
	for key, suffix := range parts {
		v := rec[prefix+suffix]
		out[key] = v
		if v != nil {
			empty = false
		}
	}
	if empty {
		return nil
	}
	return out
}

// orderedRecord marshals as a JSON object with keys in insertion order.
type orderedRecord struct {
	keys   []string
	values []any
}

func (o orderedRecord) MarshalJSON() ([]byte, error) {
	var b []byte
	b = append(b, '{')
	for i, k := range o.keys {
		if i > 0 {
			b = append(b, ',')
		}
		key, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		val, err := json.Marshal(o.values[i])
		if err != nil {
			return nil, fmt.Errorf("encoding field %s: %w", k, err)
		}
		b = append(b, key...)
		b = append(b, ':')
		b = append(b, val...)
	}
	return append(b, '}'), nil
}
