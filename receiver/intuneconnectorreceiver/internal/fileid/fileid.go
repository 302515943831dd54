// Package fileid tells files apart in two ways: by the identity the
// operating system gives a file, which survives a rename (rotation) and is
// new for a new file, and by a hash of its first bytes, which tells a file
// rewritten in place, or an identity reused by a new file, from the one a
// checkpoint was written for.
package fileid

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
)

// FingerprintSize is how many leading bytes of a stream file identify its
// content: enough to cover the first event's System section.
const FingerprintSize = 1024

// Of returns the identity of the open file f found at path. Where the
// operating system offers no file ID, the path stands in, and the
// fingerprint is what tells a replaced file apart.
func Of(f *os.File, fi os.FileInfo, path string) string {
	if id := osID(f, fi); id != "" {
		return id
	}
	return "path-" + path
}

// Head reads the first FingerprintSize bytes of f, or all of a shorter
// file of the given size.
func Head(f *os.File, size int64) ([]byte, error) {
	head := make([]byte, min(max(size, 0), FingerprintSize))
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return head[:n], nil
}

// Fingerprint hashes a file's first bytes (at most FingerprintSize).
func Fingerprint(head []byte) string {
	sum := sha256.Sum256(head)
	return hex.EncodeToString(sum[:16])
}
