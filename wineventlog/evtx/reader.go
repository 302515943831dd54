package evtx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// Options tune a Reader. The zero value reads every record and renders XML.
type Options struct {
	// Carve also reads records left in the slack space after a chunk's last
	// record: remains of older records that a recovered or reused file may
	// still hold. Records that no longer parse are passed over silently.
	Carve bool
	// NoOriginal leaves Event.Original empty, which saves rendering the XML
	// when only the fields are needed.
	NoOriginal bool
	// SkipThrough passes over records whose header number is at most this
	// value, to resume after the last record shipped. Whole chunks are
	// skipped on their header alone when it is intact.
	SkipThrough uint64
}

// Damage kinds, the keys of Stats.Damaged.
const (
	DamageFileHeader     = "file header"
	DamageTruncated      = "truncated file"
	DamageChunkMagic     = "bad chunk signature"
	DamageChunkHeaderCRC = "chunk header checksum"
	DamageChunkDataCRC   = "chunk data checksum"
	DamageTornRecord     = "torn record"
	DamageRecordContent  = "undecodable record"
)

// Stats counts what a Reader has seen so far.
type Stats struct {
	Chunks      int // 64 KiB chunk slots examined, used or not
	EmptyChunks int // chunks never written (all zero)
	Records     int // records returned, carved ones included
	Carved      int // records recovered from chunk slack (Options.Carve)
	Resumed     int // records passed over because of Options.SkipThrough
	// Damaged counts the DecodeErrors returned, by kind (the Damage*
	// constants).
	Damaged map[string]int
}

// Reader streams the records of an EVTX file. It holds one chunk in memory
// at a time, so memory use does not grow with the file.
type Reader struct {
	r     io.ReaderAt
	size  int64
	opts  Options
	noCRC bool

	c         chunk
	next      int64 // file offset of the next chunk
	chunkNo   int
	chunkOff  int64
	inChunk   bool
	pos, end  int // record walk within the chunk
	carveFrom int // where slack starts: end, or just after a torn record
	carving   bool
	failed    error

	pending []*wineventlog.DecodeError
	stats   Stats
	tree    tree   // the record being decoded
	buf     []byte // its XML rendering
}

var _ wineventlog.Decoder = (*Reader)(nil)

// notEVTX explains input without the EVTX signature, naming the text
// exports that are read as XML or JSON instead.
func notEVTX(p []byte) error {
	what := ""
	switch wineventlog.Detect(p) {
	case wineventlog.FormatXML:
		what = "; it is XML text (an XML export?), not EVTX"
	case wineventlog.FormatJSON:
		what = "; it is JSON text (a JSON export?), not EVTX"
	}
	return fmt.Errorf("evtx: not an EVTX file: it starts with %q, not the EVTX signature %q%s", p[:min(len(p), 8)], fileMagic[:7], what)
}

// NewReader starts reading an EVTX file of the given size. It fails only when
// the input does not start with the EVTX signature; damage anywhere else,
// the file header included, is reported by Next while every chunk is still
// scanned.
func NewReader(r io.ReaderAt, size int64, opts Options) (*Reader, error) {
	hdr := make([]byte, fileHeaderSize)
	n, err := r.ReadAt(hdr, 0)
	if n < len(fileMagic) {
		if err == nil || errors.Is(err, io.EOF) {
			err = fmt.Errorf("evtx: input is %d bytes, too short for an EVTX file", n)
		}
		return nil, err
	}
	if !bytes.Equal(hdr[:8], fileMagic) {
		return nil, notEVTX(hdr[:n])
	}
	rd := &Reader{
		r:    r,
		size: size,
		opts: opts,
		next: fileHeaderSize,
		c: chunk{
			data:      make([]byte, chunkSize),
			names:     make(map[int]nameEntry, 64),
			templates: make(map[int]*template, 16),
		},
		stats: Stats{Damaged: map[string]int{}},
	}
	if n < fileHeaderSize {
		rd.damage(DamageTruncated, 0, size, fmt.Sprintf("file is only %d bytes, shorter than its 4096-byte header; nothing to read", n), nil)
		return rd, nil
	}
	flags := binary.LittleEndian.Uint32(hdr[120:])
	rd.noCRC = flags&0x4 != 0
	major := binary.LittleEndian.Uint16(hdr[38:])
	switch {
	case major != 3:
		rd.damage(DamageFileHeader, 0, fileHeaderSize, fmt.Sprintf("file header says format version %d, expected 3; reading the chunks anyway", major), nil)
	case !rd.noCRC && crc32.ChecksumIEEE(hdr[:120]) != binary.LittleEndian.Uint32(hdr[124:]):
		rd.damage(DamageFileHeader, 0, fileHeaderSize, "file header checksum mismatch; its counts are not used anyway, reading every chunk", nil)
	}
	return rd, nil
}

// Format reports wineventlog.FormatEVTX.
func (r *Reader) Format() wineventlog.Format { return wineventlog.FormatEVTX }

