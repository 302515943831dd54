//go:build windows

package fileid

import (
	"os"
	"strconv"

	"golang.org/x/sys/windows"
)

// osID names a file by its volume serial number and file index, which NTFS
// keeps across renames and assigns anew when a file is replaced.
func osID(f *os.File, _ os.FileInfo) string {
	var d windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(f.Fd()), &d); err != nil {
		return ""
	}
	idx := uint64(d.FileIndexHigh)<<32 | uint64(d.FileIndexLow)
	return "vol" + strconv.FormatUint(uint64(d.VolumeSerialNumber), 16) + "-idx" + strconv.FormatUint(idx, 16)
}
