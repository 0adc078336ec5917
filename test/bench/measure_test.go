package bench

import (
	"fmt"
	"os"
	"runtime"
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
func medianMax[T ~int64 | ~float64](ds []T) (median, max T) {
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

// median is the median of xs (see medianMax).
func median(xs []float64) float64 {
	m, _ := medianMax(xs)
	return m
}

// fmtFloats lists xs with prec decimals, for the log.
func fmtFloats(xs []float64, prec int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatFloat(x, 'f', prec, 64)
	}
	return strings.Join(parts, " ")
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

// note prints a progress line on stdout at once. (A benchmark's own log is
// cut to ten lines when it passes, and shown only at its end.)
func note(b *testing.B, format string, args ...any) {
	fmt.Printf("%s %s: %s\n", time.Now().Format("15:04:05.000"), b.Name(), fmt.Sprintf(format, args...))
}

// machineCPU returns the busy, stolen and total CPU seconds of the whole
// machine so far (the first line of /proc/stat; idle and iowait count as
// not busy; steal, the time the hypervisor gave the machine's CPUs to
// someone else, counts as busy and is also returned alone).
func machineCPU() (busy, steal, total float64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	for i, v := range f[1:] {
		n, _ := strconv.ParseFloat(v, 64)
		if i >= 8 { // guest times are already counted in user
			break
		}
		total += n
		if i != 3 && i != 4 {
			busy += n
		}
		if i == 7 {
			steal = n
		}
	}
	return busy / clkTck, steal / clkTck, total / clkTck
}

// processCPU returns the CPU seconds so far of this process ("benchmark")
// and of each of its children by command name (etcd, kube-apiserver,
// tether, ...): where a machine's CPU went.
func processCPU() map[string]float64 {
	out := map[string]float64{}
	self := os.Getpid()
	if s, err := readProc(self); err == nil {
		out["benchmark"] = s.cpu
	}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(stat)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) < 13 || f[1] != strconv.Itoa(self) {
			continue
		}
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		out[s[open+1:end]] += (ut + st) / clkTck
	}
	return out
}

// cpuSince lists the CPU seconds each process used since before, the
// largest first.
func cpuSince(now, before map[string]float64) string {
	names := make([]string, 0, len(now))
	for k := range now {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int { return cmpFloat(now[b]-before[b], now[a]-before[a]) })
	parts := make([]string, 0, len(names))
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("%s %.1f s", k, now[k]-before[k]))
	}
	return strings.Join(parts, ", ")
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cpuWindow accounts where the machine's CPU went from its start.
type cpuWindow struct {
	start              time.Time
	busy, steal, total float64
	procs              map[string]float64
}

func startCPUWindow() cpuWindow {
	busy, steal, total := machineCPU()
	return cpuWindow{start: time.Now(), busy: busy, steal: steal, total: total, procs: processCPU()}
}

// String tells how busy the machine was since the start and which process
// used how much: the benchmark's processes, and the rest of the machine's
// (other work on a shared machine slows the figures down).
func (w cpuWindow) String() string {
	busy, steal, total := machineCPU()
	procs := processCPU()
	var ours float64
	for k, v := range procs {
		ours += v - w.procs[k]
	}
	return fmt.Sprintf("machine %.0f%% busy (of %d cores) over %s; CPU seconds by process: %s; other processes on the machine %.1f s; stolen by the hypervisor %.1f s",
		100*(busy-w.busy)/(total-w.total), runtime.NumCPU(), time.Since(w.start).Round(100*time.Millisecond),
		cpuSince(procs, w.procs), (busy-w.busy)-ours-(steal-w.steal), steal-w.steal)
}