// Stats returns the counts so far. The Damaged map is a copy.
func (r *Reader) Stats() Stats {
	s := r.stats
	s.Damaged = make(map[string]int, len(r.stats.Damaged))
	for k, v := range r.stats.Damaged {
		s.Damaged[k] = v
	}
	return s
}

func (r *Reader) damage(kind string, off, end int64, reason string, err error) {
	r.stats.Damaged[kind]++
	r.pending = append(r.pending, &wineventlog.DecodeError{
		Format: wineventlog.FormatEVTX, Offset: off, End: end, Reason: reason, Err: err,
	})
}

// Next returns the next record in file order. It returns io.EOF after the
// last chunk, a *wineventlog.DecodeError for damage (call Next again to go
// on after it), and any other error when reading the input failed.
func (r *Reader) Next() (wineventlog.Record, error) {
	for {
		if len(r.pending) > 0 {
			e := r.pending[0]
			r.pending = r.pending[1:]
			return wineventlog.Record{}, e
		}
		if r.failed != nil {
			return wineventlog.Record{}, r.failed
		}
		if !r.inChunk {
			if r.next >= r.size {
				return wineventlog.Record{}, io.EOF
			}
			r.loadChunk()
			continue
		}
		rec, err, ok := r.nextRecord()
		if ok {
			return rec, err
		}
		r.inChunk = false
	}
}

func (r *Reader) loadChunk() {
	off := r.next
	r.next += chunkSize
	r.chunkOff = off
	r.chunkNo = int((off - fileHeaderSize) / chunkSize)
	r.c.reset()
	n, err := r.r.ReadAt(r.c.data, off)
	if err != nil && !errors.Is(err, io.EOF) {
		r.failed = fmt.Errorf("evtx: reading chunk %d at byte %d: %w", r.chunkNo, off, err)
		return
	}
	r.stats.Chunks++
	clear(r.c.data[n:])
	r.c.avail = n
	d := r.c.data
	if n < chunkSize {
		if allZero(d[:n]) {
			r.stats.EmptyChunks++
			return
		}
		r.damage(DamageTruncated, off, off+int64(n), fmt.Sprintf(
			"file ends %d bytes into chunk %d (at byte %d), before its 65536 bytes; reading the records that end before the cut", n, r.chunkNo, off), nil)
		if n < chunkHeaderSize {
			return
		}
	}
	if !bytes.Equal(d[:8], chunkMagic) {
		if allZero(d[:n]) {
			r.stats.EmptyChunks++
			return
		}
		r.damage(DamageChunkMagic, off, off+chunkSize, fmt.Sprintf(
			"chunk %d at byte %d has signature %q instead of \"ElfChnk\\x00\"; skipped it and went on with the next chunk", r.chunkNo, off, d[:8]), nil)
		return
	}
	h := parseChunkHeader(d)
	headerOK := r.noCRC || headerCRCOK(d, h)
	// Record headers carry the identifier, not the log's own 1-based
	// numbering, so the identifier range is the one to compare.
	if headerOK && r.opts.SkipThrough > 0 && h.lastID <= r.opts.SkipThrough && h.firstID <= h.lastID && h.lastID-h.firstID < chunkSize/minRecordSize {
		r.stats.Resumed += int(h.lastID - h.firstID + 1)
		return
	}
	r.end = int(h.freeSpaceOffset)
	if r.end < chunkHeaderSize || r.end > n {
		// The header does not say where the records end; walk until the
		// record structure stops.
		r.end = n
	}
	if !headerOK {
		r.damage(DamageChunkHeaderCRC, off, off+chunkHeaderSize, fmt.Sprintf(
			"chunk %d at byte %d: header checksum mismatch; reading its records anyway, each one checked on its own", r.chunkNo, off), nil)
	} else if !r.noCRC && int(h.freeSpaceOffset) == r.end && crc32.ChecksumIEEE(d[chunkHeaderSize:r.end]) != h.dataCRC {
		r.damage(DamageChunkDataCRC, off+chunkHeaderSize, off+int64(r.end), fmt.Sprintf(
			"chunk %d at byte %d: record data checksum mismatch (often a record written after the checksum when the log was not closed cleanly); reading its records anyway, each one checked on its own", r.chunkNo, off), nil)
	}
	r.inChunk = true
	r.carving = false
	r.pos = chunkHeaderSize
	r.carveFrom = r.end
}

func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// recordAt reports whether a well-formed record frame starts at p and ends
// by limit: signature, a size that fits, and the size repeated at its end.
func (r *Reader) recordAt(p, limit int) (int, bool) {
	d := r.c.data
	if p+minRecordSize > limit || !bytes.Equal(d[p:p+4], recordMagic) {
		return 0, false
	}
	size := int(binary.LittleEndian.Uint32(d[p+4:]))
	if size < minRecordSize || size > limit-p {
		return 0, false
	}
	if int(binary.LittleEndian.Uint32(d[p+size-4:])) != size {
		return 0, false
	}
	return size, true
}

