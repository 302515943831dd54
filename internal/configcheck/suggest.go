package configcheck

import (
	"slices"
	"strings"
)

// synonyms are words users bring from other tools for a key we spell
// differently; one is offered only where its key exists.
var synonyms = map[string][]string{
	"file":      {"path"},
	"filename":  {"path"},
	"filepath":  {"path"},
	"url":       {"endpoint"},
	"host":      {"endpoint"},
	"hosts":     {"endpoints"},
	"urls":      {"endpoints"},
	"nodes":     {"endpoints"},
	"addresses": {"endpoints"},
	"username":  {"user"},
	"login":     {"user", "username"},
	"pass":      {"password"},
	"passwd":    {"password"},
	"apitoken":  {"token", "api_key"},
}

// suggestSame returns the known key that is the user's key written
// differently: the same letters without separators or case (apikey,
// API_KEY), or a synonym from other tools (file → path); else "".
func suggestSame(key string, known []string) string {
	nk := normalize(key)
	for _, k := range known {
		if normalize(k) == nk {
			return k
		}
	}
	for _, s := range synonyms[nk] {
		for _, k := range known {
			if k == s {
				return k
			}
		}
	}
	return ""
}

// suggestNear returns the known key the user most likely meant, or "": a
// key that is one word of theirs (hec_token → token), theirs the last word
// of exactly one key (age → rollover_max_age), or a spelling one or two
// edits away (enable → enabled, endpont → endpoint).
func suggestNear(key string, known []string) string {
	nk := normalize(key)
	words := strings.FieldsFunc(strings.ToLower(key), isSeparator)
	if len(words) > 1 {
		for _, k := range known {
			if slices.Contains(words, k) {
				return k
			}
		}
	}
	if len(words) == 1 && len(nk) >= 3 {
		match := ""
		for _, k := range known {
			kw := strings.FieldsFunc(k, isSeparator)
			if len(kw) > 1 && kw[len(kw)-1] == nk {
				if match != "" {
					match = ""
					break
				}
				match = k
			}
		}
		if match != "" {
			return match
		}
	}
	limit := 1
	if len(nk) >= 6 {
		limit = 2
	}
	best, bestD := "", limit+1
	for _, k := range known {
		if d := editDistance(nk, normalize(k)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func isSeparator(r rune) bool { return r == '_' || r == '-' || r == '.' || r == ' ' }

func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		if isSeparator(r) {
			return -1
		}
		return r
	}, strings.ToLower(s))
}

// editDistance counts insertions, deletions, substitutions and swaps of
// two neighbours (optimal string alignment).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
