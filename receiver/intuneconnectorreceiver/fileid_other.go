//go:build !unix && !windows

package intuneconnectorreceiver

import "os"

// fileIdentity has no stable file ID to offer on this OS; the caller falls
// back to the path and the content fingerprint.
func fileIdentity(*os.File, os.FileInfo) string { return "" }
