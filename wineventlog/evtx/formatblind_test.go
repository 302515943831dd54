package evtx

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// TestFormatBlind parses each record's Original with the parent package's
// XML decoder and checks it yields the same Event: enrichment must not be
// able to tell an EVTX record from the same event exported as XML.
func TestFormatBlind(t *testing.T) {
	files := map[string][]byte{}
	for _, name := range []string{"security_short_selected", "msexchange_management_wec", "application_no_crc32", "security_1_record", "intune_certificateconnectors_admin"} {
		files[name] = testdata(t, name)
	}
	if !testing.Short() {
		if corpus, ok := optionalCorpus(); ok {
			for _, cf := range readManifest(t, corpus) {
				if b, err := os.ReadFile(filepath.Join(corpus, cf.path)); err == nil {
					files[cf.path] = b
				}
			}
		}
	}
	for name, b := range files {
		t.Run(name, func(t *testing.T) {
			bad := 0
			for i, rec := range decodeBytes(t, b, Options{}).recs {
				got, err := wineventlog.ParseEventXML([]byte(rec.Event.Original))
				if err != nil {
					t.Fatalf("record %d: the XML decoder rejects our XML: %v\n%s", i, err, rec.Event.Original)
				}
				want := rec.Event
				got.Original, want.Original = "", ""
				if !reflect.DeepEqual(got, want) {
					if bad++; bad <= 3 {
						t.Errorf("record %d differs:\n evtx %+v\n  xml %+v", i, want, got)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d records differ", bad)
			}
		})
	}
}

// optionalCorpus finds the shared corpus without skipping the caller.
func optionalCorpus() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			c := filepath.Join(dir, "..", "shared", "evtx-corpus")
			_, err := os.Stat(filepath.Join(c, "manifest.tsv"))
			return c, err == nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
