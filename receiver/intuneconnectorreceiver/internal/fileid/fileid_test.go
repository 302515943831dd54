package fileid

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func idOf(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return Of(f, fi, path)
}

// A rename keeps a file's identity; a new file at the same path gets
// another one (where the OS gives files an identity of their own).
func TestIdentity(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.xml")
	if err := os.WriteFile(a, []byte("<Event/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	first := idOf(t, a)
	if strings.HasPrefix(first, "path-") {
		t.Skipf("no file IDs on %s: the path stands in", runtime.GOOS)
	}
	// Keep the old file alive so its number cannot be handed out again.
	if err := os.Rename(a, a+".1"); err != nil {
		t.Fatal(err)
	}
	if got := idOf(t, a+".1"); got != first {
		t.Errorf("renamed file: identity %q, want %q", got, first)
	}
	if err := os.WriteFile(a, []byte("<Event/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := idOf(t, a); got == first {
		t.Errorf("a new file at the old path kept identity %q", got)
	}
}

func TestHeadAndFingerprint(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 3*FingerprintSize)
	tests := []struct {
		name    string
		content []byte
		wantLen int
	}{
		{name: "empty", content: nil, wantLen: 0},
		{name: "short", content: []byte("<Events>"), wantLen: 8},
		{name: "long", content: long, wantLen: FingerprintSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(path, tt.content, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			head, err := Head(f, int64(len(tt.content)))
			if err != nil {
				t.Fatal(err)
			}
			if len(head) != tt.wantLen || !bytes.Equal(head, tt.content[:tt.wantLen]) {
				t.Errorf("head of %d bytes, want the first %d", len(head), tt.wantLen)
			}
		})
	}
	if Fingerprint([]byte("a")) == Fingerprint([]byte("b")) {
		t.Error("different content, same fingerprint")
	}
	if Fingerprint(long[:FingerprintSize]) != Fingerprint(bytes.Clone(long[:FingerprintSize])) {
		t.Error("same content, different fingerprints")
	}
}
