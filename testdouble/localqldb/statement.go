package localqldb

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// The PartiQL the local ledger understands, parsed into statements it then
// runs with QLDB's semantics:
//
//	SELECT * | path, … FROM source [WHERE condition]
//	INSERT INTO table ? | VALUE ? | << ?, … >>
//	UPDATE table [AS a] [BY id] SET a.field = operand, … [WHERE condition]
//	DELETE FROM table [AS a] [BY id] [WHERE condition]
//	CREATE TABLE table
//	CREATE INDEX ON table (field)
//	EXEC REDACT_REVISION operand, operand, operand
//
// where a source is a table, history(table) or information_schema.user_tables,
// each with an optional alias (and, for a table, a BY alias for the
// document id); a condition is comparisons (= <> != < <= > >=) joined by
// AND; an operand is a path, a parameter (?), or a literal: a 'string', a
// number, NULL, MISSING, TRUE, FALSE or an Ion value in backquotes. A path
// starts from the source's alias or BY alias, or else, unqualified, from
// the source itself: WHERE email = ? reads the field email of the one
// source (see resolve).
//
// Text that is not PartiQL is a syntax error; PartiQL outside this subset
// (OR, ORDER BY, joins, functions, …) is refused as unsupported. Neither
// is ever guessed at.

type statement interface{ isStatement() }

type (
	selectStmt struct {
		items []path // nil: SELECT *
		from  source
		where []comparison
	}
	insertStmt struct {
		table  string
		values []operand
	}
	updateStmt struct {
		from  source
		sets  []assignment
		where []comparison
	}
	deleteStmt struct {
		from  source
		where []comparison
	}
	createTableStmt struct{ table string }
	createIndexStmt struct{ table, field string }
	execStmt        struct {
		procedure string
		args      []operand
	}
)

func (selectStmt) isStatement()      {}
func (insertStmt) isStatement()      {}
func (updateStmt) isStatement()      {}
func (deleteStmt) isStatement()      {}
func (createTableStmt) isStatement() {}
func (createIndexStmt) isStatement() {}
func (execStmt) isStatement()        {}

// source is what a statement reads.
type source struct {
	kind  sourceKind
	table string
	alias string // the rows' name in paths
	by    string // the document id's name (tables only)
}

type sourceKind int

const (
	fromTable sourceKind = iota
	fromHistory
	fromCatalog
)

// path is a name followed by field names: l, l.email, h.metadata.id.
type path []string

func (p path) String() string { return strings.Join(p, ".") }

// operand is a path, a parameter or a literal.
type operand struct {
	path    path
	param   int // 1-based; 0: not a parameter
	literal *value
	missing bool // the literal MISSING
}

type comparison struct {
	left, right operand
	op          string
}

type assignment struct {
	target path
	value  operand
}

// syntaxError is text that is not PartiQL.
type syntaxError struct {
	pos int
	msg string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("Syntax error at character %d: %s", e.pos+1, e.msg)
}

// unsupportedError is PartiQL the local ledger does not run.
type unsupportedError struct{ what string }

func (e *unsupportedError) Error() string {
	return "The local ledger does not support " + e.what + ": it refuses what it cannot answer as QLDB would"
}

// token kinds
const (
	tEOF = iota
	tIdent
	tQuoted // "identifier"
	tKeyword
	tString
	tNumber
	tIon
	tParam
	tPunct
)

type token struct {
	kind int
	text string // keywords upper case
	pos  int
}

var keywords = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "AND": true, "AS": true, "BY": true, "INSERT": true, "INTO": true,
	"VALUE": true, "UPDATE": true, "SET": true, "DELETE": true, "CREATE": true, "TABLE": true, "INDEX": true,
	"ON": true, "EXEC": true, "NULL": true, "MISSING": true, "TRUE": true, "FALSE": true,
	// PartiQL the local ledger refuses, by name.
	"OR": true, "NOT": true, "ORDER": true, "GROUP": true, "LIMIT": true, "JOIN": true, "LIKE": true,
	"IN": true, "BETWEEN": true, "IS": true, "DROP": true, "UNDROP": true, "REMOVE": true, "DISTINCT": true,
	"HAVING": true, "UNION": true, "INNER": true, "LEFT": true, "CROSS": true, "OFFSET": true, "EXISTS": true,
}

// unsupportedKeywords name the PartiQL the local ledger refuses.
var unsupportedKeywords = map[string]string{
	"OR": "OR", "NOT": "NOT", "ORDER": "ORDER BY", "GROUP": "GROUP BY", "LIMIT": "LIMIT", "JOIN": "joins",
	"LIKE": "LIKE", "IN": "IN", "BETWEEN": "BETWEEN", "IS": "IS", "DROP": "DROP", "UNDROP": "UNDROP",
	"REMOVE": "REMOVE", "DISTINCT": "DISTINCT", "HAVING": "HAVING", "UNION": "UNION", "INNER": "joins",
	"LEFT": "joins", "CROSS": "joins", "OFFSET": "OFFSET", "EXISTS": "EXISTS",
}

