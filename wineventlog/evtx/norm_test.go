package evtx

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// This file turns the XML that this package, libevtx's evtxexport and
// python-evtx's evtx_dump.py print into comparable facts, removing the
// differences of representation the corpus README lists: timestamp
// precision, hex padding and case, GUID and boolean case, binary as hex or
// base64, and NULL optional values dropped or printed empty.

// fact is one attribute or leaf text of a record, keyed by element path.
type fact struct {
	path  string // Event/System/Provider@Name, Event/EventData/Data
	value string
}

type normRecord struct {
	facts []fact
	key   string // EventRecordID and time: aligns records across parsers
	err   error  // the reference printed something that is not XML
}

// splitRecords cuts a parser's output into one XML text per record.
func splitRecords(out []byte) [][]byte {
	var recs [][]byte
	start := -1
	for off := 0; off < len(out); {
		end := bytes.IndexByte(out[off:], '\n')
		if end < 0 {
			end = len(out) - off
		}
		line := out[off : off+end]
		if bytes.HasPrefix(line, []byte("<Event ")) || bytes.HasPrefix(line, []byte("<Event>")) {
			start = off
		}
		if start >= 0 && bytes.HasSuffix(bytes.TrimRight(line, "\r"), []byte("</Event>")) {
			recs = append(recs, out[start:off+end])
			start = -1
		}
		off += end + 1
	}
	return recs
}

// reControlRef matches character references to C0 controls, which Go's XML
// parser refuses; libevtx writes those characters raw, we as references.
var reControlRef = regexp.MustCompile(`&#(x0*[0-1]?[0-9a-fA-F]|0*[0-9]|0*[12][0-9]|0*3[01]);`)

// controlPictures replaces C0 controls, raw or referenced, with their
// Unicode control pictures so that both spellings parse and compare equal.
func controlPictures(doc []byte) []byte {
	doc = reControlRef.ReplaceAllFunc(doc, func(m []byte) []byte {
		s := string(m[2 : len(m)-1])
		var n uint64
		if s[0] == 'x' {
			n, _ = strconv.ParseUint(s[1:], 16, 8)
		} else {
			n, _ = strconv.ParseUint(s, 10, 8)
		}
		if n == '\t' || n == '\n' || n == '\r' {
			return m
		}
		return []byte(string(rune(0x2400 + n)))
	})
	var out []byte
	for i, c := range doc {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			if out == nil {
				out = append([]byte(nil), doc[:i]...)
			}
			out = append(out, string(rune(0x2400+int(c)))...)
			continue
		}
		if out != nil {
			out = append(out, c)
		}
	}
	if out == nil {
		return doc
	}
	return out
}

func normalize(doc []byte) normRecord {
	var r normRecord
	doc = controlPictures(doc)
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = false
	type frame struct {
		path     string
		text     strings.Builder
		children bool
	}
	var stack []*frame
	var recordID, systemTime string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.err = err
			return r
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path := t.Name.Local
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				parent.children = true
				path = parent.path + "/" + path
			}
			stack = append(stack, &frame{path: path})
			for _, a := range t.Attr {
				name := a.Name.Local
				if a.Name.Space == "xmlns" {
					name = "xmlns:" + name
				}
				if a.Value == "" {
					continue
				}
				v := canon(a.Value)
				r.facts = append(r.facts, fact{path + "@" + name, v})
				if path == "Event/System/TimeCreated" && name == "SystemTime" {
					systemTime = v
				}
			}
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		case xml.EndElement:
			if len(stack) == 0 {
				r.err = fmt.Errorf("unbalanced </%s>", t.Name.Local)
				return r
			}
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			text := f.text.String()
			if f.children {
				if strings.TrimSpace(text) == "" {
					continue
				}
				text = strings.TrimSpace(text)
			}
			v := canon(text)
			r.facts = append(r.facts, fact{f.path, v})
			if f.path == "Event/System/EventRecordID" {
				recordID = v
			}
		}
	}
	if len(stack) != 0 {
		r.err = fmt.Errorf("unclosed <%s>", stack[len(stack)-1].path)
	}
	r.key = recordID + "|" + systemTime
	if t, ok := parseTimeLoose(systemTime); ok {
		// Keys must match across parsers that differ by microseconds.
		r.key = recordID + "|" + t.Truncate(time.Second).Format(time.RFC3339)
	}
	return r
}

