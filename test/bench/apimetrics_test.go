package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// apiRequests are the kube-apiserver's request counters
// (apiserver_request_total) summed by verb, resource, subresource, dry run
// and (when not 2xx) status code: every client's requests, the
// benchmark's own included.
type apiRequests map[string]float64

// apiRequestCounts reads the apiserver's /metrics; nil when it cannot.
func (e *env) apiRequestCounts() apiRequests {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := e.kube.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		note(e.b, "read apiserver metrics: %v", err)
		return nil
	}
	counts := apiRequests{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "apiserver_request_total{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		l := parseLabels(labels)
		key := l["verb"] + " " + l["resource"]
		if l["subresource"] != "" {
			key += "/" + l["subresource"]
		}
		if l["dry_run"] != "" {
			key += " (dry run)"
		}
		if c := l["code"]; c != "" && c[0] != '2' {
			key += " → " + c
		}
		counts[key] += v
	}
	return counts
}

// parseLabels reads `a="x",b="y"` (the values here hold no quotes or commas).
func parseLabels(s string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if ok {
			m[k] = strings.Trim(v, `"`)
		}
	}
	return m
}

// since lists the requests made after before, the most frequent first,
// leaving out watches and kinds below min.
func (a apiRequests) since(before apiRequests, min float64) string {
	if a == nil || before == nil {
		return "(apiserver metrics unavailable)"
	}
	type kv struct {
		k string
		n float64
	}
	var rows []kv
	var total float64
	for k, n := range a {
		d := n - before[k]
		if d <= 0 || strings.HasPrefix(k, "WATCH") {
			continue
		}
		total += d
		if d >= min {
			rows = append(rows, kv{k, d})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].n > rows[j].n })
	var b strings.Builder
	fmt.Fprintf(&b, "%.0f requests (all clients, watches left out)", total)
	for _, r := range rows {
		fmt.Fprintf(&b, "\n    %6.0f %s", r.n, r.k)
	}
	return b.String()
}
