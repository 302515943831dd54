package mapping

import (
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// Limits on what a catalog entry may carry into every record of its event:
// labels are ECS labels (keyword values), indexed up to 1024 characters.
const (
	maxLabels        = 32
	maxLabelKeyLen   = 64
	maxLabelValueLen = 1024
	maxRunbookURLLen = 2048
)

// origin is where a catalog file wrote an entry, for messages that send the
// user to the line to fix. Entries of the embedded catalog have none.
type origin struct {
	file string
	line int
	// keys holds the line of every key the entry wrote.
	keys map[string]int
}

// at returns "file:line: " for the key (the entry's own line when the key
// was not written or is ""), or "" for entries without an origin.
func (o *origin) at(key string) string {
	if o == nil {
		return ""
	}
	line := o.line
	if l, ok := o.keys[key]; ok && key != "" {
		line = l
	}
	return o.file + ":" + strconv.Itoa(line) + ": "
}

// checkAnnotations checks an entry's runbook link and labels: the link must
// be an absolute http(s) URL a browser can open from an alert, and label
// keys must stay single ECS label names (no dots, which would nest them).
func checkAnnotations(o *origin, what, runbook string, labels map[string]string, bad func(string, ...any)) {
	if runbook != "" {
		if msg := runbookProblem(runbook); msg != "" {
			bad("%s%s: runbook_url %q %s", o.at("runbook_url"), what, runbook, msg)
		}
	}
	if len(labels) > maxLabels {
		bad("%s%s: %d labels, at most %d are allowed", o.at("labels"), what, len(labels), maxLabels)
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if msg := labelKeyProblem(k); msg != "" {
			bad("%s%s: label %q %s", o.at("labels"), what, k, msg)
		}
		v := labels[k]
		switch {
		case strings.TrimSpace(v) == "":
			bad("%s%s: label %q has no value; give it one or leave the label out", o.at("labels"), what, k)
		case len(v) > maxLabelValueLen:
			bad("%s%s: label %q is %d characters long, at most %d are indexed", o.at("labels"), what, k, len(v), maxLabelValueLen)
		case strings.ContainsAny(v, "\r\n"):
			bad("%s%s: label %q spans several lines; write it on one line", o.at("labels"), what, k)
		}
	}
}

func runbookProblem(s string) string {
	if len(s) > maxRunbookURLLen {
		return "is longer than " + strconv.Itoa(maxRunbookURLLen) + " characters"
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || strings.ContainsAny(s, " \t\r\n") {
		return "is not an absolute http or https URL (write it like https://wiki.example.com/pki/runbook)"
	}
	return ""
}

func labelKeyProblem(k string) string {
	if k == "" || len(k) > maxLabelKeyLen {
		return "must be 1 to " + strconv.Itoa(maxLabelKeyLen) + " characters long"
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', i > 0 && (c >= '0' && c <= '9' || c == '-'):
		default:
			return "must start with a letter or _ and hold only letters, digits, _ and - (no dots: it becomes the field labels." + k + ")"
		}
	}
	return ""
}

func sortedLabels(m map[string]string) []wineventlog.Data {
	if len(m) == 0 {
		return nil
	}
	out := make([]wineventlog.Data, 0, len(m))
	for k, v := range m {
		out = append(out, wineventlog.Data{Name: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// SortedLabels returns the entry's labels sorted by key.
func (e *EventEntry) SortedLabels() []wineventlog.Data { return e.labels }

// SortedLabels returns the code's labels sorted by key.
func (c *CodeEntry) SortedLabels() []wineventlog.Data { return c.labels }

// Annotations is what the catalog attaches to a record of an event beyond
// its meaning: the runbook link and the labels. The code's link wins when
// the code reports an error and has one, as its remediation does; labels
// are the event's with the code's added (the code's value wins on the same
// key).
func Annotations(e *EventEntry, code *CodeEntry, codeIsError bool) (runbook string, labels []wineventlog.Data) {
	if e != nil {
		runbook, labels = e.RunbookURL, e.labels
	}
	if code == nil || !codeIsError {
		return runbook, labels
	}
	if code.RunbookURL != "" {
		runbook = code.RunbookURL
	}
	if len(code.labels) == 0 {
		return runbook, labels
	}
	if len(labels) == 0 {
		return runbook, code.labels
	}
	merged := make([]wineventlog.Data, 0, len(labels)+len(code.labels))
	i, j := 0, 0
	for i < len(labels) || j < len(code.labels) {
		switch {
		case j == len(code.labels) || i < len(labels) && labels[i].Name < code.labels[j].Name:
			merged = append(merged, labels[i])
			i++
		case i == len(labels) || code.labels[j].Name < labels[i].Name:
			merged = append(merged, code.labels[j])
			j++
		default: // same key: the code's
			merged = append(merged, code.labels[j])
			i++
			j++
		}
	}
	return runbook, merged
}
