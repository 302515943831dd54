package xmlesc

import (
	"encoding/xml"
	"math/rand"
	"strings"
	"testing"
)

func TestAppend(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		quote byte
		want  string
	}{
		{"plain", "abc é 😀", 0, "abc é 😀"},
		{"markup", `a<b>&c'd"e`, 0, `a&lt;b&gt;&amp;c'd"e`},
		{"single-quoted attribute", `it's "x"`, '\'', `it&apos;s "x"`},
		{"double-quoted attribute", `it's "x"`, '"', `it's &quot;x&quot;`},
		{"line ends kept in text", "a\r\n\tb", 0, "a\r\n\tb"},
		{"line ends referenced in attributes", "a\r\n\tb", '"', "a&#xd;&#xa;&#x9;b"},
		{"controls referenced", "\x01\x1f", 0, "&#x1;&#x1f;"},
		{"NUL replaced", "a\x00b", 0, "a\uFFFDb"},
		{"noncharacters replaced", "a\uFFFEb\uFFFFc", 0, "a\uFFFDb\uFFFDc"},
		{"invalid UTF-8 replaced", "a\xffb\xc3", '"', "a\uFFFDb\uFFFD"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(Append([]byte("x"), tc.in, tc.quote)); got != "x"+tc.want {
				t.Errorf("Append(%q) = %q, want %q", tc.in, got[1:], tc.want)
			}
		})
	}
}

// What Append writes for text without C0 controls is well-formed XML 1.0:
// a conforming parser reads it back, with only the characters XML cannot
// carry replaced. Line ends survive in attribute values too.
func TestAppendIsWellFormed(t *testing.T) {
	in := "tab\there\r\nq'\"<&> é \uFFFE\uFFFF \xff 😀"
	want := strings.NewReplacer("\uFFFE", "\uFFFD", "\uFFFF", "\uFFFD", "\xff", "\uFFFD").Replace(in)
	for _, q := range []byte{'"', '\''} {
		doc := "<a v=" + string(q) + string(Append(nil, in, q)) + string(q) + ">" + string(Append(nil, in, 0)) + "</a>"
		var got struct {
			V    string `xml:"v,attr"`
			Text string `xml:",chardata"`
		}
		if err := xml.Unmarshal([]byte(doc), &got); err != nil {
			t.Fatalf("quote %c: %v\n%s", q, err, doc)
		}
		// A parser turns a literal CR LF in text into LF.
		if wantText := strings.ReplaceAll(want, "\r\n", "\n"); got.Text != wantText {
			t.Errorf("text read back as %q, want %q", got.Text, wantText)
		}
		if got.V != want {
			t.Errorf("attribute read back as %q, want %q", got.V, want)
		}
	}
}

// The plain tables let Append skip bytes without looking at them one by
// one: that must not change what it writes, wherever a byte falls.
func TestPlainTablesChangeNothing(t *testing.T) {
	pieces := []string{"a", "Z", " ", "~", "\x7f", "&", "<", ">", "'", "\"", "\t", "\n", "\r", "\x00", "\x01", "\x1f", "é", "😀", "\uFFFE", "\xff", "\xc3"}
	rng := rand.New(rand.NewSource(1))
	for n := 0; n < 5000; n++ {
		var sb strings.Builder
		for k := rng.Intn(12); k > 0; k-- {
			sb.WriteString(pieces[rng.Intn(len(pieces))])
		}
		s := sb.String()
		for _, q := range []byte{0, '"', '\''} {
			if got, want := string(Append(nil, s, q)), string(appendEscaped(nil, s, q, nil)); got != want {
				t.Fatalf("Append(%q, quote %q) = %q, byte by byte %q", s, q, got, want)
			}
		}
	}
}
