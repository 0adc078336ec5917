package bench

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// clkTck is the kernel's clock ticks per second (USER_HZ), the unit of the
// CPU times in /proc/PID/stat; 100 on Linux.
const clkTck = 100

// procStats is what the kernel counts for one process.
type procStats struct {
	cpu    float64 // user+system CPU seconds
	rssKiB int64   // VmRSS: resident now
	hwmKiB int64   // VmHWM: peak resident
}

// readProc reads /proc/PID/stat and /proc/PID/status.
func readProc(pid int) (procStats, error) {
	var s procStats
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The command name (field 2) may hold spaces: count fields after ")".
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return s, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	f := strings.Fields(string(stat[i+1:])) // f[0] is field 3 (state)
	if len(f) < 13 {
		return s, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("bad /proc/%d/stat times", pid)
	}
	s.cpu = float64(utime+stime) / clkTck
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			s.rssKiB = n
		case "VmHWM":
			s.hwmKiB = n
		}
	}
	return s, nil
}

func mustReadProc(b *testing.B, pid int) procStats {
	b.Helper()
	s, err := readProc(pid)
	if err != nil {
		b.Fatalf("read tether's process stats: %v", err)
	}
	return s
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

// childAttrs makes a child process die with the benchmark binary.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// ms is a duration in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// medianMax returns the median (the mean of the middle two for an even
// count) and the maximum.
func medianMax(ds []time.Duration) (median, max time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	median = s[n/2]
	if n%2 == 0 {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	return median, s[n-1]
}

// fmtDurations lists durations in ms, for the log.
func fmtDurations(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = strconv.FormatFloat(ms(d), 'f', 1, 64)
	}
	return strings.Join(parts, " ")
}

// envInt reads a positive integer from the environment.
func envInt(b *testing.B, name string, def int) int {
	b.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// envDuration reads a duration ("120s") from the environment.
func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	b.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		b.Fatalf("%s=%q: want a positive duration such as 120s", name, v)
	}
	return d
}

// result prints a benchmark's figures as one human-readable line on
// stdout (it shows even without -v) and in the benchmark's log.
func result(b *testing.B, format string, args ...any) {
	b.Helper()
	line := fmt.Sprintf(format, args...)
	fmt.Printf("RESULT %s: %s\n", b.Name(), line)
	b.Log(line)
}
