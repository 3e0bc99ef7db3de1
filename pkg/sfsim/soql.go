package sfsim

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The simulator understands the SOQL subset that sfsap uses:
//
//	SELECT f1, f2 | COUNT() FROM Account
//	  [WHERE cond] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...]
//	  [LIMIT n] [OFFSET n]
//
// where cond combines comparisons (=, !=, <>, <, <=, >, >=), [NOT] IN
// lists, LIKE and NOT with AND, OR and parentheses. As in Salesforce, AND
// and OR cannot be mixed at one level without parentheses. Literals are
// strings in single quotes, numbers, true, false, null, dates
// (2025-04-02) and datetimes (2025-04-02T10:15:07.000Z or with a +hh:mm
// offset). Relationship paths, functions other than COUNT(), GROUP BY and
// date literals such as TODAY are rejected as malformed.

// queryError is a SOQL error as the REST API reports it.
type queryError struct {
	code    string
	message string
}

func (e *queryError) Error() string { return e.code + ": " + e.message }

// soqlQuery is a parsed query against Account.
type soqlQuery struct {
	fields []string
	count  bool
	where  condition
	order  []orderTerm
	limit  int // -1 when absent
	offset int
}

type orderTerm struct {
	field      string
	desc       bool
	nullsFirst bool
}

// condition is a WHERE expression evaluated against one record.
type condition interface {
	match(rec map[string]any) bool
}

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokString
	tokNumber
	tokDate
	tokDateTime
	tokOp
	tokLParen
	tokRParen
	tokComma
)

type token struct {
	kind tokenKind
	text string // identifier or operator text, or the decoded string literal
	pos  int    // 1-based column in the query
	num  float64
	at   time.Time
}

