package intuneconnectorreceiver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/evtx"
)

// fingerprintSize is how many leading bytes of a stream file identify its
// content: enough to cover the first event's System section, so a file
// truncated and rewritten in place, or a reused inode, is told apart.
const fingerprintSize = 1024

// Record attributes for file sources (ECS and OpenTelemetry share them).
const (
	attrLogFileName = "log.file.name"
	attrLogFilePath = "log.file.path"
)

// fileCheckpoint is what is stored per file, under fileKeyPrefix + identity.
type fileCheckpoint struct {
	Path   string `json:"path"`
	Format string `json:"format"`
	// Offset is the byte just past the last delivered event (XML, JSON).
	Offset int64 `json:"offset,omitempty"`
	// Record is the highest EVTX record number delivered.
	Record uint64 `json:"record,omitempty"`
	// FP is a hash of the first FPLen bytes (stream formats only: an EVTX
	// header changes with every write).
	FPLen int    `json:"fp_len,omitempty"`
	FP    string `json:"fp,omitempty"`
}

const fileKeyPrefix = "file/"

func (c fileCheckpoint) marshal() []byte {
	b, _ := json.Marshal(c) // only strings and numbers: cannot fail
	return b
}

// parseCheckpoint reads a stored checkpoint, rejecting values that cannot
// be one (written by another version, or damaged).
func parseCheckpoint(b []byte) (fileCheckpoint, error) {
	var c fileCheckpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return fileCheckpoint{}, fmt.Errorf("stored checkpoint is not valid: %w", err)
	}
	switch wineventlog.Format(c.Format) {
	case wineventlog.FormatXML, wineventlog.FormatJSON, wineventlog.FormatEVTX:
	default:
		return fileCheckpoint{}, fmt.Errorf("stored checkpoint has unknown format %q", c.Format)
	}
	if c.Offset < 0 || c.FPLen < 0 || c.FPLen > fingerprintSize || (c.FPLen > 0) != (c.FP != "") {
		return fileCheckpoint{}, errors.New("stored checkpoint has impossible values")
	}
	return c, nil
}

func fingerprint(head []byte) string {
	sum := sha256.Sum256(head)
	return hex.EncodeToString(sum[:16])
}

type stamp struct {
	size int64
	mod  time.Time
}

type fileState struct {
	key  string
	path string
	// cp is how far the file was read and handed to the pipeline; the
	// same value reaches storage only once the pipeline accepted it, so a
	// restart resumes from the last accepted batch.
	cp  fileCheckpoint
	has bool // cp is valid
	// read is the stamp of the file when it was last read to its end;
	// an unchanged stamp means there is nothing new.
	read stamp
	// bad is the stamp at which the file could not be read as events; it
	// is tried again once it changes.
	bad  stamp
	seen int
	// tailSince is when the file was first seen ending inside an event
	// without growing.
	tailSince time.Time
}

type fileSource struct {
	r     *intuneReceiver
	cfg   *Config
	now   func() time.Time
	pass  int
	first bool
	// tailTimeout is how long a file may end inside an event before the
	// partial event is reported and passed over.
	tailTimeout time.Duration

	// out carries batches to deliverAll; one may wait while another is
	// delivered, which bounds memory to about three batches.
	out chan *batch

	states map[string]*fileState // by storage key
	byPath map[string]string     // path -> key, from the last pass
	// refused holds the paths already reported as impossible to read (not
	// a regular file, cannot be opened), so each is counted once, not at
	// every poll.
	refused map[string]bool
}

func newFileSource(r *intuneReceiver) *fileSource {
	tail := r.tailTimeout
	if tail <= 0 {
		tail = max(30*time.Second, 5*r.cfg.PollInterval)
	}
	return &fileSource{
		r: r, cfg: r.cfg, now: time.Now, first: true,
		tailTimeout: tail,
		out:         make(chan *batch, 1),
		states:      map[string]*fileState{}, byPath: map[string]string{},
	}
}

