//go:build !unix

package regalkit_test

// cpuTime is not measured here: benchmarks report zero.
func cpuTime() int64 { return 0 }