// resync finds the next well-formed record at or after p.
func (r *Reader) resync(p, limit int) int {
	for p < limit {
		i := bytes.Index(r.c.data[p:limit], recordMagic)
		if i < 0 {
			return limit
		}
		p += i
		if _, ok := r.recordAt(p, limit); ok {
			return p
		}
		p++
	}
	return limit
}

// nextRecord returns the chunk's next record or damage report; ok is false
// when the chunk has nothing more.
func (r *Reader) nextRecord() (wineventlog.Record, error, bool) {
	for !r.carving && r.pos < r.end {
		p := r.pos
		size, ok := r.recordAt(p, r.end)
		if !ok {
			if p+minRecordSize > r.end || allZero(r.c.data[p:r.end]) {
				r.pos = r.end
				break
			}
			// What follows a torn record is not trusted: it is usually
			// the remains of an older generation of the chunk, whose
			// template references may now point at different
			// templates. Options.Carve reads it as slack.
			r.pos = r.end
			r.carveFrom = p + 1
			r.stats.Damaged[DamageTornRecord]++
			return wineventlog.Record{}, &wineventlog.DecodeError{
				Format: wineventlog.FormatEVTX, Offset: r.chunkOff + int64(p), End: r.chunkOff + int64(r.end),
				Reason: fmt.Sprintf("chunk %d: torn or overwritten record at chunk offset %d; the rest of the chunk's %d record bytes are skipped (carving the chunk recovers what is intact)", r.chunkNo, p, r.end-p),
			}, true
		}
		r.pos = p + size
		if rec, err, ok := r.decode(p, size, false); ok {
			return rec, err, true
		}
	}
	if !r.opts.Carve {
		return wineventlog.Record{}, nil, false
	}
	if !r.carving {
		r.carving = true
		r.pos = r.carveFrom
	}
	for r.pos < r.c.avail {
		p := r.resync(r.pos, r.c.avail)
		if p >= r.c.avail {
			break
		}
		size, _ := r.recordAt(p, r.c.avail)
		r.pos = p + size
		rec, err, ok := r.decode(p, size, true)
		if ok && err == nil {
			return rec, nil, true
		}
		if err != nil {
			// Slack holds fragments by nature: a frame that does not
			// decode may be a coincidence, so look again one byte on.
			r.pos = p + 1
		}
	}
	return wineventlog.Record{}, nil, false
}

// decode turns the record at chunk offset p into a Record. ok is false when
// the record is passed over for SkipThrough.
func (r *Reader) decode(p, size int, carved bool) (wineventlog.Record, error, bool) {
	d := r.c.data
	number := binary.LittleEndian.Uint64(d[p+8:])
	if r.opts.SkipThrough > 0 && number <= r.opts.SkipThrough {
		r.stats.Resumed++
		return wineventlog.Record{}, nil, false
	}
	off := r.chunkOff + int64(p)
	pos := wineventlog.Position{Offset: off, End: off + int64(size), RecordNumber: number}
	ev, err := r.event(p+recordHeader, p+size-4)
	if err != nil {
		if !carved {
			r.stats.Damaged[DamageRecordContent]++
		}
		return wineventlog.Record{}, &wineventlog.DecodeError{
			Format: wineventlog.FormatEVTX, Offset: off, End: pos.End,
			Reason: fmt.Sprintf("chunk %d: record %d at chunk offset %d cannot be decoded; skipped it", r.chunkNo, number, p),
			Err:    err,
		}, true
	}
	if ev.TimeCreated.IsZero() {
		ev.TimeCreated = filetime(binary.LittleEndian.Uint64(d[p+16:]))
	}
	if ev.RecordID == 0 {
		ev.RecordID = number
	}
	r.stats.Records++
	if carved {
		r.stats.Carved++
	}
	return wineventlog.Record{Event: ev, Position: pos}, nil, true
}

func (r *Reader) event(start, end int) (wineventlog.Event, error) {
	var ev wineventlog.Event
	r.c.ps.resetRecord()
	p := parser{c: &r.c, pos: start, end: end, slabs: &r.c.ps.record}
	nodes, err := p.fragment()
	if err != nil {
		return ev, err
	}
	t := &r.tree
	t.reset()
	res := resolver{c: &r.c, t: t, tokens: p.tokens}
	if err := res.resolve(nodes, nil, 0); err != nil {
		return ev, err
	}
	root := int32(-1)
	for _, k := range t.stack {
		if k.kind == xElement {
			root = k.elem
			break
		}
	}
	if root < 0 {
		return ev, errors.New("record holds no XML element")
	}
	t.finish()
	fillEvent(&ev, t, root)
	if !r.opts.NoOriginal {
		r.buf = t.appendXML(r.buf[:0], root, 0)
		ev.Original = string(r.buf)
	}
	return ev, nil
}
