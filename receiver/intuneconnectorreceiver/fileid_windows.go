//go:build windows

package intuneconnectorreceiver

import (
	"os"
	"strconv"

	"golang.org/x/sys/windows"
)

// fileIdentity names a file by its volume serial number and file index,
// which NTFS keeps across renames (rotation) and assigns anew when a file is
// replaced by a new one.
func fileIdentity(f *os.File, _ os.FileInfo) string {
	var d windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(f.Fd()), &d); err != nil {
		return ""
	}
	idx := uint64(d.FileIndexHigh)<<32 | uint64(d.FileIndexLow)
	return "vol" + strconv.FormatUint(uint64(d.VolumeSerialNumber), 16) + "-idx" + strconv.FormatUint(idx, 16)
}
