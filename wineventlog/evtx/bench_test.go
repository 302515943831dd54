package evtx

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/cputime"
)

// countRecords reads b to the end and returns the number of records.
func countRecords(tb testing.TB, b []byte, opts Options) int {
	r, err := NewReader(bytes.NewReader(b), int64(len(b)), opts)
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err == nil {
			n++
		}
	}
}

func benchFiles(b *testing.B, files [][]byte, opts Options) {
	var size int64
	want := 0
	for _, f := range files {
		size += int64(len(f))
		want += countRecords(b, f, opts)
	}
	if want == 0 {
		b.Fatal("no records to read")
	}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		got := 0
		for _, f := range files {
			got += countRecords(b, f, opts)
		}
		if got != want {
			b.Fatalf("read %d records, want %d", got, want)
		}
	}
	b.ReportMetric(float64(want)*float64(b.N)/time.Since(start).Seconds(), "records/s")
	if cpu := cputime.Process() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(want*b.N), "cpu-ns/record")
	}
}

// BenchmarkIntuneLog reads the real connector log: 1,632 records in 41
// chunks, with and without rendering each record's XML.
func BenchmarkIntuneLog(b *testing.B) {
	f := testdata(b, "intune_certificateconnectors_admin")
	b.Run("xml", func(b *testing.B) { benchFiles(b, [][]byte{f}, Options{}) })
	b.Run("fields", func(b *testing.B) { benchFiles(b, [][]byte{f}, Options{NoOriginal: true}) })
}

// BenchmarkCorpus reads every file of the shared corpus from memory.
func BenchmarkCorpus(b *testing.B) {
	corpus := corpusDir(b)
	var files [][]byte
	for _, cf := range readManifest(b, corpus) {
		data, err := os.ReadFile(filepath.Join(corpus, cf.path))
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, data)
	}
	b.Run("xml", func(b *testing.B) { benchFiles(b, files, Options{}) })
	b.Run("fields", func(b *testing.B) { benchFiles(b, files, Options{NoOriginal: true}) })
}

// BenchmarkLargeFile reads the file named by EVTX_BENCH_FILE from disk
// (bench/evtx/compare.sh builds a 100+ MB one from real chunks) and reports
// the peak heap in use, which must not grow with the file.
func BenchmarkLargeFile(b *testing.B) {
	path := os.Getenv("EVTX_BENCH_FILE")
	if path == "" {
		b.Skip("set EVTX_BENCH_FILE to an EVTX file (bench/evtx/compare.sh builds one)")
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	var peak uint64
	want := -1
	start := time.Now()
	for i := 0; i < b.N; i++ {
		r, err := NewReader(f, fi.Size(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err == nil {
				n++
			}
			if n%20000 == 0 {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
		if n == 0 || (want >= 0 && n != want) {
			b.Fatalf("read %d records, want %d", n, want)
		}
		want = n
	}
	b.ReportMetric(float64(want)*float64(b.N)/time.Since(start).Seconds(), "records/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
