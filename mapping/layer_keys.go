package mapping

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// yamlKeys lists the yaml keys of a struct's exported fields.
func yamlKeys(t reflect.Type) []string {
	var out []string
	for k := range yamlFieldIndex(t) {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func yamlFieldIndex(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = i
	}
	return out
}

// suggest returns ` (did you mean "x"?)` for the known key nearest to k, if
// one is near enough to be a typo.
func suggest(k string, known []string) string {
	low := strings.ToLower(k)
	for _, c := range known {
		if len(low) >= 4 && (strings.HasPrefix(c, low) || strings.HasPrefix(low, c)) {
			return " (did you mean " + strconv.Quote(c) + "?)"
		}
	}
	best, bestD := "", 0
	for _, c := range known {
		d := editDistance(low, c)
		if best == "" || d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(2, len(k)/3) {
		return ""
	}
	return " (did you mean " + strconv.Quote(best) + "?)"
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
