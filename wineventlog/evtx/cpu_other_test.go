//go:build !unix

package evtx

import "time"

func processCPU() time.Duration { return 0 }
