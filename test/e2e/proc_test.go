//go:build linux

package e2e

import (
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/testutil"

	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is a process under test: its output goes to a log file that is
// shown when the test fails, and it is stopped when the test ends.
type proc struct {
	t       *testing.T
	name    string
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	done    chan struct{}
	mu      sync.Mutex
	state   *os.ProcessState
}

// startProc runs bin with args in dir, its output appended to
// <name>.log in logDir (so a restarted process keeps one log).
func startProc(t *testing.T, name, logDir, dir string, env []string, bin string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(logDir, name+".log")
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(lf, "==== %s start: %s %s\n", time.Now().Format(time.RFC3339Nano), bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = lf, lf
	// The kernel kills it if the test binary dies (timeout panic, ^C).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{t: t, name: name, cmd: cmd, logPath: logPath, logFile: lf, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		p.mu.Lock()
		p.state = cmd.ProcessState
		p.mu.Unlock()
		lf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		if p.running() {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(15 * time.Second):
				t.Errorf("%s did not stop within 15 s of SIGTERM; killed", name)
				p.kill()
			}
		}
		if t.Failed() {
			t.Logf("---- %s log (tail) ----\n%s", name, tail(p.log(), 8000))
		}
	})
	return p
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and waits; a process that does not exit in time is
// killed and the test fails.
func (p *proc) stop(timeout time.Duration) {
	p.t.Helper()
	if !p.running() {
		p.t.Fatalf("%s exited before it was stopped: %v", p.name, p.exitState())
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.kill()
		p.t.Fatalf("%s did not stop within %s of SIGTERM; killed", p.name, timeout)
	}
	if st := p.exitState(); st == nil || !st.Success() {
		p.t.Errorf("%s exited with %v after SIGTERM, want 0", p.name, st)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *proc) exitState() *os.ProcessState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

func (p *proc) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// alive fails the test when the process has exited.
func (p *proc) alive() {
	p.t.Helper()
	if !p.running() {
		p.t.Fatalf("%s exited unexpectedly: %v", p.name, p.exitState())
	}
}

// waitLog waits until the log contains s.
func (p *proc) waitLog(s string, timeout time.Duration) {
	p.t.Helper()
	waitFor(p.t, timeout, fmt.Sprintf("%s to log %q", p.name, s), func() bool {
		p.alive()
		return strings.Contains(p.log(), s)
	})
}

// memory is what /proc/PID/status says about the process's resident set,
// in KiB: current, its anonymous part, and the high-water mark.
func (p *proc) memory() (rss, anon, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid()))
	if err != nil {
		return 0, 0, 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss, _ = strconv.ParseInt(f[1], 10, 64)
		case "VmHWM:":
			hwm, _ = strconv.ParseInt(f[1], 10, 64)
		case "RssAnon:":
			anon, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return rss, anon, hwm, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.WaitFor(t, timeout, what, cond)
}

// waitSettled polls n every 100 ms until it has not changed for quiet (and
// is at least min), and returns it. It fails after timeout.
func waitSettled(t *testing.T, timeout, quiet time.Duration, what string, min int, n func() int) int {
	t.Helper()
	return waitSettledEvery(t, timeout, quiet, 100*time.Millisecond, what, min, n)
}

func waitSettledEvery(t *testing.T, timeout, quiet, every time.Duration, what string, min int, n func() int) int {
	t.Helper()
	return testutil.Settled(t, timeout, quiet, every, what, min, n)
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}
