// Package evtx reads Windows EVTX event log files in pure Go.
//
// A Reader streams records from an io.ReaderAt holding one 64 KiB chunk in
// memory at a time, so memory stays flat whatever the file size. It reads
// every chunk up to the end of the file rather than trusting the file
// header's chunk count, which is stale in files that were not closed
// cleanly.
//
// Records come out as wineventlog.Event, the type the XML and JSON decoders
// of the parent package produce, with Event.Original holding the record as
// XML in the layout of libevtx's `evtxexport -f xml` and values rendered as
// Windows renders them (7-digit fractional seconds, unpadded hex, upper-case
// GUIDs).
//
// Damage never stops a Reader. Checksum mismatches, chunks with a bad
// signature, torn records, BinXML that does not parse and truncated files
// are returned from Next as *wineventlog.DecodeError, naming the byte offset
// and chunk; the next call goes on after the damage. What follows a torn
// record in its chunk is treated as slack: usually older data whose
// template references no longer hold. Options.Carve reads intact records
// from slack as well.
//
// Parsing is bounded: element nesting, BinXML tokens, rendered nodes and
// rendered text per record are capped, so a hostile chunk costs at most a
// fixed amount of time and memory.
package evtx
