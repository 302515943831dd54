package wineventlog

import (
	"errors"
	"testing"
	"time"
)

// cycleReader repeats data forever, so a benchmark can decode b.N events
// from one decoder without the setup showing in the figures.
type cycleReader struct {
	data []byte
	off  int
}

func (r *cycleReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.data[r.off:])
		n += c
		r.off = (r.off + c) % len(r.data)
	}
	return n, nil
}

// benchDecode reports per event: one op is one Next call.
func benchDecode(b *testing.B, data []byte, opts Options) {
	d, err := NewDecoder(&cycleReader{data: data}, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)) / int64(countEvents(b, data)))
	b.ReportAllocs()
	lockThread()
	defer unlockThread()
	b.ResetTimer()
	cpu := threadCPU()
	decoded := 0
	for i := 0; i < b.N; i++ {
		r, err := d.Next()
		if err != nil {
			var de *DecodeError
			if errors.As(err, &de) {
				b.Fatalf("decode error in benchmark input: %v", err)
			}
			b.Fatal(err)
		}
		if r.Event.EventID != 0 {
			decoded++
		}
	}
	reportCPU(b, threadCPU()-cpu)
	b.StopTimer()
	if decoded != b.N {
		b.Fatalf("decoded %d of %d events", decoded, b.N)
	}
}

// reportCPU adds the thread's CPU time per operation (GC running on other
// threads is not included).
func reportCPU(b *testing.B, d time.Duration) {
	if d > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func countEvents(b *testing.B, data []byte) int {
	recs, errs := decodeAll(b, data, Options{})
	if len(errs) > 0 || len(recs) == 0 {
		b.Fatalf("benchmark input: %d events, %v", len(recs), errs)
	}
	return len(recs)
}

// BenchmarkDecodeXMLLines decodes wevtutil /f:xml lines (~1.4 KB each, the
// current connector's real event).
func BenchmarkDecodeXMLLines(b *testing.B) {
	data := readFixture(b, "wevtutil-admin.xml")
	b.Run("UTF-8", func(b *testing.B) { benchDecode(b, data, Options{}) })
	b.Run("UTF-8 NoOriginal", func(b *testing.B) { benchDecode(b, data, Options{NoOriginal: true}) })
	b.Run("UTF-16LE", func(b *testing.B) {
		benchDecode(b, readFixture(b, "wevtutil-admin-ps.xml")[2:], Options{Format: FormatXML})
	})
}

// BenchmarkDecodeJSON decodes PowerShell output: compressed lines and the
// pretty-printed Windows PowerShell 5.1 array.
func BenchmarkDecodeJSON(b *testing.B) {
	b.Run("compressed lines", func(b *testing.B) { benchDecode(b, readFixture(b, "pscompress.jsonl"), Options{}) })
	b.Run("PS 5.1 pretty", func(b *testing.B) {
		// Objects of the array, one after another, as the array's items.
		arr := readFixture(b, "ps51-array.json")[3:]
		benchDecode(b, arr, Options{Format: FormatJSON})
	})
}

func BenchmarkParseEventXML(b *testing.B) {
	line := fixtureLines(b)[0]
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	lockThread()
	defer unlockThread()
	cpu := threadCPU()
	for i := 0; i < b.N; i++ {
		ev, err := ParseEventXML(line)
		if err != nil || ev.RecordID != 188679 {
			b.Fatal(err)
		}
	}
	reportCPU(b, threadCPU()-cpu)
}

func BenchmarkAppendEventXML(b *testing.B) {
	recs, _ := decodeAll(b, readFixture(b, "wevtutil-admin.xml"), Options{})
	ev := recs[0].Event
	b.ReportAllocs()
	var buf []byte
	for i := 0; i < b.N; i++ {
		buf = AppendEventXML(buf[:0], &ev, XMLLine)
	}
	if len(buf) < 1000 {
		b.Fatal("nothing written")
	}
}