func lex(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && strings.HasPrefix(s[i:], "--"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case isIdentStart(c):
			j := i
			for j < len(s) && isIdentPart(s[j]) {
				j++
			}
			word := s[i:j]
			if keywords[strings.ToUpper(word)] {
				out = append(out, token{tKeyword, strings.ToUpper(word), i})
			} else {
				out = append(out, token{tIdent, word, i})
			}
			i = j
		case c == '"':
			text, n, err := quoted(s[i:], '"')
			if err != nil {
				return nil, &syntaxError{i, "an unterminated quoted identifier"}
			}
			out = append(out, token{tQuoted, text, i})
			i += n
		case c == '\'':
			text, n, err := quoted(s[i:], '\'')
			if err != nil {
				return nil, &syntaxError{i, "an unterminated string"}
			}
			out = append(out, token{tString, text, i})
			i += n
		case c == '`':
			j := strings.IndexByte(s[i+1:], '`')
			if j < 0 {
				return nil, &syntaxError{i, "an unterminated Ion literal"}
			}
			out = append(out, token{tIon, s[i+1 : i+1+j], i})
			i += j + 2
		case c >= '0' && c <= '9' || c == '-' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i + 1
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
				(s[j] == '-' || s[j] == '+') && (s[j-1] == 'e' || s[j-1] == 'E')) {
				j++
			}
			out = append(out, token{tNumber, s[i:j], i})
			i = j
		case c == '?':
			out = append(out, token{tParam, "?", i})
			i++
		default:
			for _, p := range []string{"<<", ">>", "<>", "!=", "<=", ">=", "=", "<", ">", "*", ",", ".", "(", ")", "[", "]", "{", "}", ";"} {
				if strings.HasPrefix(s[i:], p) {
					out = append(out, token{tPunct, p, i})
					i += len(p)
					goto next
				}
			}
			return nil, &syntaxError{i, fmt.Sprintf("unexpected character %q", c)}
		next:
		}
	}
	return append(out, token{tEOF, "", len(s)}), nil
}

func isIdentStart(c byte) bool { return c == '_' || c < 128 && unicode.IsLetter(rune(c)) }
func isIdentPart(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' || c == '$' }

// quoted reads a quoted token whose quote is doubled to escape it.
func quoted(s string, q byte) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] == q {
			if i+1 < len(s) && s[i+1] == q {
				b.WriteByte(q)
				i++
				continue
			}
			return b.String(), i + 1, nil
		}
		b.WriteByte(s[i])
	}
	return "", 0, fmt.Errorf("unterminated")
}

// parser reads one statement.
type parser struct {
	toks   []token
	i      int
	params int
}

// parse parses one statement (an optional trailing semicolon aside).
func parse(s string) (statement, int, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, 0, err
	}
	p := &parser{toks: toks}
	st, err := p.statement()
	if err != nil {
		return nil, 0, err
	}
	p.accept(tPunct, ";")
	if t := p.peek(); t.kind != tEOF {
		return nil, 0, p.unexpected(t)
	}
	return st, p.params, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// accept takes the next token if it is kind and text.
