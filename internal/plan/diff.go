package plan

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// diffContext is the number of unchanged lines shown around each change.
const diffContext = 3

// maxEdits bounds the edit distance the line diff searches; past it the
// sides are mostly unrelated and a whole-replace hunk reads as well.
const maxEdits = 2000

// maxDiffLines bounds the line diff: when both sides (after their common
// prefix and suffix) are longer, the hunk replaces one side with the other
// rather than spend quadratic time on a diff nobody will read line by line.
const maxDiffLines = 5000

// noiseMetadata are metadata fields the API server owns; they differ on
// every object and say nothing about drift.
var noiseMetadata = []string{"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink"}

// Diff renders a unified diff (3 lines of context, ---/+++ headers naming
// "live/<Kind>/<ns>/<name>" and "desired/<Kind>/<ns>/<name>", the namespace
// left out for cluster-scoped objects) between live and desired as YAML,
// after dropping noise: metadata.managedFields, resourceVersion, uid,
// generation, creationTimestamp, selfLink, the annotation
// kubectl.kubernetes.io/last-applied-configuration, and the whole status. A
// nil side is treated as empty (creation or deletion). Returns "" when they
// are equal. Secrets are masked with MaskSecrets before rendering, so Diff
// never prints a Secret value.
func Diff(live, desired *unstructured.Unstructured) string {
	if live == nil && desired == nil {
		return ""
	}
	live, desired = MaskSecrets(live, desired)
	a := splitLines(renderYAML(dropNoise(live)))
	b := splitLines(renderYAML(dropNoise(desired)))

	ref := desired
	if ref == nil {
		ref = live
	}
	name := ref.GetKind() + "/"
	if ns := ref.GetNamespace(); ns != "" {
		name += ns + "/"
	}
	name += ref.GetName()
	return unifiedDiff("live/"+name, "desired/"+name, a, b)
}

// dropNoise removes, in place, the fields Diff never shows; obj must be a
// copy.
func dropNoise(obj *unstructured.Unstructured) *unstructured.Unstructured {
	if obj == nil {
		return nil
	}
	delete(obj.Object, "status")
	if md, ok := obj.Object["metadata"].(map[string]any); ok {
		for _, f := range noiseMetadata {
			delete(md, f)
		}
	}
	removeAnnotation(obj, lastAppliedAnnotation)
	return obj
}