func (s *fileSource) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { s.deliverAll(ctx) })
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for {
		s.poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// poll reads every matching file's new events and flushes the last batch.
func (s *fileSource) poll(ctx context.Context) {
	s.pass++
	paths, complete := s.match()
	b := s.r.newBatch(sourceFile)
	byPath := make(map[string]string, len(paths))
	for _, p := range paths {
		if ctx.Err() != nil {
			return
		}
		key, err := s.readFile(ctx, p, &b)
		if err != nil {
			return // shutting down; nothing was committed for the unsent batch
		}
		if key != "" {
			byPath[p] = key
		}
	}
	if complete {
		for key, st := range s.states {
			if st.seen == s.pass {
				continue
			}
			s.r.logger.Info("file is gone; forgetting its checkpoint", zap.String("path", st.path))
			delete(s.states, key)
			b.setCheckpoint(key, nil)
		}
	}
	s.byPath = byPath
	if !b.empty() {
		if err := s.send(ctx, b); err != nil {
			return
		}
	}
	s.first = false
}

// match expands the include globs, drops excluded paths and returns them
// sorted. complete is false when a glob failed, so that missing files are
// not taken for deleted ones.
func (s *fileSource) match() ([]string, bool) {
	seen := map[string]bool{}
	complete := true
	for _, g := range s.cfg.Include {
		m, err := filepath.Glob(g)
		if err != nil {
			complete = false
			s.r.warn.Warn("glob/"+g, "include glob failed", zap.String("glob", g), zap.Error(err))
			continue
		}
	next:
		for _, p := range m {
			for _, ex := range s.cfg.Exclude {
				if ok, _ := filepath.Match(ex, p); ok {
					continue next
				}
			}
			seen[p] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, complete
}

// readFile reads the new events of one file into *bp, flushing full
// batches. It returns the file's key (empty when it was not opened) and an
// error only when ctx ended.
func (s *fileSource) readFile(ctx context.Context, path string, bp **batch) (string, error) {
	// Opening a FIFO blocks until something writes to it, and a device or
	// socket never ends: only regular files are opened at all.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		if !fi.IsDir() && s.refuse(ctx, path) {
			s.r.warn.Warn("special/"+path, "not a regular file (a FIFO, socket or device); it is skipped, set exclude to silence this",
				zap.String("path", path), zap.Stringer("mode", fi.Mode()))
		}
		return "", nil
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// The glob matched it, so the name exists: a symbolic link whose
			// target is gone (an export moved, a share not mounted).
			if li, lerr := os.Lstat(path); lerr == nil && li.Mode()&fs.ModeSymlink != 0 && s.refuse(ctx, path) {
				target, _ := os.Readlink(path)
				s.r.warn.Warn("dangling/"+path, "symbolic link to a file that does not exist; it is read once the target appears (set exclude to silence this)",
					zap.String("path", path), zap.String("target", target))
			}
		} else {
			s.refuse(ctx, path)
			s.r.warn.Warn("open/"+path, "cannot open file; it is tried again at the next poll", zap.String("path", path), zap.Error(err))
			if key, ok := s.byPath[path]; ok {
				if st := s.states[key]; st != nil {
					st.seen = s.pass
				}
				return key, nil
			}
		}
		return "", nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.IsDir() || !fi.Mode().IsRegular() {
		return "", nil
	}
	id := fileIdentity(f, fi)
	if id == "" {
		// No file ID on this OS: the path stands in, and the fingerprint
		// tells a replaced file apart.
		id = "path-" + path
	}
	key := fileKeyPrefix + id
	cur := stamp{fi.Size(), fi.ModTime()}

	st := s.states[key]
	if st != nil && st.seen == s.pass {
		return key, nil // another name of a file already read in this pass
	}
	head := make([]byte, min(fi.Size(), fingerprintSize))
	if n, err := f.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		s.r.warn.Warn("read/"+path, "cannot read file; it is tried again at the next poll", zap.String("path", path), zap.Error(err))
		if st != nil {
			st.seen = s.pass
		}
		return key, nil
	} else {
		head = head[:n]
	}
	if st == nil {
		st = &fileState{key: key}
		if err := s.load(ctx, st, head); err != nil {
			return key, err
		}
		s.states[key] = st
	}
	st.seen = s.pass
	if st.path != path && st.path != "" {
		s.r.logger.Info("file was renamed; reading on from its checkpoint", zap.String("from", st.path), zap.String("to", path))
	}
	st.path = path
	if cur == st.read || cur == st.bad {
		return key, s.checkTail(ctx, st, cur, bp)
	}
	st.tailSince = time.Time{}

	format := wineventlog.Format(st.cp.Format)
	if !st.has {
		format = s.cfg.Format.decoderFormat()
		if format == wineventlog.FormatUnknown {
			if len(head) == 0 {
				return key, nil // empty for now: decide once something is written
			}
			var prefix []byte
			format, prefix = detectFile(f, head)
			if format == wineventlog.FormatUnknown {
				s.unreadable(ctx, st, cur, wineventlog.Unrecognised(prefix))
				return key, nil
			}
		}
		st.cp = fileCheckpoint{Path: path, Format: string(format)}
		if s.first && s.cfg.StartAt == StartAtEnd {
			if err := s.skipToEnd(ctx, f, st, cur, head, bp); err != nil {
				return key, err
			}
			st.read = cur
			return key, nil
		}
	}
	if format == wineventlog.FormatEVTX {
		err = s.readEVTX(ctx, f, st, cur, bp)
	} else {
		err = s.readStream(ctx, f, st, cur, head, bp)
	}
	return key, err
}

