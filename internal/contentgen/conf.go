package contentgen

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// ConfStanza is one [stanza] of a Splunk .conf file.
type ConfStanza struct {
	Name string
	Line int
	// Keys in file order; Values by key.
	Keys   []string
	Values map[string]string
}

// ParseConf reads a Splunk .conf file: [stanza] headers, key = value
// settings, # comments, and lines continued by a trailing backslash.
// Settings before the first header belong to the default stanza, named
// "". It is strict where Splunk is lenient (a key set twice in a stanza,
// a stanza listed twice, a line that is neither), because in generated
// files those are defects.
func ParseConf(b []byte) ([]ConfStanza, error) {
	var out []ConfStanza
	seen := map[string]int{}
	cur := -1
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		start := n
		line := strings.TrimRight(sc.Text(), "\r")
		for strings.HasSuffix(line, "\\") && sc.Scan() {
			n++
			line = strings.TrimSuffix(line, "\\") + "\n" + strings.TrimRight(sc.Text(), "\r")
		}
		t := strings.TrimSpace(line)
		switch {
		case t == "" || strings.HasPrefix(t, "#"):
			continue
		case strings.HasPrefix(t, "["):
			if !strings.HasSuffix(t, "]") {
				return nil, fmt.Errorf("line %d: stanza header %q lacks its closing ]", start, t)
			}
			name := t[1 : len(t)-1]
			if prev, dup := seen[name]; dup {
				return nil, fmt.Errorf("line %d: stanza [%s] already started on line %d", start, name, prev)
			}
			seen[name] = start
			out = append(out, ConfStanza{Name: name, Line: start, Values: map[string]string{}})
			cur = len(out) - 1
		default:
			k, v, ok := strings.Cut(t, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" {
				return nil, fmt.Errorf("line %d: %q is neither a [stanza] nor key = value", start, t)
			}
			if cur < 0 {
				out = append(out, ConfStanza{Name: "", Line: start, Values: map[string]string{}})
				seen[""] = start
				cur = 0
			}
			s := &out[cur]
			if _, dup := s.Values[k]; dup {
				return nil, fmt.Errorf("line %d: %s is set twice in [%s]", start, k, s.Name)
			}
			s.Keys = append(s.Keys, k)
			s.Values[k] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
