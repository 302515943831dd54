// Package deadletter keeps what a backend refused for good, with the reason,
// in a JSON-lines file an operator can inspect and replay. Exporters use it
// so that a permanent rejection is never a silent drop.
package deadletter

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Config is the dead-letter destination of an exporter.
type Config struct {
	// Path of the JSON-lines file. Empty disables the file: rejected items
	// are then only logged and counted.
	Path string `mapstructure:"path"`
	// MaxSizeMiB caps the file; when a write would pass it, the file is
	// renamed to Path + ".1" (replacing an older one) and a new file
	// started, so a flood of rejects cannot fill the disk. 0 means 100.
	MaxSizeMiB int `mapstructure:"max_size_mib"`
}

// Validate checks the settings without touching the file system.
func (c Config) Validate() error {
	if c.MaxSizeMiB < 0 {
		return errors.New("dead_letter::max_size_mib must not be negative")
	}
	return nil
}

// Entry is one rejected item.
type Entry struct {
	Time     time.Time `json:"time"`
	Exporter string    `json:"exporter"`
	Status   int       `json:"status,omitempty"`
	Reason   string    `json:"reason"`
	ID       string    `json:"id,omitempty"`
	// Target is where the record was headed (an Elasticsearch data stream
	// or index), when the exporter knows one.
	Target   string          `json:"target,omitempty"`
	Document json.RawMessage `json:"document"`
}

// Writer appends entries to the file. It is safe for concurrent use.
type Writer struct {
	mu      sync.Mutex
	path    string
	max     int64
	f       *os.File
	w       *bufio.Writer
	size    int64
	written int64
}

// Open opens (creating if needed) the dead-letter file. A nil *Writer is
// valid and writes nothing, for configs without a path.
func Open(cfg Config) (*Writer, error) {
	if cfg.Path == "" {
		return nil, nil
	}
	max := int64(cfg.MaxSizeMiB) << 20
	if max == 0 {
		max = 100 << 20
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o750); err != nil {
		return nil, fmt.Errorf("dead-letter directory: %w", err)
	}
	w := &Writer{path: cfg.Path, max: max}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Writer) open() error {
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("dead-letter file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("dead-letter file: %w", err)
	}
	w.f, w.w, w.size = f, bufio.NewWriterSize(f, 64<<10), st.Size()
	return nil
}

// Write appends entries and flushes them to the operating system before it
// returns, so a crash after an exporter counted them as dead-lettered
// cannot lose them.
func (w *Writer) Write(entries ...Entry) error {
	if w == nil || len(entries) == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return errors.New("dead-letter file is closed")
	}
	for _, e := range entries {
		if len(e.Document) == 0 || !json.Valid(e.Document) {
			// Keep what was refused even when it is not JSON.
			raw, _ := json.Marshal(string(e.Document))
			e.Document = raw
		}
		line, err := json.Marshal(e)
		if err != nil {
			return err
		}
		line = append(line, '\n')
		if w.size > 0 && w.size+int64(len(line)) > w.max {
			if err := w.rotate(); err != nil {
				return err
			}
		}
		n, err := w.w.Write(line)
		w.size += int64(n)
		if err != nil {
			return fmt.Errorf("dead-letter file: %w", err)
		}
		w.written++
	}
	return w.w.Flush()
}

func (w *Writer) rotate() error {
	if err := w.w.Flush(); err != nil {
		return err
	}
	if err := w.f.Close(); err != nil {
		return err
	}
	if err := os.Rename(w.path, w.path+".1"); err != nil {
		return fmt.Errorf("dead-letter rotation: %w", err)
	}
	return w.open()
}

// Written is how many entries this writer has stored.
func (w *Writer) Written() int64 {
	if w == nil {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.written
}

// Close flushes and closes the file. It is safe to call more than once and
// on a nil Writer.
func (w *Writer) Close() error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.w.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	return err
}