// detectFile decides the format from the first 4 KiB, and returns them.
func detectFile(f *os.File, head []byte) (wineventlog.Format, []byte) {
	buf := make([]byte, 4096)
	n, _ := f.ReadAt(buf, 0)
	if n < len(head) {
		n = copy(buf, head)
	}
	return wineventlog.Detect(buf[:n]), buf[:n]
}

// load fetches the stored checkpoint of a file first seen in this run, and
// checks that the content still is the file it was written for.
func (s *fileSource) load(ctx context.Context, st *fileState, head []byte) error {
	data, err := s.r.client.Get(ctx, st.key)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.r.warn.Warn("storage-get", "cannot read a checkpoint from storage; the file is read as if new", zap.String("key", st.key), zap.Error(err))
		return nil
	}
	if data == nil {
		return nil
	}
	cp, err := parseCheckpoint(data)
	if err != nil {
		s.r.logger.Warn("ignoring a checkpoint that cannot be read; the file is read as if new", zap.String("key", st.key), zap.Error(err))
		return nil
	}
	if cp.FPLen > 0 && (len(head) < cp.FPLen || fingerprint(head[:cp.FPLen]) != cp.FP) {
		s.r.logger.Info("a checkpoint exists for this file ID but the content differs (the ID was reused); reading the file as new",
			zap.String("key", st.key), zap.String("checkpoint_path", cp.Path))
		return nil
	}
	st.cp, st.has = cp, true
	return nil
}

// refuse counts a path that cannot be read as a decode error of unknown
// format, once per path; it reports whether this was the first time.
func (s *fileSource) refuse(ctx context.Context, path string) bool {
	if s.refused == nil {
		s.refused = map[string]bool{}
	}
	if s.refused[path] {
		return false
	}
	s.refused[path] = true
	s.r.tel.decodeError(ctx, "unknown")
	return true
}

func (s *fileSource) unreadable(ctx context.Context, st *fileState, cur stamp, err error) {
	st.bad = cur
	s.r.tel.decodeError(ctx, "unknown")
	s.r.warn.Warn("decode/"+st.path, "file is not an event export this receiver reads; it is tried again when it changes (set exclude to skip it)",
		zap.String("path", st.path), zap.Error(err))
}

// skipToEnd writes a checkpoint at the current end of a file found on the
// first poll with start_at: end, so that a restart does not jump again past
// events written in between.
func (s *fileSource) skipToEnd(ctx context.Context, f *os.File, st *fileState, cur stamp, head []byte, bp **batch) error {
	cp := st.cp
	if cp.Format == string(wineventlog.FormatEVTX) {
		rd, err := evtx.NewReader(f, cur.size, evtx.Options{NoOriginal: true})
		if err != nil {
			s.unreadable(ctx, st, cur, err)
			return nil
		}
		for {
			rec, err := rd.Next()
			if err == io.EOF {
				break
			}
			var de *wineventlog.DecodeError
			if errors.As(err, &de) {
				continue
			}
			if err != nil {
				break
			}
			cp.Record = max(cp.Record, rec.Position.RecordNumber)
		}
	} else {
		cp.Offset = cur.size
		cp.FPLen, cp.FP = len(head), fingerprint(head)
	}
	st.cp, st.has = cp, true
	(*bp).setCheckpoint(st.key, cp.marshal())
	return nil
}

