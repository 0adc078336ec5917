package project

import (
	"fmt"
	"regexp"
	"strings"
)

// glob is a compiled shell-style pattern.
//
// Syntax: '*' matches any run of characters, '?' one character, "[a-z]" and
// "[!a-z]" (or "[^a-z]") one character of a class, "{a,b}" any of the
// alternatives (which may hold patterns themselves), and '\' quotes the next
// character. A glob compiled with pathSeparators does not let '*', '?' or a
// negated class match '/': only "**" crosses it, and a pattern that is
// exactly "*" still matches everything (as in Argo CD's sourceRepos).
type glob struct {
	raw string
	all bool // the pattern matches every string
	re  *regexp.Regexp
}

func (g *glob) match(s string) bool {
	if g.all {
		return true
	}
	return g.re.MatchString(s)
}

// compileGlob compiles pattern; pathSeparators makes '/' special (see glob).
func compileGlob(pattern string, pathSeparators bool) (*glob, error) {
	if pattern == "*" || pattern == "**" {
		return &glob{raw: pattern, all: true}, nil
	}
	anyRun, anyOne := ".*", "."
	if pathSeparators {
		anyRun, anyOne = "[^/]*", "[^/]"
	}
	var b strings.Builder
	b.WriteString(`^(?s:`)
	depth := 0 // open '{' groups
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; c {
		case '\\':
			if i+1 == len(rs) {
				return nil, fmt.Errorf("pattern ends with an unquoted backslash")
			}
			i++
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		case '*':
			if i+1 < len(rs) && rs[i+1] == '*' {
				for i+1 < len(rs) && rs[i+1] == '*' {
					i++
				}
				b.WriteString(".*")
			} else {
				b.WriteString(anyRun)
			}
		case '?':
			b.WriteString(anyOne)
		case '[':
			class, n, err := globClass(rs[i:], pathSeparators)
			if err != nil {
				return nil, err
			}
			b.WriteString(class)
			i += n - 1
		case '{':
			depth++
			b.WriteString("(?:")
		case ',':
			if depth > 0 {
				b.WriteString("|")
			} else {
				b.WriteString(",")
			}
		case '}':
			if depth > 0 {
				depth--
				b.WriteString(")")
			} else {
				b.WriteString(`\}`)
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	if depth > 0 {
		return nil, fmt.Errorf("unclosed '{'")
	}
	b.WriteString(`)$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		// The translation only writes valid expressions; keep the error anyway.
		return nil, err
	}
	return &glob{raw: pattern, re: re}, nil
}

// globClass translates the character class at the start of rs ("[...]") and
// returns the regexp class and the number of runes it used. A ']' right
// after the opening (or after the negation) is a member.
func globClass(rs []rune, pathSeparators bool) (string, int, error) {
	var b strings.Builder
	b.WriteString("[")
	i := 1
	if i < len(rs) && (rs[i] == '!' || rs[i] == '^') {
		b.WriteString("^")
		if pathSeparators {
			b.WriteString("/")
		}
		i++
	}
	first := true
	for i < len(rs) {
		if rs[i] == ']' && !first {
			b.WriteString("]")
			return b.String(), i + 1, nil
		}
		first = false
		lo, n, ok := classMember(rs[i:])
		if !ok {
			break
		}
		i += n
		if i+1 < len(rs) && rs[i] == '-' && rs[i+1] != ']' {
			hi, m, ok := classMember(rs[i+1:])
			if !ok {
				break
			}
			if hi < lo {
				return "", 0, fmt.Errorf("bad range %q-%q in '[...]'", lo, hi)
			}
			i += 1 + m
			b.WriteString(classQuote(lo) + "-" + classQuote(hi))
			continue
		}
		b.WriteString(classQuote(lo))
	}
	return "", 0, fmt.Errorf("unclosed '['")
}

// classMember reads one (possibly backslash-quoted) member of a class.
func classMember(rs []rune) (rune, int, bool) {
	if rs[0] != '\\' {
		return rs[0], 1, true
	}
	if len(rs) < 2 {
		return 0, 0, false
	}
	return rs[1], 2, true
}

func classQuote(r rune) string {
	if strings.ContainsRune(`\]^-[`, r) {
		return `\` + string(r)
	}
	return string(r)
}

// pattern is a glob that may be negated with a leading '!'.
type pattern struct {
	raw  string // as written, '!' included
	deny bool
	g    *glob
}

// compilePattern compiles a pattern that may start with '!'. normalize, when
// set, is applied to the glob after the '!'.
func compilePattern(raw string, pathSeparators bool, normalize func(string) string) (*pattern, error) {
	p := &pattern{raw: raw}
	body := raw
	if strings.HasPrefix(raw, "!") {
		p.deny = true
		body = raw[1:]
		if body == "*" || body == "**" {
			return nil, fmt.Errorf("%q would refuse everything; remove the entry instead", raw)
		}
	}
	if normalize != nil {
		body = normalize(body)
	}
	g, err := compileGlob(body, pathSeparators)
	if err != nil {
		return nil, err
	}
	p.g = g
	return p, nil
}
