// Package cputime reads the CPU time the process has used, for benchmarks:
// on a machine shared with other work it is steadier than wall time, which
// counts whatever else runs.
package cputime

import "time"

// Process returns the user and system CPU time of the whole process so far,
// garbage collection included; 0 where the system does not tell.
func Process() time.Duration { return process() }
