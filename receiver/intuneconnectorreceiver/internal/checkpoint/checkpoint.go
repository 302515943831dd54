// Package checkpoint is what the receiver keeps per file to resume it: the
// record (how far the file was delivered, and what content that was), how
// it is stored and loaded, and the storage client used when no storage
// extension is configured.
package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/fileid"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// KeyPrefix starts the storage key of every file checkpoint; the rest is
// the file's identity (see fileid).
const KeyPrefix = "file/"

// Key is the storage key of the file with the given identity.
func Key(id string) string { return KeyPrefix + id }

// Record is what is stored per file. A record moves only after the
// pipeline accepted the events it covers.
type Record struct {
	Path   string `json:"path"`
	Format string `json:"format"`
	// Offset is the byte just past the last delivered event (XML, JSON).
	Offset int64 `json:"offset,omitempty"`
	// Record is the highest EVTX record number delivered.
	Record uint64 `json:"record,omitempty"`
	// FP is a hash of the first FPLen bytes (stream formats only: an EVTX
	// header changes with every write).
	FPLen int    `json:"fp_len,omitempty"`
	FP    string `json:"fp,omitempty"`
}

// Marshal encodes the record for storage.
func (r Record) Marshal() []byte {
	b, _ := json.Marshal(r) // only strings and numbers: cannot fail
	return b
}

// Parse reads a stored record, rejecting values that cannot be one
// (written by another version, or damaged).
func Parse(b []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, fmt.Errorf("stored checkpoint is not valid: %w", err)
	}
	switch wineventlog.Format(r.Format) {
	case wineventlog.FormatXML, wineventlog.FormatJSON, wineventlog.FormatEVTX:
	default:
		return Record{}, fmt.Errorf("stored checkpoint has unknown format %q", r.Format)
	}
	if r.Offset < 0 || r.FPLen < 0 || r.FPLen > fileid.FingerprintSize || (r.FPLen > 0) != (r.FP != "") {
		return Record{}, errors.New("stored checkpoint has impossible values")
	}
	return r, nil
}

// Matches reports whether head, a file's first bytes, is still the content
// the record was written for. Records without a fingerprint (EVTX) match
// any content.
func (r Record) Matches(head []byte) bool {
	return r.FPLen == 0 || (len(head) >= r.FPLen && fileid.Fingerprint(head[:r.FPLen]) == r.FP)
}

// Rewind says why a stream file is read again from its start.
type Rewind int

const (
	// Continue: the file only grew; reading goes on at the offset.
	Continue Rewind = iota
	// Truncated: the file is shorter than the offset.
	Truncated
	// Replaced: the file's first bytes are not the ones read before.
	Replaced
)

// Resume returns where to read a stream (XML or JSON) file on from, given
// its current size and first bytes: at the offset, or at 0 when the file
// was truncated or rewritten in place.
func (r Record) Resume(size int64, head []byte) (Record, Rewind) {
	switch {
	case size < r.Offset:
		r.Offset = 0
		return r, Truncated
	case !r.Matches(head):
		r.Offset = 0
		return r, Replaced
	}
	return r, Continue
}

var (
	// ErrDamaged is wrapped by Load's error for a stored value that is not
	// a record.
	ErrDamaged = errors.New("stored checkpoint cannot be read")
	// ErrReused is Load's error for a record whose file identity now
	// belongs to other content (an inode number handed to a new file).
	ErrReused = errors.New("a checkpoint exists for this file ID but the content differs (the ID was reused)")
)

// Load returns the record stored under key for a file whose first bytes
// are head. found is false when there is none or it no longer applies;
// err then says why a stored value was passed over: ErrDamaged, ErrReused,
// or the storage client's own error.
func Load(ctx context.Context, c storage.Client, key string, head []byte) (rec Record, found bool, err error) {
	data, err := c.Get(ctx, key)
	if err != nil || data == nil {
		return Record{}, false, err
	}
	rec, err = Parse(data)
	if err != nil {
		return Record{}, false, fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	if !rec.Matches(head) {
		return rec, false, ErrReused
	}
	return rec, true, nil
}
