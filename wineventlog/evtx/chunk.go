package evtx

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/otelcol-intune/otelcol-intune/wineventlog/internal/magic"
)

const (
	fileHeaderSize  = 4096
	chunkSize       = 65536
	chunkHeaderSize = 512
	recordHeader    = 24
	minRecordSize   = recordHeader + 4
)

var (
	fileMagic   = []byte(magic.EVTXFile)
	chunkMagic  = []byte(magic.EVTXChunk)
	recordMagic = []byte(magic.EVTXRecord)
)

// chunk holds one 64 KiB chunk and the names and templates parsed from it.
// Both caches are keyed by chunk offset and die with the chunk: offsets
// mean nothing in another chunk.
type chunk struct {
	data      []byte
	avail     int // bytes actually read; less than chunkSize in a truncated file
	names     map[int]nameEntry
	templates map[int]*template
	scratch   []byte
	ps        parseArena
	// interned keeps names and short literal texts across chunks: every
	// chunk repeats the same element and attribute names in its string
	// table and templates.
	interned map[string]string
}

// maxInterned bounds the interned strings; the table starts over when
// full. Longer strings are rarely repeated and not interned.
const (
	maxInterned    = 4096
	maxInternedLen = 64
)

// intern returns b as a string, shared with earlier equal ones.
func (c *chunk) intern(b []byte) string {
	if len(b) > maxInternedLen {
		return string(b)
	}
	if s, ok := c.interned[string(b)]; ok {
		return s
	}
	if len(c.interned) >= maxInterned || c.interned == nil {
		c.interned = make(map[string]string, 256)
	}
	s := string(b)
	c.interned[s] = s
	return s
}

type nameEntry struct {
	s    string
	size int
}

type chunkHeader struct {
	firstNumber, lastNumber uint64
	firstID, lastID         uint64
	headerSize              uint32
	lastRecordOffset        uint32
	freeSpaceOffset         uint32
	dataCRC                 uint32
	headerCRC               uint32
}

func parseChunkHeader(b []byte) chunkHeader {
	le := binary.LittleEndian
	return chunkHeader{
		firstNumber:      le.Uint64(b[8:]),
		lastNumber:       le.Uint64(b[16:]),
		firstID:          le.Uint64(b[24:]),
		lastID:           le.Uint64(b[32:]),
		headerSize:       le.Uint32(b[40:]),
		lastRecordOffset: le.Uint32(b[44:]),
		freeSpaceOffset:  le.Uint32(b[48:]),
		dataCRC:          le.Uint32(b[52:]),
		headerCRC:        le.Uint32(b[124:]),
	}
}

// headerCRCOK checks the chunk header checksum, which covers the first 120
// bytes and the string and template tables, skipping the checksum fields.
func headerCRCOK(b []byte, h chunkHeader) bool {
	c := crc32.ChecksumIEEE(b[:120])
	c = crc32.Update(c, crc32.IEEETable, b[128:chunkHeaderSize])
	return c == h.headerCRC
}

func (c *chunk) reset() {
	clear(c.names)
	clear(c.templates)
	c.ps.chunk.reset()
}

// name reads the string-table entry at off: next-entry offset, hash,
// length in characters, the UTF-16 characters and a NUL.
func (c *chunk) name(off int) (string, int, error) {
	if e, ok := c.names[off]; ok {
		return e.s, e.size, nil
	}
	if off < 0 || off+8 > c.avail {
		return "", 0, fmt.Errorf("name offset %d is outside the chunk", off)
	}
	n := int(binary.LittleEndian.Uint16(c.data[off+6:]))
	size := 8 + 2*n + 2
	if off+size > c.avail {
		return "", 0, fmt.Errorf("name at offset %d of %d characters runs past the chunk", off, n)
	}
	c.scratch = appendUTF16(c.scratch[:0], c.data[off+8:off+8+2*n])
	s := c.intern(c.scratch)
	c.names[off] = nameEntry{s, size}
	return s, size, nil
}

// template returns the definition at off, parsing it on first use, and the
// size of its on-disk form (24-byte header plus body) so that an inline
// definition can be skipped.
func (c *chunk) template(off, depth int) (*template, int, error) {
	if off < chunkHeaderSize || off+24 > c.avail {
		return nil, 0, fmt.Errorf("definition offset is outside the chunk")
	}
	dataSize := int(binary.LittleEndian.Uint32(c.data[off+20:]))
	if dataSize > c.avail-off-24 {
		return nil, 0, fmt.Errorf("definition of %d bytes runs past the chunk", dataSize)
	}
	size := 24 + dataSize
	if t, ok := c.templates[off]; ok {
		if t.busy {
			return nil, 0, fmt.Errorf("definition refers to itself")
		}
		return t, size, t.err
	}
	t := &template{busy: true}
	c.templates[off] = t
	p := parser{c: c, pos: off + 24, end: off + size, depth: depth, slabs: &c.ps.chunk}
	t.nodes, t.err = p.fragment()
	t.busy = false
	return t, size, t.err
}