var (
	reTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z?$`)
	reHex  = regexp.MustCompile(`^0[xX][0-9a-fA-F]+$`)
	reGUID = regexp.MustCompile(`^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$`)
)

// canon gives one spelling to values that parsers spell differently.
func canon(v string) string {
	switch {
	case reHex.MatchString(v):
		if n, err := strconv.ParseUint(v[2:], 16, 64); err == nil {
			return "0x" + strconv.FormatUint(n, 16)
		}
	case reGUID.MatchString(v):
		return "{" + strings.ToUpper(strings.Trim(v, "{}")) + "}"
	case v == "True" || v == "TRUE":
		return "true"
	case v == "False" || v == "FALSE":
		return "false"
	}
	return v
}

func parseTimeLoose(s string) (time.Time, bool) {
	if !reTime.MatchString(s) {
		return time.Time{}, false
	}
	s = strings.Replace(strings.TrimSuffix(s, "Z"), " ", "T", 1)
	t, err := time.Parse("2006-01-02T15:04:05.999999999", s)
	return t, err == nil
}

// sameValue compares one of our values with a reference's. tolerance is
// how far a reference's timestamps may be off (python-evtx rounds through
// float seconds).
func sameValue(ours, ref string, tolerance time.Duration) bool {
	if ours == ref {
		return true
	}
	if strings.TrimRight(ours, "\r\n") == ref {
		// libevtx drops line ends at the end of a value.
		return true
	}
	if a, ok := parseTimeLoose(ours); ok {
		if b, ok := parseTimeLoose(ref); ok {
			d := a.Sub(b)
			return d <= tolerance && d >= -tolerance
		}
	}
	if isHexBytes(ours) {
		// python-evtx prints binary as base64, libevtx as hex of either case.
		if strings.EqualFold(ours, ref) {
			return true
		}
		want, _ := hex.DecodeString(ours)
		if got, err := base64.StdEncoding.DecodeString(ref); err == nil && bytes.Equal(got, want) {
			return true
		}
	}
	if reHex.MatchString(ours) {
		// Windows renders SizeT (pointers) in hex; both references in
		// decimal.
		a, _ := strconv.ParseUint(ours[2:], 16, 64)
		if b, err := strconv.ParseUint(ref, 10, 64); err == nil && a == b {
			return true
		}
	}
	if a, err := strconv.ParseFloat(ours, 64); err == nil && strings.ContainsAny(ours+ref, ".eE") {
		if b, err := strconv.ParseFloat(ref, 64); err == nil {
			return a == b || math.Abs(a-b) <= 1e-6*math.Max(math.Abs(a), math.Abs(b))
		}
	}
	return false
}

func isHexBytes(s string) bool {
	if len(s) == 0 || len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// diffRecord returns the first difference between our record and a
// reference's, or "" when they agree.
func diffRecord(ours, ref normRecord, tolerance time.Duration) string {
	if !hasPrefixFact(ref.facts, "Event/RenderingInfo") {
		// Both references stop after the first template instance of a
		// BinXML value; some events carry a second one with
		// <RenderingInfo>, which we render.
		ours.facts = dropPrefixFacts(ours.facts, "Event/RenderingInfo")
	}
	n := min(len(ours.facts), len(ref.facts))
	for i := 0; i < n; i++ {
		o, r := ours.facts[i], ref.facts[i]
		if o.path != r.path {
			return fmt.Sprintf("fact %d: ours %s=%q, reference %s=%q", i, o.path, o.value, r.path, r.value)
		}
		if !sameValue(o.value, r.value, tolerance) {
			return fmt.Sprintf("%s: ours %q, reference %q", o.path, o.value, r.value)
		}
	}
	if len(ours.facts) != len(ref.facts) {
		var extra fact
		if len(ours.facts) > n {
			extra = ours.facts[n]
		} else {
			extra = ref.facts[n]
		}
		return fmt.Sprintf("ours has %d facts, reference %d; first unmatched %s=%q", len(ours.facts), len(ref.facts), extra.path, extra.value)
	}
	return ""
}

func hasPrefixFact(fs []fact, prefix string) bool {
	for _, f := range fs {
		if strings.HasPrefix(f.path, prefix) {
			return true
		}
	}
	return false
}

func dropPrefixFacts(fs []fact, prefix string) []fact {
	out := make([]fact, 0, len(fs))
	for _, f := range fs {
		if !strings.HasPrefix(f.path, prefix) {
			out = append(out, f)
		}
	}
	return out
}
