package cputime

import (
	"runtime"
	"testing"
	"time"
)

// Busy work moves the process's CPU time forward (on systems that report it).
func TestProcessAdvances(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("no process CPU time on this system")
	}
	before := Process()
	x := 0
	for deadline := time.Now().Add(50 * time.Millisecond); time.Now().Before(deadline); {
		x++
	}
	if after := Process(); after <= before {
		t.Errorf("CPU time did not advance over 50 ms of busy work: %v -> %v (%d loops)", before, after, x)
	}
}
