//go:build unix

package regalkit_test

import "syscall"

// cpuTime returns the CPU time the process has used, user and system, in
// nanoseconds; benchmarks report it beside the wall time, which on a shared machine
// counts the time spent waiting for a core.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
