package filereader

import (
	"io"
	"os"

	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/checkpoint"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/evtx"
)

// evtxChunkSize is what the bytes count adds per chunk examined.
const evtxChunkSize = 64 << 10

// evtxFile reads the records of an EVTX file numbered above the
// checkpoint. Windows rewrites these files in place and wraps them around,
// so the record number, not a byte offset, says what was delivered.
type evtxFile struct {
	rd *evtx.Reader
	cp checkpoint.Record
	// rec holds the record being handed to the sink (see stream.rec).
	rec wineventlog.Record
}

func newEVTX(f *os.File, size int64, cp checkpoint.Record, opts Options) (*evtxFile, error) {
	// The header changes with every write: a fingerprint would call every
	// grown file a new one.
	cp.Format, cp.Offset, cp.FPLen, cp.FP = string(wineventlog.FormatEVTX), 0, 0, ""
	rd, err := evtx.NewReader(f, size, evtx.Options{SkipThrough: cp.Record, NoOriginal: opts.NoOriginal})
	if err != nil {
		return nil, err
	}
	return &evtxFile{rd: rd, cp: cp}, nil
}

func (e *evtxFile) Format() wineventlog.Format { return wineventlog.FormatEVTX }

// ReadToEnd reads every record above the checkpoint. While records come
// in increasing order the checkpoint follows them; in a wrapped file it
// moves only once the whole file is read.
func (e *evtxFile) ReadToEnd(sink Sink) (Result, error) {
	res := Result{Complete: true}
	cp := e.cp
	highest, last := cp.Record, cp.Record
	inOrder := true
	for {
		var err error
		e.rec, err = e.rd.Next()
		if err != nil {
			if err == io.EOF {
				break
			}
			if de := decodeError(err); de != nil {
				sink.Damage(de, 0)
				continue
			}
			res.Complete, res.Err = false, err
			break
		}
		n := e.rec.Position.RecordNumber
		if n < last {
			inOrder = false
		}
		last, highest = n, max(highest, n)
		if inOrder {
			cp.Record = highest
		}
		if err := sink.Event(&e.rec.Event, cp); err != nil {
			res.Bytes = e.bytes()
			return res, err
		}
	}
	if res.Complete {
		cp.Record = highest
	}
	res.Checkpoint, res.Bytes = cp, e.bytes()
	return res, nil
}

func (e *evtxFile) bytes() int64 {
	st := e.rd.Stats()
	return int64(st.Chunks-st.EmptyChunks) * evtxChunkSize
}

// End finds the highest record number in the file. Damage is passed over;
// records after an I/O error are left to be read.
func (e *evtxFile) End() checkpoint.Record {
	cp := e.cp
	for {
		rec, err := e.rd.Next()
		switch {
		case err == nil:
			cp.Record = max(cp.Record, rec.Position.RecordNumber)
		case decodeError(err) == nil:
			return cp
		}
	}
}
