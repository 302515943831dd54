//go:build unix

package intuneconnectorreceiver

import (
	"os"
	"strconv"
	"syscall"
)

// fileIdentity names a file by device and inode, which stay the same across
// renames (rotation) and change when a file is replaced by a new one.
func fileIdentity(_ *os.File, fi os.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return "dev" + strconv.FormatUint(uint64(st.Dev), 10) + "-ino" + strconv.FormatUint(uint64(st.Ino), 10) //nolint:unconvert // field types differ by OS
}
