package mapping

import (
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// unsafeData is the address of s's bytes, to tell a shared string from a
// copy.
func unsafeData(s string) *byte { return unsafe.StringData(s) }

func TestAppendLower(t *testing.T) {
	for _, s := range []string{
		"", "host01", "NDES01.CONTOSO.COM", "Microsoft-Intune-CertificateConnectors/Admin",
		"ÄRGER-PC", "İSTANBUL", "ΣΊΣΥΦΟΣ", "mixed Ünïcode AND ascii", "bad \xff utf8",
	} {
		if got, want := string(appendLower([]byte("x"), s)), "x"+strings.ToLower(s); got != want {
			t.Errorf("appendLower(%q) = %q, want %q", s, got, want)
		}
	}
}

// The pre-escaped form of a catalog text must be exactly what escaping it
// gives, and only the registered string itself may hit: a copy, a prefix
// or a different text with the same bytes elsewhere are escaped as usual.
func TestPreEscapedCatalogTexts(t *testing.T) {
	cat := MustDefault()
	cat.derived()
	hits := 0
	for i := range cat.Events {
		for _, s := range []string{cat.Events[i].Description, cat.Events[i].Remediation} {
			if len(s) < minPreEscaped {
				continue
			}
			j, ok := lookupEscaped(s)
			if !ok {
				t.Fatalf("event %d: text %.40q... was not registered", cat.Events[i].ID, s)
			}
			hits++
			if want := string(appendJSONStringScan(nil, s)); string(j) != want {
				t.Errorf("event %d: pre-escaped %q, want %q", cat.Events[i].ID, j, want)
			}
			if _, ok := lookupEscaped(s[:len(s)-1]); ok {
				t.Errorf("event %d: a prefix of a registered text hit", cat.Events[i].ID)
			}
			if _, ok := lookupEscaped(strings.Clone(s)); ok {
				t.Errorf("event %d: a copy of a registered text hit", cat.Events[i].ID)
			}
		}
	}
	if hits == 0 {
		t.Fatal("no catalog text is long enough to be registered")
	}
}

// A text with characters that need escaping keeps them escaped when it
// comes from the registry.
func TestPreEscapedNeedsEscaping(t *testing.T) {
	s := strings.Repeat(`a "quoted" \ path`+"\n\t", 8)
	registerEscaped([]string{s})
	got := string(appendJSONString(nil, s))
	if want := string(appendJSONStringScan(nil, s)); got != want || !strings.Contains(got, `\"quoted\" \\ path\n\t`) {
		t.Errorf("appendJSONString = %q, want %q", got, want)
	}
}

// Records of the same catalog entry share one body string, which is what
// the catalog would have built for each of them.
func TestBodiesShared(t *testing.T) {
	cat := MustDefault()
	d := cat.derived()
	e := &cat.Events[0]
	if got, want := d.body(e, nil, ""), e.Name+": "+e.Description; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
	c := &cat.Codes[0]
	want := e.Name + ": " + e.Description + " Error: " + c.Message
	first := d.body(e, c, c.Message)
	if first != want {
		t.Errorf("body with code = %q, want %q", first, want)
	}
	if again := d.body(e, c, c.Message); unsafeData(again) != unsafeData(first) {
		t.Error("the second record with the same entry and code built its own body")
	}
	if got := d.body(e, c, "some text the event carried"); got != "" {
		t.Errorf("body with an event's own error text = %q, want \"\" (built by the caller)", got)
	}
}

func TestIDText(t *testing.T) {
	d := MustDefault().derived()
	for _, id := range []uint32{0, 7, 1001, 20100, 4294967295} {
		if got, want := d.idText(id), strconv.FormatUint(uint64(id), 10); got != want {
			t.Errorf("idText(%d) = %q, want %q", id, got, want)
		}
	}
	for _, e := range MustDefault().Events {
		if _, ok := d.ids[e.ID]; !ok {
			t.Errorf("catalog event %d has no cached ID text", e.ID)
		}
	}
}
