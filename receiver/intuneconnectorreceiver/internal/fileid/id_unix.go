//go:build unix

package fileid

import (
	"os"
	"strconv"
	"syscall"
)

// osID names a file by device and inode, which stay the same across
// renames and change when a file is replaced by a new one.
func osID(_ *os.File, fi os.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return "dev" + strconv.FormatUint(uint64(st.Dev), 10) + "-ino" + strconv.FormatUint(uint64(st.Ino), 10) //nolint:unconvert // field types differ by OS
}