func (p *parser) accept(kind int, text string) bool {
	if t := p.peek(); t.kind == kind && t.text == text {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(kind int, text string) error {
	if !p.accept(kind, text) {
		return p.unexpected(p.peek())
	}
	return nil
}

// unexpected reports a token where it cannot be: unsupported PartiQL by
// name, anything else a syntax error.
func (p *parser) unexpected(t token) error {
	if what, ok := unsupportedKeywords[t.text]; ok && t.kind == tKeyword {
		return &unsupportedError{what}
	}
	if t.kind == tEOF {
		return &syntaxError{t.pos, "unexpected end of statement"}
	}
	return &syntaxError{t.pos, fmt.Sprintf("unexpected %q", t.text)}
}

func (p *parser) keyword(k string) bool { return p.accept(tKeyword, k) }

// name reads an identifier, plain or quoted.
func (p *parser) name() (string, error) {
	t := p.peek()
	if t.kind == tIdent || t.kind == tQuoted {
		p.i++
		return t.text, nil
	}
	return "", p.unexpected(t)
}

func (p *parser) statement() (statement, error) {
	t := p.next()
	if t.kind != tKeyword {
		return nil, p.unexpectedAt(t)
	}
	switch t.text {
	case "SELECT":
		return p.selectStmt()
	case "INSERT":
		return p.insertStmt()
	case "UPDATE":
		return p.updateStmt()
	case "DELETE":
		if err := p.expect(tKeyword, "FROM"); err != nil {
			return nil, err
		}
		from, err := p.source(false)
		if err != nil {
			return nil, err
		}
		where, err := p.where()
		return deleteStmt{from, where}, err
	case "CREATE":
		switch {
		case p.keyword("TABLE"):
			name, err := p.name()
			return createTableStmt{name}, err
		case p.keyword("INDEX"):
			if err := p.expect(tKeyword, "ON"); err != nil {
				return nil, err
			}
			table, err := p.name()
			if err != nil {
				return nil, err
			}
			if err := p.expect(tPunct, "("); err != nil {
				return nil, err
			}
			field, err := p.name()
			if err != nil {
				return nil, err
			}
			if p.peek().text == "." || p.peek().text == "," {
				return nil, &unsupportedError{"indexes on nested or several fields"}
			}
			return createIndexStmt{table, field}, p.expect(tPunct, ")")
		}
		return nil, p.unexpected(p.peek())
	case "EXEC":
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		var args []operand
		for {
			o, err := p.operand()
			if err != nil {
				return nil, err
			}
			args = append(args, o)
			if !p.accept(tPunct, ",") {
				break
			}
		}
		return execStmt{strings.ToUpper(name), args}, nil
	}
	return nil, p.unexpectedAt(t)
}

// unexpectedAt is unexpected for a token already taken.
func (p *parser) unexpectedAt(t token) error {
	if what, ok := unsupportedKeywords[t.text]; ok && t.kind == tKeyword {
		return &unsupportedError{what}
	}
	if t.kind == tIdent && strings.EqualFold(t.text, "with") {
		return &unsupportedError{"WITH"}
	}
	return &syntaxError{t.pos, fmt.Sprintf("a statement cannot start with %q", t.text)}
}

func (p *parser) selectStmt() (statement, error) {
	var items []path
	if !p.accept(tPunct, "*") {
		for {
			item, err := p.path()
			if err != nil {
				return nil, err
			}
			if p.peek().text == "(" {
				return nil, &unsupportedError{"functions"}
			}
			items = append(items, item)
			if !p.accept(tPunct, ",") {
				break
			}
		}
	}
	if err := p.expect(tKeyword, "FROM"); err != nil {
		return nil, err
	}
	from, err := p.source(true)
	if err != nil {
		return nil, err
	}
	if p.peek().text == "," {
		// Beside a second source an unqualified name would be ambiguous;
		// the local ledger runs statements with one source only.
		return nil, &unsupportedError{"joins (a second source in FROM)"}
	}
	where, err := p.where()
	return selectStmt{items, from, where}, err
}

// source reads a table, history(table) or information_schema.user_tables,
// with its aliases.
func (p *parser) source(anyKind bool) (source, error) {
	var s source
	name, err := p.name()
	if err != nil {
		return s, err
	}
	switch {
	case anyKind && strings.EqualFold(name, "history") && p.accept(tPunct, "("):
		s.kind = fromHistory
		if s.table, err = p.name(); err != nil {
			return s, err
		}
		if p.accept(tPunct, ",") {
			return s, &unsupportedError{"history() with a time range"}
		}
		if err := p.expect(tPunct, ")"); err != nil {
			return s, err
		}
	case anyKind && strings.EqualFold(name, "information_schema") && p.accept(tPunct, "."):
		table, err := p.name()
		if err != nil {
			return s, err
		}
		if !strings.EqualFold(table, "user_tables") {
			return s, &unsupportedError{"information_schema." + table}
		}
		s.kind, s.table = fromCatalog, "information_schema.user_tables"
	case !anyKind && (strings.EqualFold(name, "history") && p.peek().text == "(" ||
		strings.EqualFold(name, "information_schema") && p.peek().text == "."):
		// The catalog and history are read only: "DML statements are only
		// supported in the default user view"
		// (https://docs.aws.amazon.com/qldb/latest/developerguide/ql-reference.update.html).
		return s, errors.New("DML statements are only supported in the default user view: " + name + " is read only")
	default:
		if p.peek().text == "(" {
			return s, &unsupportedError{"functions as sources"}
		}
		s.table = name
	}
	s.alias = s.table
	if p.keyword("AS") {
		if s.alias, err = p.name(); err != nil {
			return s, err
		}
	} else if t := p.peek(); t.kind == tIdent || t.kind == tQuoted {
		s.alias, _ = p.name()
	}
	if p.keyword("BY") {
		if s.kind != fromTable {
			return s, &syntaxError{p.peek().pos, "BY applies to tables only"}
		}
		if s.by, err = p.name(); err != nil {
			return s, err
		}
	}
	return s, nil
}

func (p *parser) where() ([]comparison, error) {
	if !p.keyword("WHERE") {
		return nil, nil
	}
	var out []comparison
	for {
		c, err := p.comparison()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		if !p.keyword("AND") {
			return out, nil
		}
	}
}

func (p *parser) comparison() (comparison, error) {
	left, err := p.operand()
	if err != nil {
		return comparison{}, err
	}
	t := p.peek()
	switch t.text {
	case "=", "<>", "!=", "<", "<=", ">", ">=":
		p.i++
	default:
		return comparison{}, p.unexpected(t)
	}
	right, err := p.operand()
	op := t.text
	if op == "!=" {
		op = "<>"
	}
	return comparison{left, right, op}, err
}

func (p *parser) path() (path, error) {
	first, err := p.name()
	if err != nil {
		return nil, err
	}
	out := path{first}
	for p.accept(tPunct, ".") {
		if p.peek().text == "*" {
			return nil, &unsupportedError{"path wildcards"}
		}
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	if p.peek().text == "[" {
		return nil, &unsupportedError{"indexed paths"}
	}
	return out, nil
}

func (p *parser) operand() (operand, error) {
	t := p.peek()
	switch t.kind {
	case tParam:
		p.i++
		p.params++
		return operand{param: p.params}, nil
	case tIdent, tQuoted:
		pth, err := p.path()
		if err == nil && p.peek().text == "(" {
			return operand{}, &unsupportedError{"functions"}
		}
		return operand{path: pth}, err
	case tString:
		p.i++
		return operand{literal: ionString(t.text)}, nil
	case tNumber, tIon:
		p.i++
		v, err := parseIon([]byte(t.text))
		if err != nil {
			return operand{}, &syntaxError{t.pos, fmt.Sprintf("%q is not an Ion value: %v", t.text, err)}
		}
		return operand{literal: v}, nil
	case tKeyword:
		p.i++
		switch t.text {
		case "NULL":
			v, _ := parseIon([]byte("null"))
			return operand{literal: v}, nil
		case "MISSING":
			return operand{missing: true}, nil
		case "TRUE", "FALSE":
			v, _ := parseIon([]byte(strings.ToLower(t.text)))
			return operand{literal: v}, nil
		}
		return operand{}, p.unexpectedAt(t)
	case tPunct:
		if t.text == "{" || t.text == "[" || t.text == "<<" {
			return operand{}, &unsupportedError{"PartiQL collection and struct literals (pass them as parameters or Ion literals)"}
		}
	}
	return operand{}, p.unexpected(t)
}

func (p *parser) insertStmt() (statement, error) {
	if err := p.expect(tKeyword, "INTO"); err != nil {
		return nil, err
	}
	table, err := p.name()
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(table, "information_schema") && p.peek().text == "." {
		// As for UPDATE and DELETE: the catalog is read only
		// (https://docs.aws.amazon.com/qldb/latest/developerguide/ql-reference.insert.html:
		// "DML statements are only supported in the default user view").
		return nil, errors.New("DML statements are only supported in the default user view: information_schema is read only")
	}
	if p.keyword("AS") || p.peek().kind == tIdent {
		return nil, &unsupportedError{"INSERT with an alias"}
	}
	var values []operand
	switch {
	case p.accept(tPunct, "<<"):
		for {
			o, err := p.operand()
			if err != nil {
				return nil, err
			}
			values = append(values, o)
			if !p.accept(tPunct, ",") {
				break
			}
		}
		if err := p.expect(tPunct, ">>"); err != nil {
			return nil, err
		}
	default:
		p.keyword("VALUE")
		o, err := p.operand()
		if err != nil {
			return nil, err
		}
		values = append(values, o)
	}
	for _, v := range values {
		if v.path != nil {
			return nil, &unsupportedError{"INSERT of a path"}
		}
	}
	return insertStmt{table, values}, nil
}

func (p *parser) updateStmt() (statement, error) {
	from, err := p.source(false)
	if err != nil {
		return nil, err
	}
	if p.keyword("REMOVE") || p.peek().text == "INSERT" {
		return nil, &unsupportedError{"UPDATE … REMOVE and UPDATE … INSERT"}
	}
	if err := p.expect(tKeyword, "SET"); err != nil {
		return nil, err
	}
	var sets []assignment
	for {
		target, err := p.path()
		if err != nil {
			return nil, err
		}
		if err := p.expect(tPunct, "="); err != nil {
			return nil, err
		}
		v, err := p.operand()
		if err != nil {
			return nil, err
		}
		sets = append(sets, assignment{target, v})
		if !p.accept(tPunct, ",") {
			break
		}
	}
	where, err := p.where()
	return updateStmt{from, sets, where}, err
}