var (
	dateTimeLiteral = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})`)
	dateLiteral     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)
	numberLiteral   = regexp.MustCompile(`^-?\d+(\.\d+)?`)
)

func lexSOQL(q string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(q) {
		c := q[i]
		pos := i + 1
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{kind: tokLParen, text: "(", pos: pos})
			i++
		case c == ')':
			toks = append(toks, token{kind: tokRParen, text: ")", pos: pos})
			i++
		case c == ',':
			toks = append(toks, token{kind: tokComma, text: ",", pos: pos})
			i++
		case c == '=':
			toks = append(toks, token{kind: tokOp, text: "=", pos: pos})
			i++
		case c == '!' || c == '<' || c == '>':
			op := string(c)
			if i+1 < len(q) && (q[i+1] == '=' || c == '<' && q[i+1] == '>') {
				op += string(q[i+1])
			}
			if op == "!" {
				return nil, malformed(q, pos, "unexpected token: '!'")
			}
			toks = append(toks, token{kind: tokOp, text: op, pos: pos})
			i += len(op)
		case c == '\'':
			s, n, err := lexString(q[i:])
			if err != nil {
				return nil, malformed(q, pos, err.Error())
			}
			toks = append(toks, token{kind: tokString, text: s, pos: pos})
			i += n
		case c >= '0' && c <= '9' || c == '-':
			t, n, err := lexNumberOrDate(q[i:])
			if err != nil {
				return nil, malformed(q, pos, err.Error())
			}
			t.pos = pos
			toks = append(toks, t)
			i += n
		case isIdentStart(rune(c)):
			j := i
			for j < len(q) && isIdentPart(rune(q[j])) {
				j++
			}
			toks = append(toks, token{kind: tokIdent, text: q[i:j], pos: pos})
			i = j
		default:
			return nil, malformed(q, pos, fmt.Sprintf("unexpected token: '%c'", c))
		}
	}
	toks = append(toks, token{kind: tokEOF, text: "<EOF>", pos: len(q) + 1})
	return toks, nil
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

func isIdentPart(r rune) bool {
	return r == '_' || r == '.' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// lexString decodes a quoted SOQL string starting at s[0] and returns it
// with the number of bytes consumed.
func lexString(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\'':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 >= len(s) {
				return "", 0, fmt.Errorf("unterminated string literal")
			}
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case '\'', '"', '\\':
				b.WriteByte(s[i])
			case '_', '%':
				// Escaped LIKE wildcards keep their backslash so that
				// the LIKE matcher treats them as literal characters.
				b.WriteByte('\\')
				b.WriteByte(s[i])
			default:
				return "", 0, fmt.Errorf("invalid escape sequence '\\%c'", s[i])
			}
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, fmt.Errorf("unterminated string literal")
}

func lexNumberOrDate(s string) (token, int, error) {
	if m := dateTimeLiteral.FindString(s); m != "" {
		at, err := time.Parse("2006-01-02T15:04:05.999Z07:00", m)
		if err != nil {
			return token{}, 0, fmt.Errorf("invalid datetime literal %s", m)
		}
		return token{kind: tokDateTime, text: m, at: at}, len(m), nil
	}
	if m := dateLiteral.FindString(s); m != "" && !(len(s) > len(m) && s[len(m)] == 'T') {
		at, err := time.Parse("2006-01-02", m)
		if err != nil {
			return token{}, 0, fmt.Errorf("invalid date literal %s", m)
		}
		return token{kind: tokDate, text: m, at: at}, len(m), nil
	}
	m := numberLiteral.FindString(s)
	if m == "" {
		return token{}, 0, fmt.Errorf("unexpected token: '%c'", s[0])
	}
	n, err := strconv.ParseFloat(m, 64)
	if err != nil {
		return token{}, 0, fmt.Errorf("invalid number %s", m)
	}
	return token{kind: tokNumber, text: m, num: n}, len(m), nil
}

func malformed(q string, pos int, msg string) *queryError {
	return &queryError{
		code:    "MALFORMED_QUERY",
		message: fmt.Sprintf("%s\n%s^\nERROR at Row:1:Column:%d\n%s", q, strings.Repeat(" ", max(pos-1, 0)), pos, msg),
	}
}

// fieldResolver maps a field name in any case to its API name, and
// reports whether the field exists on Account.
type fieldResolver func(name string) (string, bool)

type soqlParser struct {
	q       string
	toks    []token
	i       int
	resolve fieldResolver
}

// parseSOQL parses q and resolves every field through resolve. It returns
// a *queryError with MALFORMED_QUERY, INVALID_FIELD or INVALID_TYPE.
func parseSOQL(q string, resolve fieldResolver) (*soqlQuery, error) {
	toks, err := lexSOQL(q)
	if err != nil {
		return nil, err
	}
	p := &soqlParser{q: q, toks: toks, resolve: resolve}
	return p.parse()
}

func (p *soqlParser) peek() token { return p.toks[p.i] }

func (p *soqlParser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *soqlParser) isKeyword(t token, kw string) bool {
	return t.kind == tokIdent && strings.EqualFold(t.text, kw)
}

func (p *soqlParser) acceptKeyword(kw string) bool {
	if p.isKeyword(p.peek(), kw) {
		p.i++
		return true
	}
	return false
}

func (p *soqlParser) unexpected(t token) error {
	return malformed(p.q, t.pos, fmt.Sprintf("unexpected token: '%s'", t.text))
}

func (p *soqlParser) expectKeyword(kw string) error {
	if !p.acceptKeyword(kw) {
		return p.unexpected(p.peek())
	}
	return nil
}

func (p *soqlParser) expect(kind tokenKind) (token, error) {
	t := p.next()
	if t.kind != kind {
		return t, p.unexpected(t)
	}
	return t, nil
}

func (p *soqlParser) field(t token) (string, error) {
	if t.kind != tokIdent || isReserved(t.text) {
		return "", p.unexpected(t)
	}
	name, ok := p.resolve(t.text)
	if !ok {
		return "", &queryError{
			code: "INVALID_FIELD",
			message: fmt.Sprintf("%s\n%s^\nERROR at Row:1:Column:%d\nNo such column '%s' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.",
				p.q, strings.Repeat(" ", t.pos-1), t.pos, t.text),
		}
	}
	return name, nil
}

var reservedWords = []string{"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "LIMIT", "OFFSET", "NULL", "TRUE", "FALSE", "ASC", "DESC", "NULLS", "GROUP", "HAVING"}

func isReserved(s string) bool {
	return slices.ContainsFunc(reservedWords, func(w string) bool { return strings.EqualFold(w, s) })
}

func (p *soqlParser) parse() (*soqlQuery, error) {
	q := &soqlQuery{limit: -1}
	if err := p.expectKeyword("SELECT"); err != nil {
		return nil, err
	}
	if err := p.parseSelectList(q); err != nil {
		return nil, err
	}

	if err := p.expectKeyword("FROM"); err != nil {
		return nil, err
	}
	entity, err := p.expect(tokIdent)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(entity.text, "Account") {
		return nil, &queryError{code: "INVALID_TYPE", message: fmt.Sprintf("sObject type '%s' is not supported.", entity.text)}
	}

	if p.acceptKeyword("WHERE") {
		if q.where, err = p.parseOr(); err != nil {
			return nil, err
		}
	}

	if p.acceptKeyword("ORDER") {
		if err := p.expectKeyword("BY"); err != nil {
			return nil, err
		}
		if q.order, err = p.parseOrderBy(); err != nil {
			return nil, err
		}
	}

	if p.acceptKeyword("LIMIT") {
		if q.limit, err = p.parseCount(); err != nil {
			return nil, err
		}
	}
	if p.acceptKeyword("OFFSET") {
		if q.offset, err = p.parseCount(); err != nil {
			return nil, err
		}
	}

	if t := p.peek(); t.kind != tokEOF {
		return nil, p.unexpected(t)
	}
	return q, nil
}

func (p *soqlParser) parseSelectList(q *soqlQuery) error {
	if p.isKeyword(p.peek(), "COUNT") && p.toks[p.i+1].kind == tokLParen {
		p.i += 2
		if _, err := p.expect(tokRParen); err != nil {
			return err
		}
		q.count = true
		return nil
	}
	for {
		t := p.next()
		name, err := p.field(t)
		if err != nil {
			return err
		}
		if slices.Contains(q.fields, name) {
			return malformed(p.q, t.pos, "duplicate field selected: "+name)
		}
		q.fields = append(q.fields, name)
		if p.peek().kind != tokComma {
			return nil
		}
		p.next()
	}
}

func (p *soqlParser) parseCount() (int, error) {
	t, err := p.expect(tokNumber)
	if err != nil {
		return 0, err
	}
	if t.num < 0 || t.num != math.Trunc(t.num) {
		return 0, p.unexpected(t)
	}
	return int(t.num), nil
}

func (p *soqlParser) parseOrderBy() ([]orderTerm, error) {
	var terms []orderTerm
	for {
		name, err := p.field(p.next())
		if err != nil {
			return nil, err
		}
		term := orderTerm{field: name}
		if p.acceptKeyword("DESC") {
			term.desc = true
		} else {
			p.acceptKeyword("ASC")
		}
		// Salesforce puts nulls first in ascending and last in
		// descending order unless the query sets NULLS FIRST or NULLS LAST.
		term.nullsFirst = !term.desc
		if p.acceptKeyword("NULLS") {
			switch {
			case p.acceptKeyword("FIRST"):
				term.nullsFirst = true
			case p.acceptKeyword("LAST"):
				term.nullsFirst = false
			default:
				return nil, p.unexpected(p.peek())
			}
		}
		terms = append(terms, term)
		if p.peek().kind != tokComma {
			return terms, nil
		}
		p.next()
	}
}

// parseOr parses a chain of operands joined by one kind of logical
// operator. Mixing AND and OR at one level is malformed, as in SOQL.
func (p *soqlParser) parseOr() (condition, error) {
	first, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	var joiner string
	operands := []condition{first}
	for {
		t := p.peek()
		var kw string
		switch {
		case p.isKeyword(t, "AND"):
			kw = "AND"
		case p.isKeyword(t, "OR"):
			kw = "OR"
		default:
			if joiner == "OR" {
				return orCondition(operands), nil
			}
			if len(operands) == 1 {
				return first, nil
			}
			return andCondition(operands), nil
		}
		if joiner != "" && joiner != kw {
			return nil, p.unexpected(t)
		}
		joiner = kw
		p.next()
		operand, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		operands = append(operands, operand)
	}
}

func (p *soqlParser) parseUnary() (condition, error) {
	if p.acceptKeyword("NOT") {
		inner, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return notCondition{inner}, nil
	}
	if p.peek().kind == tokLParen {
		p.next()
		inner, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen); err != nil {
			return nil, err
		}
		return inner, nil
	}
	return p.parseComparison()
}

func (p *soqlParser) parseComparison() (condition, error) {
	name, err := p.field(p.next())
	if err != nil {
		return nil, err
	}
	t := p.next()
	switch {
	case t.kind == tokOp:
		v, err := p.parseLiteral()
		if err != nil {
			return nil, err
		}
		if v.kind == tokNull && t.text != "=" && t.text != "!=" && t.text != "<>" {
			return nil, malformed(p.q, t.pos, "null can only be compared with = or !=")
		}
		return comparison{field: name, op: t.text, value: v}, nil
	case p.isKeyword(t, "IN"):
		return p.parseIn(name, false)
	case p.isKeyword(t, "NOT") && p.acceptKeyword("IN"):
		return p.parseIn(name, true)
	case p.isKeyword(t, "LIKE"):
		v, err := p.parseLiteral()
		if err != nil {
			return nil, err
		}
		if v.kind != tokString {
			return nil, malformed(p.q, t.pos, "LIKE needs a string pattern")
		}
		return likeCondition{field: name, pattern: likePattern(v.str)}, nil
	}
	return nil, p.unexpected(t)
}

func (p *soqlParser) parseIn(field string, negate bool) (condition, error) {
	if _, err := p.expect(tokLParen); err != nil {
		return nil, err
	}
	var values []literal
	for {
		v, err := p.parseLiteral()
		if err != nil {
			return nil, err
		}
		values = append(values, v)
		t := p.next()
		if t.kind == tokRParen {
			break
		}
		if t.kind != tokComma {
			return nil, p.unexpected(t)
		}
	}
	return inCondition{field: field, values: values, negate: negate}, nil
}

// tokNull and tokBool tag literals that the lexer reads as identifiers.
const (
	tokNull tokenKind = 100 + iota
	tokBool
)

type literal struct {
	kind tokenKind
	str  string
	num  float64
	at   time.Time
	b    bool
}

func (p *soqlParser) parseLiteral() (literal, error) {
	t := p.next()
	switch t.kind {
	case tokString:
		return literal{kind: tokString, str: t.text}, nil
	case tokNumber:
		return literal{kind: tokNumber, num: t.num}, nil
	case tokDate, tokDateTime:
		return literal{kind: t.kind, at: t.at}, nil
	case tokIdent:
		switch strings.ToLower(t.text) {
		case "null":
			return literal{kind: tokNull}, nil
		case "true", "false":
			return literal{kind: tokBool, b: strings.EqualFold(t.text, "true")}, nil
		}
	}
	return literal{}, p.unexpected(t)
}
