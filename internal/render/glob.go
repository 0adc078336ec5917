package render

import (
	"fmt"
	"path"
	"strings"
)

// globSet is an include or exclude pattern of a directory source: a glob,
// possibly with {a,b} alternatives, matched against a file's path relative
// to the application path and against its base name.
type globSet []string

// parseGlobs expands every {a,b} group of pattern into plain globs and
// checks that each is well formed.
func parseGlobs(field, pattern string) (globSet, error) {
	if pattern == "" {
		return nil, nil
	}
	alts, err := expandBraces(pattern)
	if err != nil {
		return nil, fmt.Errorf("directory.%s %q: %w", field, pattern, err)
	}
	for _, g := range alts {
		if _, err := path.Match(g, ""); err != nil {
			return nil, fmt.Errorf("directory.%s %q: %w", field, pattern, err)
		}
	}
	return alts, nil
}

// match reports whether rel (slash-separated) or its base name matches.
func (g globSet) match(rel string) bool {
	base := path.Base(rel)
	for _, p := range g {
		if ok, _ := path.Match(p, rel); ok {
			return true
		}
		if ok, _ := path.Match(p, base); ok {
			return true
		}
	}
	return false
}

// maxGlobAlternatives bounds brace expansion, which grows multiplicatively.
const maxGlobAlternatives = 1024

// expandBraces turns "a{b,c}d" into ["abd" "acd"], recursively, leaving
// patterns without braces as they are. Commas only separate alternatives
// inside braces.
func expandBraces(p string) ([]string, error) {
	open := strings.IndexByte(p, '{')
	if open < 0 {
		if strings.IndexByte(p, '}') >= 0 {
			return nil, fmt.Errorf("unbalanced braces")
		}
		return []string{p}, nil
	}
	depth, closeAt := 0, -1
	var cuts []int
	for i := open; i < len(p) && closeAt < 0; i++ {
		switch p[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				closeAt = i
			}
		case ',':
			if depth == 1 {
				cuts = append(cuts, i)
			}
		}
	}
	if closeAt < 0 {
		return nil, fmt.Errorf("unbalanced braces")
	}
	prefix, rest := p[:open], p[closeAt+1:]
	if strings.IndexByte(prefix, '}') >= 0 {
		return nil, fmt.Errorf("unbalanced braces")
	}
	var parts []string
	start := open + 1
	for _, c := range cuts {
		parts = append(parts, p[start:c])
		start = c + 1
	}
	parts = append(parts, p[start:closeAt])
	tails, err := expandBraces(rest)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, part := range parts {
		heads, err := expandBraces(part)
		if err != nil {
			return nil, err
		}
		for _, h := range heads {
			for _, t := range tails {
				out = append(out, prefix+h+t)
				if len(out) > maxGlobAlternatives {
					return nil, fmt.Errorf("more than %d alternatives", maxGlobAlternatives)
				}
			}
		}
	}
	return out, nil
}