func renderYAML(obj *unstructured.Unstructured) string {
	if obj == nil {
		return ""
	}
	out, err := yaml.Marshal(obj.Object)
	if err != nil {
		// Unstructured content always marshals; say so rather than hide
		// the whole object from the diff.
		return fmt.Sprintf("# cannot render object: %v\n", err)
	}
	return string(out)
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// edit is one line of an edit script: ' ' kept, '-' removed, '+' added.
type edit struct {
	op   byte
	line string
}

// unifiedDiff renders a and b as a unified diff, or "" when equal.
func unifiedDiff(nameA, nameB string, a, b []string) string {
	script := lineDiff(a, b)
	changed := false
	for _, e := range script {
		if e.op != ' ' {
			changed = true
			break
		}
	}
	if !changed {
		return ""
	}

	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", nameA, nameB)
	// lineA/lineB are the 1-based line numbers of script[i] on each side.
	lineA := make([]int, len(script)+1)
	lineB := make([]int, len(script)+1)
	la, lb := 1, 1
	for i, e := range script {
		lineA[i], lineB[i] = la, lb
		if e.op != '+' {
			la++
		}
		if e.op != '-' {
			lb++
		}
	}
	lineA[len(script)], lineB[len(script)] = la, lb

	for i := 0; i < len(script); {
		if script[i].op == ' ' {
			i++
			continue
		}
		start := max(i-diffContext, 0)
		// Extend the hunk while the next change is close enough that
		// their context would touch.
		end := i
		for end < len(script) {
			if script[end].op != ' ' {
				end++
				continue
			}
			run := end
			for run < len(script) && script[run].op == ' ' {
				run++
			}
			if run == len(script) || run-end > 2*diffContext {
				end = min(end+diffContext, len(script))
				break
			}
			end = run
		}
		writeHunk(&sb, script[start:end], lineA[start], lineB[start])
		i = end
	}
	return sb.String()
}

func writeHunk(sb *strings.Builder, hunk []edit, startA, startB int) {
	var countA, countB int
	for _, e := range hunk {
		if e.op != '+' {
			countA++
		}
		if e.op != '-' {
			countB++
		}
	}
	// An empty side is numbered by the line before it, as diff(1) does.
	if countA == 0 {
		startA--
	}
	if countB == 0 {
		startB--
	}
	fmt.Fprintf(sb, "@@ -%d,%d +%d,%d @@\n", startA, countA, startB, countB)
	for _, e := range hunk {
		sb.WriteByte(e.op)
		sb.WriteString(e.line)
		sb.WriteByte('\n')
	}
}

// lineDiff returns a shortest edit script turning a into b.
func lineDiff(a, b []string) []edit {
	prefix := 0
	for prefix < len(a) && prefix < len(b) && a[prefix] == b[prefix] {
		prefix++
	}
	suffix := 0
	for suffix < len(a)-prefix && suffix < len(b)-prefix && a[len(a)-1-suffix] == b[len(b)-1-suffix] {
		suffix++
	}

	script := make([]edit, 0, len(a)+len(b))
	for _, l := range a[:prefix] {
		script = append(script, edit{' ', l})
	}
	midA, midB := a[prefix:len(a)-suffix], b[prefix:len(b)-suffix]
	if len(midA) > maxDiffLines && len(midB) > maxDiffLines {
		script = append(script, replaceAll(midA, midB)...)
	} else {
		script = append(script, myers(midA, midB)...)
	}
	for _, l := range a[len(a)-suffix:] {
		script = append(script, edit{' ', l})
	}
	return script
}

func replaceAll(a, b []string) []edit {
	script := make([]edit, 0, len(a)+len(b))
	for _, l := range a {
		script = append(script, edit{'-', l})
	}
	for _, l := range b {
		script = append(script, edit{'+', l})
	}
	return script
}

// myers is the O((N+M)D) greedy algorithm of Myers (1986), "An O(ND)
// Difference Algorithm and Its Variations", keeping one frontier per edit
// distance to walk the path back. Beyond maxEdits it gives up and replaces
// a with b whole.
func myers(a, b []string) []edit {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return replaceAll(a, b)
	}
	maxD := min(n+m, maxEdits)
	offset := maxD + 1
	v := make([]int, 2*maxD+3)
	var trace [][]int
	for d := 0; d <= maxD; d++ {
		// Step d reads only diagonals -d..d of the previous frontier.
		trace = append(trace, append([]int(nil), v[offset-d:offset+d+1]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
				x = v[offset+k+1] // down: insert from b
			} else {
				x = v[offset+k-1] + 1 // right: delete from a
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[offset+k] = x
			if x >= n && y >= m {
				return backtrack(a, b, trace, d)
			}
		}
	}
	return replaceAll(a, b)
}

// backtrack walks the saved frontiers from (len(a), len(b)) back to the
// origin and returns the edit script in order.
func backtrack(a, b []string, trace [][]int, d int) []edit {
	x, y := len(a), len(b)
	var rev []edit
	for ; d > 0; d-- {
		// trace[d] holds diagonals -d..d, so diagonal k is at index k+d.
		v, offset := trace[d], d
		k := x - y
		var prevK int
		if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := v[offset+prevK]
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x--
			y--
			rev = append(rev, edit{' ', a[x]})
		}
		if x == prevX {
			y--
			rev = append(rev, edit{'+', b[y]})
		} else {
			x--
			rev = append(rev, edit{'-', a[x]})
		}
	}
	for x > 0 {
		x--
		rev = append(rev, edit{' ', a[x]})
	}
	script := make([]edit, len(rev))
	for i, e := range rev {
		script[len(rev)-1-i] = e
	}
	return script
}
