//go:build !unix && !windows

package fileid

import "os"

// osID has no stable file ID to offer on this OS.
func osID(*os.File, os.FileInfo) string { return "" }
