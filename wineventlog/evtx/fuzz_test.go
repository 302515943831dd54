package evtx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"runtime"
	"testing"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// fuzzFile wraps one chunk in a file header. Flag 0x4 (no checksums) lets
// mutated chunks reach the record parser instead of stopping at a
// checksum report, though both paths go on parsing anyway.
func fuzzFile(chunk []byte) []byte {
	b := make([]byte, fileHeaderSize, fileHeaderSize+chunkSize)
	copy(b, fileMagic)
	binary.LittleEndian.PutUint32(b[32:], 128)
	binary.LittleEndian.PutUint16(b[36:], 1)
	binary.LittleEndian.PutUint16(b[38:], 3)
	binary.LittleEndian.PutUint16(b[40:], fileHeaderSize)
	binary.LittleEndian.PutUint16(b[42:], 1)
	binary.LittleEndian.PutUint32(b[120:], 0x4)
	binary.LittleEndian.PutUint32(b[124:], crc32.ChecksumIEEE(b[:120]))
	b = append(b, chunk...)
	return b[:fileHeaderSize+chunkSize]
}

// maxAllocPerChunk bounds what decoding one chunk may allocate in total. A
// record's rendering is capped (maxTextPerRecord, maxNodesPerRecord) and a
// chunk holds at most chunkSize/minRecordSize records, but real chunks stay
// far below this; it catches allocation driven by a length field.
const maxAllocPerChunk = 512 << 20

func FuzzChunk(f *testing.F) {
	// Seeds are real chunks cut at their free-space offset: small inputs
	// keep the fuzzer's mutation and minimisation fast, and fuzzFile pads
	// them back to a whole chunk.
	for _, name := range []string{"security_short_selected", "msexchange_management_wec", "application_no_crc32", "helloforbusiness_operational", "security_1_record"} {
		b := testdata(f, name)
		c := b[fileHeaderSize : fileHeaderSize+chunkSize]
		f.Add(c[:binary.LittleEndian.Uint32(c[48:])])
	}
	f.Fuzz(func(t *testing.T, chunk []byte) {
		if len(chunk) > chunkSize {
			chunk = chunk[:chunkSize]
		}
		b := fuzzFile(chunk)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for _, opts := range []Options{{Carve: true}, {NoOriginal: true, SkipThrough: 3}} {
			r, err := NewReader(bytes.NewReader(b), int64(len(b)), opts)
			if err != nil {
				t.Fatal(err)
			}
			// Every call either returns a record, reports damage that
			// moves on, or ends; more calls than a chunk can hold
			// records plus reports is an endless loop.
			limit := 2*chunkSize/minRecordSize + 16
			for i := 0; ; i++ {
				if i > limit {
					t.Fatalf("no io.EOF after %d calls to Next", i)
				}
				rec, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				var de *wineventlog.DecodeError
				if err != nil && !errors.As(err, &de) {
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
				if err == nil && (rec.Position.Offset < fileHeaderSize || rec.Position.End > int64(len(b))) {
					t.Fatalf("record position %+v outside the chunk", rec.Position)
				}
			}
		}
		runtime.ReadMemStats(&after)
		if d := after.TotalAlloc - before.TotalAlloc; d > maxAllocPerChunk {
			t.Fatalf("decoding one chunk allocated %d bytes", d)
		}
	})
}