// checkTail handles a file that ends inside an event and has stopped
// growing: after tailTimeout the partial event is reported as damage and
// passed over.
func (s *fileSource) checkTail(ctx context.Context, st *fileState, cur stamp, bp **batch) error {
	if st.tailSince.IsZero() || cur != st.read || s.now().Sub(st.tailSince) < s.cfg.PollInterval+s.tailTimeout {
		return nil
	}
	st.tailSince = time.Time{}
	cp := st.cp
	s.r.tel.decodeError(ctx, cp.Format)
	s.r.warn.Warn("decode/"+st.path, "file ends inside an event and has not grown; the partial event is passed over",
		zap.String("path", st.path), zap.Int64("offset", cp.Offset), zap.Int64("end", cur.size))
	cp.Offset = cur.size
	st.cp = cp
	(*bp).setCheckpoint(st.key, cp.marshal())
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readStream reads XML or JSON events after the checkpoint's offset.
func (s *fileSource) readStream(ctx context.Context, f *os.File, st *fileState, cur stamp, head []byte, bp **batch) error {
	cp := st.cp
	if st.has {
		switch {
		case cur.size < cp.Offset:
			s.r.logger.Info("file is shorter than what was read (truncated); reading it from the start", zap.String("path", st.path),
				zap.Int64("size", cur.size), zap.Int64("offset", cp.Offset))
			cp.Offset = 0
		case cp.FPLen > 0 && (len(head) < cp.FPLen || fingerprint(head[:cp.FPLen]) != cp.FP):
			s.r.logger.Info("file content was replaced in place; reading it from the start", zap.String("path", st.path))
			cp.Offset = 0
		}
		if cp.Offset == 0 && s.cfg.Format == FormatAuto {
			// A file read again from its start may now hold another format.
			if found, _ := detectFile(f, head); found == wineventlog.FormatXML || found == wineventlog.FormatJSON {
				cp.Format = string(found)
			}
		}
	}
	cp.Path = st.path
	cp.FPLen, cp.FP = len(head), fingerprint(head)
	if _, err := f.Seek(cp.Offset, io.SeekStart); err != nil {
		s.r.warn.Warn("read/"+st.path, "cannot seek in file", zap.String("path", st.path), zap.Error(err))
		return nil
	}
	cr := &countingReader{r: f}
	dec, err := wineventlog.NewDecoder(cr, wineventlog.Options{
		Format: wineventlog.Format(cp.Format), MaxEventSize: s.cfg.MaxEventSize, NoOriginal: !s.cfg.Enrichment.IncludeOriginal,
	})
	if err != nil {
		if cp.Offset == 0 {
			s.unreadable(ctx, st, cur, err)
		} else {
			s.r.warn.Warn("read/"+st.path, "cannot read file", zap.String("path", st.path), zap.Error(err))
		}
		return nil
	}
	base := cp.Offset
	defer func() { s.r.tel.bytes.Add(ctx, cr.n, s.r.tel.src(sourceFile)) }()
	tail, failed := false, false
	var held error // a damage report that may be the end of the input
	for {
		rec, err := dec.Next()
		if held != nil {
			de := held.(*wineventlog.DecodeError)
			held = nil
			if err == io.EOF {
				// The input ends inside this event: the writer may not
				// have finished it. Wait for more before calling it damage.
				tail = true
				break
			}
			s.damaged(ctx, st, &cp, base, de)
		}
		if err == io.EOF {
			break
		}
		var de *wineventlog.DecodeError
		if errors.As(err, &de) {
			if de.End >= cr.n {
				held = de
				continue
			}
			s.damaged(ctx, st, &cp, base, de)
			continue
		}
		if err != nil {
			s.r.warn.Warn("read/"+st.path, "reading file failed; it is tried again at the next poll", zap.String("path", st.path), zap.Error(err))
			failed = true
			break
		}
		if err := s.add(ctx, st, bp, &rec.Event, &cp, base+rec.Position.End, 0); err != nil {
			return err
		}
	}
	s.stage(*bp, st, cp)
	switch {
	case tail && st.tailSince.IsZero():
		st.tailSince = s.now()
	case !tail:
		st.tailSince = time.Time{}
	}
	if !failed {
		st.read = cur
	}
	return nil
}

func (s *fileSource) damaged(ctx context.Context, st *fileState, cp *fileCheckpoint, base int64, de *wineventlog.DecodeError) {
	s.r.tel.decodeError(ctx, cp.Format)
	s.r.warn.Warn("decode/"+st.path, "damaged event passed over; the events around it are read",
		zap.String("path", st.path), zap.Int64("offset", base+de.Offset), zap.Error(de))
	cp.Offset = base + de.End
}

// readEVTX reads the records of an EVTX file numbered above the checkpoint.
// Windows rewrites these files in place and wraps them around, so the
// record number, not a byte offset, says what was delivered.
func (s *fileSource) readEVTX(ctx context.Context, f *os.File, st *fileState, cur stamp, bp **batch) error {
	cp := st.cp
	cp.Path = st.path
	rd, err := evtx.NewReader(f, cur.size, evtx.Options{SkipThrough: cp.Record, NoOriginal: !s.cfg.Enrichment.IncludeOriginal})
	if err != nil {
		s.unreadable(ctx, st, cur, err)
		return nil
	}
	// While records come in increasing order the checkpoint can follow
	// them; in a wrapped file it may move only once the whole file is read.
	inOrder := true
	highest, last := cp.Record, cp.Record
	complete := true
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		var de *wineventlog.DecodeError
		if errors.As(err, &de) {
			s.r.tel.decodeError(ctx, cp.Format)
			s.r.warn.Warn("decode/"+st.path, "damaged EVTX data passed over; the records around it are read",
				zap.String("path", st.path), zap.Int64("offset", de.Offset), zap.Error(de))
			continue
		}
		if err != nil {
			s.r.warn.Warn("read/"+st.path, "reading file failed; it is tried again at the next poll", zap.String("path", st.path), zap.Error(err))
			complete = false
			break
		}
		n := rec.Position.RecordNumber
		if n < last {
			inOrder = false
		}
		last = n
		highest = max(highest, n)
		var commitTo uint64
		if inOrder {
			commitTo = highest
		}
		if err := s.add(ctx, st, bp, &rec.Event, &cp, 0, commitTo); err != nil {
			return err
		}
	}
	if complete {
		cp.Record = highest
	}
	s.r.tel.bytes.Add(ctx, int64(rd.Stats().Chunks-rd.Stats().EmptyChunks)*64<<10, s.r.tel.src(sourceFile))
	s.stage(*bp, st, cp)
	if complete {
		st.read = cur
	}
	return nil
}

