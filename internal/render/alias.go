package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	yamlv3 "go.yaml.in/yaml/v3"
)

// minAliasBudget is how many nodes alias expansion may add to any YAML
// document; a larger document may add as many nodes as it has.
const minAliasBudget = 100_000

// checkAliases refuses YAML whose aliases would expand to far more than it
// holds ("billion laughs"). The YAML decoders bound expansion only when
// decoding into Go values; kustomize walks yaml.Node trees where each alias
// revisits its anchor, so nine levels of nine aliases hang it. Parsing into
// nodes expands nothing, and sizes are memoised per node, so this check is
// linear in the input. Input that is not YAML is left to its parser.
// Errors name the 1-based document of the stream.
func checkAliases(data []byte) error {
	return checkAliasesOf(data, true)
}

// checkAliasesOf is checkAliases; numbered says whether errors name the
// document (a caller that splits the stream itself names it).
func checkAliasesOf(data []byte, numbered bool) error {
	if !bytes.Contains(data, []byte("&")) || !bytes.Contains(data, []byte("*")) {
		return nil
	}
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for doc := 1; ; doc++ {
		var n yamlv3.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil
		}
		memo := map[*yamlv3.Node]int{}
		expanded := expandedSize(&n, memo)
		if extra := expanded - len(memo); extra > max(minAliasBudget, len(memo)) {
			err := fmt.Errorf("YAML aliases expand it by more than %d nodes", max(minAliasBudget, len(memo)))
			if numbered {
				err = fmt.Errorf("document %d: %w", doc, err)
			}
			return err
		}
	}
}

// aliasCap keeps sizes from overflowing; anything this big is refused.
const aliasCap = 1 << 40

// expandedSize counts the nodes of n with every alias replaced by a copy of
// its anchor.
func expandedSize(n *yamlv3.Node, memo map[*yamlv3.Node]int) int {
	if s, ok := memo[n]; ok {
		return s
	}
	memo[n] = 1 // the decoder refuses self-containing anchors; this ends any cycle
	s := 1
	if n.Kind == yamlv3.AliasNode && n.Alias != nil {
		s += expandedSize(n.Alias, memo)
	}
	for _, c := range n.Content {
		s = min(s+expandedSize(c, memo), aliasCap)
	}
	memo[n] = min(s, aliasCap)
	return memo[n]
}
