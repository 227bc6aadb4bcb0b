//go:build unix

package regalkit_test

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system, every thread, GC included) this
// process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