// add puts one event into the batch and moves the file's pending checkpoint
// to just after it (offset for streams, record number for EVTX, 0 to keep
// it); a full or old batch is delivered first.
func (s *fileSource) add(ctx context.Context, st *fileState, bp **batch, ev *wineventlog.Event, cp *fileCheckpoint, offset int64, record uint64) error {
	b := *bp
	now := s.now()
	s.r.add(b, ev, st.path, now)
	if offset > 0 {
		cp.Offset = offset
	}
	if record > 0 {
		cp.Record = record
	}
	if b.n >= s.cfg.MaxBatchSize || now.Sub(b.first) >= s.cfg.MaxBatchDelay {
		s.stage(b, st, *cp)
		if err := s.send(ctx, b); err != nil {
			return err
		}
		*bp = s.r.newBatch(sourceFile)
	}
	return nil
}

// stage makes cp the file's checkpoint once the batch is accepted.
func (s *fileSource) stage(b *batch, st *fileState, cp fileCheckpoint) {
	if st.has && cp == st.cp {
		return
	}
	st.cp, st.has = cp, true
	b.setCheckpoint(st.key, cp.marshal())
}

// send hands a batch to the delivering goroutine, which enriches it while
// the next one is decoded.
func (s *fileSource) send(ctx context.Context, b *batch) error {
	select {
	case s.out <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// deliverAll delivers batches in order until ctx ends.
func (s *fileSource) deliverAll(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-s.out:
			if err := s.r.deliver(ctx, b); err != nil {
				return
			}
		}
	}
}
