package sfsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sfsap/sfsap/pkg/sfid"
)

// queryCursor holds the rest of a query result for nextRecordsUrl pages.
// Records are rendered when the query runs, so later pages show the data
// as it was then.
type queryCursor struct {
	records []json.RawMessage
	expires time.Time
}

// cursorIdleTimeout is how long an unused cursor is kept. Salesforce
// drops query locators after about 15 minutes without use.
const cursorIdleTimeout = 15 * time.Minute

// queryResponse is the body of a query page.
type queryResponse struct {
	TotalSize      int               `json:"totalSize"`
	Done           bool              `json:"done"`
	NextRecordsURL string            `json:"nextRecordsUrl,omitempty"`
	Records        []json.RawMessage `json:"records"`
}

func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request, req dataRequest) {
	q := r.URL.Query().Get("q")
	if strings.TrimSpace(q) == "" {
		writeAPIError(w, http.StatusBadRequest, "MALFORMED_QUERY", "A query string has to be specified", nil)
		return
	}
	known := s.fields()
	parsed, err := parseSOQL(q, known.resolve)
	if err != nil {
		var qerr *queryError
		if !errors.As(err, &qerr) {
			qerr = &queryError{code: "MALFORMED_QUERY", message: err.Error()}
		}
		writeAPIError(w, http.StatusBadRequest, qerr.code, qerr.message, nil)
		return
	}

	matched := parsed.run(s.store.All())
	if parsed.count {
		writeJSON(w, http.StatusOK, queryResponse{TotalSize: len(matched), Done: true, Records: []json.RawMessage{}})
		return
	}
	records := make([]json.RawMessage, len(matched))
	for i, rec := range matched {
		b, err := json.Marshal(renderRecord(rec, parsed.fields, req.version))
		if err != nil {
			writeAPIError(w, http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "encoding record: "+err.Error(), nil)
			return
		}
		records[i] = b
	}

	if len(records) <= s.opts.QueryBatchSize {
		writeJSON(w, http.StatusOK, queryResponse{TotalSize: len(records), Done: true, Records: records})
		return
	}
	id := s.newCursor(records)
	writeJSON(w, http.StatusOK, queryResponse{
		TotalSize:      len(records),
		NextRecordsURL: nextRecordsURL(req.version, id, s.opts.QueryBatchSize),
		Records:        records[:s.opts.QueryBatchSize],
	})
}

func nextRecordsURL(version, cursor string, offset int) string {
	return fmt.Sprintf("%sv%s/query/%s-%d", dataPrefix, version, cursor, offset)
}

// newCursor stores a query result and returns its locator, which looks
// like a Salesforce query locator id (key prefix 01g).
func (s *Server) newCursor(records []json.RawMessage) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for id, c := range s.cursors {
		if now.After(c.expires) {
			delete(s.cursors, id)
		}
	}
	s.cursorN++
	id, _ := sfid.To18(fmt.Sprintf("01gHx%010d", s.cursorN))
	s.cursors[id] = &queryCursor{records: records, expires: now.Add(cursorIdleTimeout)}
	return id
}

func (s *Server) handleQueryMore(w http.ResponseWriter, req dataRequest, locator string) {
	id, rawOffset, ok := strings.Cut(locator, "-")
	offset, err := strconv.Atoi(rawOffset)
	s.mu.Lock()
	c := s.cursors[id]
	valid := ok && err == nil && c != nil && time.Now().Before(c.expires) && offset >= 0 && offset < len(c.records)
	if valid {
		c.expires = time.Now().Add(cursorIdleTimeout)
	}
	s.mu.Unlock()
	if !valid {
		writeAPIError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator", nil)
		return
	}

	end := min(offset+s.opts.QueryBatchSize, len(c.records))
	resp := queryResponse{TotalSize: len(c.records), Done: end == len(c.records), Records: c.records[offset:end]}
	if !resp.Done {
		resp.NextRecordsURL = nextRecordsURL(req.version, id, end)
	}
	writeJSON(w, http.StatusOK, resp)
}
