//go:build unix

package client

import (
	"syscall"
	"testing"
)

// reportCPU starts measuring the CPU time of the whole process (user and system, every
// thread: the benchmark, the library's goroutines and an in-process server) and returns a
// function that reports it per operation as cpu-ns/op. Against a server in this process,
// cpu-ns/op above ns/op means more than one core was busy.
func reportCPU(b *testing.B) func() {
	start, ok := processCPU()
	return func() {
		end, ok2 := processCPU()
		if ok && ok2 && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

func processCPU() (int64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return ru.Utime.Nano() + ru.Stime.Nano(), true
}
