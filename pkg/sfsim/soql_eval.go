package sfsim

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sfsap/sfsap/pkg/sfid"
)

type andCondition []condition

func (c andCondition) match(rec map[string]any) bool {
	for _, operand := range c {
		if !operand.match(rec) {
			return false
		}
	}
	return true
}

type orCondition []condition

func (c orCondition) match(rec map[string]any) bool {
	for _, operand := range c {
		if operand.match(rec) {
			return true
		}
	}
	return false
}

type notCondition struct{ inner condition }

func (c notCondition) match(rec map[string]any) bool { return !c.inner.match(rec) }

type comparison struct {
	field string
	op    string
	value literal
}

func (c comparison) match(rec map[string]any) bool {
	v := rec[c.field]
	if c.value.kind == tokNull {
		if c.op == "=" {
			return isNull(v)
		}
		return !isNull(v)
	}
	if isNull(v) {
		// A null field matches only "!= value", as in SOQL.
		return c.op == "!=" || c.op == "<>"
	}
	order, ok := compareLiteral(c.field, v, c.value)
	if !ok {
		return c.op == "!=" || c.op == "<>"
	}
	switch c.op {
	case "=":
		return order == 0
	case "!=", "<>":
		return order != 0
	case "<":
		return order < 0
	case "<=":
		return order <= 0
	case ">":
		return order > 0
	case ">=":
		return order >= 0
	}
	return false
}

type inCondition struct {
	field  string
	values []literal
	negate bool
}

func (c inCondition) match(rec map[string]any) bool {
	v := rec[c.field]
	found := false
	for _, lit := range c.values {
		if lit.kind == tokNull {
			found = found || isNull(v)
			continue
		}
		if isNull(v) {
			continue
		}
		if order, ok := compareLiteral(c.field, v, lit); ok && order == 0 {
			found = true
		}
	}
	return found != c.negate
}

type likeCondition struct {
	field   string
	pattern *regexp.Regexp
}

func (c likeCondition) match(rec map[string]any) bool {
	v := rec[c.field]
	if isNull(v) {
		return false
	}
	return c.pattern.MatchString(fmt.Sprint(v))
}

// likePattern turns a SOQL LIKE pattern into a case-insensitive regular
// expression: % matches any run of characters and _ exactly one, unless
// escaped with a backslash.
func likePattern(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?is)^`)
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\' && i+1 < len(p):
			i++
			b.WriteString(regexp.QuoteMeta(string(p[i])))
		case c == '%':
			b.WriteString(`.*`)
		case c == '_':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

func isNull(v any) bool {
	if v == nil {
		return true
	}
	s, ok := v.(string)
	return ok && s == ""
}

// compareLiteral orders a stored field value against a literal. It
// reports false when the two cannot be compared, such as a text field
// against a number.
func compareLiteral(field string, v any, lit literal) (int, bool) {
	switch lit.kind {
	case tokString:
		s, ok := v.(string)
		if !ok {
			return 0, false
		}
		if isIDField(field) {
			return compareIDs(s, lit.str), true
		}
		// Text comparison in SOQL ignores case.
		return strings.Compare(strings.ToLower(s), strings.ToLower(lit.str)), true
	case tokNumber:
		n, ok := toFloat(v)
		if !ok {
			return 0, false
		}
		return cmp.Compare(n, lit.num), true
	case tokDateTime, tokDate:
		at, ok := toTime(v)
		if !ok {
			return 0, false
		}
		if lit.kind == tokDate {
			at = time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
		}
		return at.Compare(lit.at), true
	case tokBool:
		b, ok := v.(bool)
		if !ok {
			return 0, false
		}
		if b == lit.b {
			return 0, true
		}
		return 1, true
	}
	return 0, false
}

// isIDField reports whether a field holds record ids, which compare
// case-sensitively and in either the 15- or 18-character form.
func isIDField(field string) bool {
	return field == "Id" || strings.HasSuffix(field, "Id") && !strings.HasSuffix(field, "__c")
}

func compareIDs(a, b string) int {
	a18, errA := sfid.To18(a)
	b18, errB := sfid.To18(b)
	if errA == nil && errB == nil {
		return strings.Compare(a18, b18)
	}
	return strings.Compare(a, b)
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case interface{ Float64() (float64, error) }:
		f, err := n.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}

// restTimeLayouts are the datetime forms found in stored values: the REST
// form, RFC 3339 and a bare date.
var restTimeLayouts = []string{restTimeLayout, time.RFC3339Nano, "2006-01-02"}

func toTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, true
	case string:
		for _, layout := range restTimeLayouts {
			if at, err := time.Parse(layout, t); err == nil {
				return at, true
			}
		}
	}
	return time.Time{}, false
}

// compareValues orders two stored values of one field for ORDER BY.
// Nulls are handled by the caller.
func compareValues(field string, a, b any) int {
	if ta, ok := toTime(a); ok {
		if tb, ok := toTime(b); ok {
			return ta.Compare(tb)
		}
	}
	if fa, ok := toFloat(a); ok {
		if fb, ok := toFloat(b); ok {
			return cmp.Compare(fa, fb)
		}
	}
	if ba, ok := a.(bool); ok {
		if bb, ok := b.(bool); ok {
			switch {
			case ba == bb:
				return 0
			case !ba:
				return -1
			}
			return 1
		}
	}
	sa, sb := fmt.Sprint(a), fmt.Sprint(b)
	if isIDField(field) {
		return compareIDs(sa, sb)
	}
	return strings.Compare(strings.ToLower(sa), strings.ToLower(sb))
}

// run filters, sorts, offsets and limits records as the query requests.
// Records are not copied.
func (q *soqlQuery) run(records []map[string]any) []map[string]any {
	var out []map[string]any
	for _, rec := range records {
		if q.where == nil || q.where.match(rec) {
			out = append(out, rec)
		}
	}
	if len(q.order) > 0 {
		slices.SortStableFunc(out, q.compareRecords)
	}
	if q.offset > 0 {
		out = out[min(q.offset, len(out)):]
	}
	if q.limit >= 0 && len(out) > q.limit {
		out = out[:q.limit]
	}
	return out
}

func (q *soqlQuery) compareRecords(a, b map[string]any) int {
	for _, term := range q.order {
		va, vb := a[term.field], b[term.field]
		var order int
		switch na, nb := isNull(va), isNull(vb); {
		case na && nb:
			order = 0
		case na || nb:
			// Null placement does not flip with DESC.
			order = 1
			if na == term.nullsFirst {
				order = -1
			}
			return order
		default:
			order = compareValues(term.field, va, vb)
			if term.desc {
				order = -order
			}
		}
		if order != 0 {
			return order
		}
	}
	return 0
}
