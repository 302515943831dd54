// Package magic names the byte sequences the event log formats, and the
// files admins mistake for them, begin with, so that detection and the
// readers agree on one spelling of each.
package magic

// Byte-order marks.
const (
	UTF8BOM    = "\xEF\xBB\xBF"
	UTF16LEBOM = "\xFF\xFE"
	UTF16BEBOM = "\xFE\xFF"
)

// EVTX signatures: the file header, each 64 KiB chunk, and each record.
const (
	EVTXFile   = "ElfFile\x00"
	EVTXChunk  = "ElfChnk\x00"
	EVTXRecord = "\x2a\x2a\x00\x00"
)

// Archives an export is often packed in before it is handed on.
const (
	ZIP        = "PK\x03\x04"
	ZIPEmpty   = "PK\x05\x06"
	ZIPSpanned = "PK\x07\x08"
	Gzip       = "\x1F\x8B"
	SevenZip   = "7z\xBC\xAF\x27\x1C"
)
