//go:build !unix

package intuneconnectorreceiver

import "time"

// processCPU is not measured on this OS; the benchmark then reports 0.
func processCPU() time.Duration { return 0 }
