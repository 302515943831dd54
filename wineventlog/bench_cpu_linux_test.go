//go:build linux

package wineventlog

import (
	"runtime"
	"syscall"
	"time"
)

// threadCPU is the CPU time of the calling thread. Benchmarks report it
// besides wall time because wall time is meaningless on a loaded machine.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func lockThread()   { runtime.LockOSThread() }
func unlockThread() { runtime.UnlockOSThread() }
