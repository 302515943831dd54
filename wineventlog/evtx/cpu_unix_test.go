//go:build unix

package evtx

import (
	"syscall"
	"time"
)

// processCPU is the CPU time of the whole process, garbage collection
// included: on a shared machine it is steadier than wall time, which counts
// whatever else runs.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
