//go:build unix

package intuneconnectorreceiver

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
)

// A FIFO among the exports must not block the receiver: opening one waits
// for a writer forever. It is skipped and counted once, and the files after
// it are read.
func TestFIFOIsSkipped(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "a-fifo.xml"), 0o644); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b-events.xml"), wevtutilXML(0, 5), 0o644); err != nil {
		t.Fatal(err)
	}
	sink := new(consumertest.LogsSink)
	st := startReceiver(t, testConfig(dir), sink, nopHost())
	waitFor(t, "the events after the FIFO", func() bool { return sink.LogRecordCount() == 5 })
	st.settled(t)
	if n := st.counter(t, "otelcol_intune_receiver_decode_errors"); n != 1 {
		t.Errorf("decode_errors = %d, want the FIFO counted once", n)
	}
	st.stop(t) // must not hang
}

// A symbolic link whose target is gone is counted once and skipped; once
// the target appears, its events are read.
func TestDanglingSymlink(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	target := filepath.Join(elsewhere, "moved.xml")
	if err := os.Symlink(target, filepath.Join(dir, "a-link.xml")); err != nil {
		t.Skipf("cannot make a symlink here: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b-events.xml"), wevtutilXML(0, 5), 0o644); err != nil {
		t.Fatal(err)
	}
	sink := new(consumertest.LogsSink)
	st := startReceiver(t, testConfig(dir), sink, nopHost())
	waitFor(t, "the events after the link", func() bool { return sink.LogRecordCount() == 5 })
	st.settled(t)
	if n := st.counter(t, "otelcol_intune_receiver_decode_errors"); n != 1 {
		t.Errorf("decode_errors = %d, want the dangling link counted once", n)
	}
	if err := os.WriteFile(target, wevtutilXML(100, 3), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the events of the link's target", func() bool { return sink.LogRecordCount() == 8 })
	st.stop(t)
}
