package intuneconnectorreceiver

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/batch"
	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/checkpoint"
	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/fileid"
	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/filereader"
	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/matcher"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// Record attributes for file sources (ECS and OpenTelemetry share them).
const (
	attrLogFileName = "log.file.name"
	attrLogFilePath = "log.file.path"
)

// forgetAfter is how many polls in a row a file must be missing before it
// is taken for deleted. A file renamed while a poll lists its folder is
// missing from that one poll, and must keep its checkpoint: otherwise it
// is looked up in storage under its new name, where the checkpoint of the
// batch still on its way through the pipeline is not yet written, and is
// read again from its start.
const forgetAfter = 3

type stamp struct {
	size int64
	mod  time.Time
}

// fileState is what the file source knows about one file (one identity).
type fileState struct {
	key  string
	path string
	// cp is how far the file was read and handed to the pipeline; the
	// same value reaches storage only once the pipeline accepted it, so a
	// restart resumes from the last accepted batch.
	cp  checkpoint.Record
	has bool // cp is valid
	// read is the stamp of the file when it was last read to its end;
	// an unchanged stamp means there is nothing new.
	read stamp
	// bad is the stamp at which the file could not be read as events; it
	// is tried again once it changes.
	bad stamp
	// seen is the last poll that listed the file; missing counts the
	// complete polls since that did not.
	seen, missing int
	// tailSince is when the file was first seen ending inside an event
	// without growing.
	tailSince time.Time
}

// fileSource reads the files the include globs match, at every poll: the
// tracker of known files (by identity) and the glue between matcher,
// readers, batcher and the pipeline.
type fileSource struct {
	r     *intuneReceiver
	cfg   *Config
	now   func() time.Time
	pass  int
	first bool
	// tailTimeout is how long a file may end inside an event before the
	// partial event is reported and passed over.
	tailTimeout time.Duration

	match   *matcher.Matcher
	opts    filereader.Options
	batcher *batch.Batcher
	// out carries batches to deliverAll; one may wait while another is
	// delivered, which bounds memory to about three batches.
	out chan *batch.Batch

	states map[string]*fileState // by storage key
	byPath map[string]string     // path -> key, from the last poll
	// forgotten maps the key of a file forgotten in this run to the count
	// of batches sent before the one deleting its checkpoint. Until that
	// deletion is stored, a file coming back under the key is a new file
	// without asking storage, so that it does not depend on how fast the
	// pipeline is.
	forgotten map[string]int
	sent      int // batches handed to deliverAll
	// refused holds the paths already reported as impossible to read (not
	// a regular file, cannot be opened), so each is counted once, not at
	// every poll.
	refused map[string]bool

	// polls counts completed polls and inFlight the batches handed on but
	// not yet delivered: together they tell tests that nothing more comes.
	polls    atomic.Int64
	inFlight atomic.Int64
}

func newFileSource(r *intuneReceiver) *fileSource {
	tail := r.tailTimeout
	if tail <= 0 {
		tail = max(30*time.Second, 5*r.cfg.PollInterval)
	}
	s := &fileSource{
		r: r, cfg: r.cfg, now: time.Now, first: true,
		tailTimeout: tail,
		match:       matcher.New(r.cfg.Include, r.cfg.Exclude),
		opts: filereader.Options{
			Format: r.cfg.Format.decoderFormat(), MaxEventSize: r.cfg.MaxEventSize, NoOriginal: !r.cfg.Enrichment.IncludeOriginal,
		},
		out:    make(chan *batch.Batch, 1),
		states: map[string]*fileState{}, byPath: map[string]string{}, refused: map[string]bool{},
		forgotten: map[string]int{},
	}
	s.batcher = batch.NewBatcher(sourceFile, r.cfg.MaxBatchSize, r.cfg.MaxBatchDelay, s.send)
	return s
}

func (s *fileSource) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { s.deliverAll(ctx) })
	wait := s.r.betweenPolls
	if wait == nil {
		t := time.NewTicker(s.cfg.PollInterval)
		defer t.Stop()
		wait = func(ctx context.Context) bool {
			select {
			case <-ctx.Done():
				return false
			case <-t.C:
				return true
			}
		}
	}
	for {
		s.poll(ctx)
		if !wait(ctx) {
			return
		}
	}
}

// poll reads every matching file's new events and flushes the last batch.
func (s *fileSource) poll(ctx context.Context) {
	s.pass++
	paths, failed := s.match.Match()
	for _, g := range failed {
		s.r.warn.Warn("glob/"+g.Glob, "include glob failed", zap.String("glob", g.Glob), zap.Error(g.Err))
	}
	byPath := make(map[string]string, len(paths))
	for _, p := range paths {
		if ctx.Err() != nil {
			return
		}
		key, err := s.readFile(ctx, p)
		if err != nil {
			return // shutting down; nothing was committed for the unsent batch
		}
		if key != "" {
			byPath[p] = key
		}
	}
	// A failed glob may have hidden files that exist: none is missing then.
	if len(failed) == 0 {
		s.forgetMissing()
	}
	s.byPath = byPath
	if err := s.batcher.Flush(ctx); err != nil {
		return
	}
	s.first = false
	s.polls.Add(1)
}

// forgetMissing drops the files missing from forgetAfter complete polls
// in a row, and their checkpoints from storage.
func (s *fileSource) forgetMissing() {
	for key, st := range s.states {
		if st.seen == s.pass {
			continue
		}
		if st.missing++; st.missing < forgetAfter {
			continue
		}
		s.r.logger.Info("file is gone; forgetting its checkpoint", zap.String("path", st.path))
		delete(s.states, key)
		s.batcher.SetCheckpoint(key, nil)
		s.forgotten[key] = s.sent
	}
	// The batch sent after n was taken by deliverAll only once batch n was
	// delivered and its checkpoints written (out holds one batch): so the
	// deletion in batch n+1 is stored once batch n+3 has been sent.
	for key, n := range s.forgotten {
		if s.sent >= n+3 {
			delete(s.forgotten, key)
		}
	}
}

func (s *fileSource) markSeen(st *fileState) {
	st.seen, st.missing = s.pass, 0
}

// readFile reads the new events of one file into the batcher. It returns
// the file's key (empty when it was not opened) and an error only when ctx
// ended.
func (s *fileSource) readFile(ctx context.Context, path string) (string, error) {
	f, fi, failed := s.open(ctx, path)
	if f == nil {
		// A file that exists but cannot be opened now keeps its state.
		if key, ok := s.byPath[path]; ok && failed {
			if st := s.states[key]; st != nil {
				s.markSeen(st)
			}
			return key, nil
		}
		return "", nil
	}
	defer f.Close()
	key := checkpoint.Key(fileid.Of(f, fi, path))
	st := s.states[key]
	if st != nil && st.seen == s.pass {
		return key, nil // another name of a file already read in this poll
	}
	head, err := fileid.Head(f, fi.Size())
	if err != nil {
		s.r.warn.Warn("read/"+path, "cannot read file; it is tried again at the next poll", zap.String("path", path), zap.Error(err))
		if st != nil {
			s.markSeen(st)
		}
		return key, nil
	}
	if st == nil {
		st = &fileState{key: key}
		if _, ok := s.forgotten[key]; ok {
			delete(s.forgotten, key)
		} else if err := s.load(ctx, st, head); err != nil {
			return key, err
		}
		s.states[key] = st
	}
	s.markSeen(st)
	if st.path != path && st.path != "" {
		s.r.logger.Info("file was renamed; reading on from its checkpoint", zap.String("from", st.path), zap.String("to", path))
	}
	st.path = path
	return key, s.readNew(ctx, f, st, stamp{fi.Size(), fi.ModTime()}, head)
}

// open opens path when it is a regular file that can be read. Otherwise
// it reports why (once per path, or rate-limited) and returns nil, with
// failed set when the file exists but opening it failed.
func (s *fileSource) open(ctx context.Context, path string) (f *os.File, fi os.FileInfo, failed bool) {
	// Opening a FIFO blocks until something writes to it, and a device or
	// socket never ends: only regular files are opened at all.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		if !fi.IsDir() && s.refuse(ctx, path) {
			s.r.warn.Warn("special/"+path, "not a regular file (a FIFO, socket or device); it is skipped, set exclude to silence this",
				zap.String("path", path), zap.Stringer("mode", fi.Mode()))
		}
		return nil, nil, false
	}
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// The glob matched it, so the name exists: a symbolic link whose
		// target is gone (an export moved, a share not mounted), or a file
		// deleted since.
		if li, lerr := os.Lstat(path); lerr == nil && li.Mode()&fs.ModeSymlink != 0 && s.refuse(ctx, path) {
			target, _ := os.Readlink(path)
			s.r.warn.Warn("dangling/"+path, "symbolic link to a file that does not exist; it is read once the target appears (set exclude to silence this)",
				zap.String("path", path), zap.String("target", target))
		}
		return nil, nil, false
	case err != nil:
		s.refuse(ctx, path)
		s.r.warn.Warn("open/"+path, "cannot open file; it is tried again at the next poll", zap.String("path", path), zap.Error(err))
		return nil, nil, true
	}
	fi, err = f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, false
	}
	return f, fi, false
}

// load fetches the stored checkpoint of a file first seen in this run.
func (s *fileSource) load(ctx context.Context, st *fileState, head []byte) error {
	cp, found, err := checkpoint.Load(ctx, s.r.client, st.key, head)
	switch {
	case found:
		st.cp, st.has = cp, true
	case errors.Is(err, checkpoint.ErrReused):
		s.r.logger.Info("a checkpoint exists for this file ID but the content differs (the ID was reused); reading the file as new",
			zap.String("key", st.key), zap.String("checkpoint_path", cp.Path))
	case errors.Is(err, checkpoint.ErrDamaged):
		s.r.logger.Warn("ignoring a checkpoint that cannot be read; the file is read as if new", zap.String("key", st.key), zap.Error(err))
	case err != nil:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.r.warn.Warn("storage-get", "cannot read a checkpoint from storage; the file is read as if new", zap.String("key", st.key), zap.Error(err))
	}
	return nil
}

// readNew reads what the file holds beyond its checkpoint.
func (s *fileSource) readNew(ctx context.Context, f *os.File, st *fileState, cur stamp, head []byte) error {
	if cur == st.read || cur == st.bad {
		return s.checkTail(ctx, st, cur)
	}
	st.tailSince = time.Time{}
	cp := s.resumeAt(st, cur, head)
	rd, err := filereader.Open(f, cur.size, cp, s.opts)
	switch {
	case errors.Is(err, filereader.ErrEmpty):
		// Nothing to tell the format by yet: decide once more is written.
		if st.has {
			s.stage(st, cp)
		}
		st.read = cur
		return nil
	case err != nil && cp.Offset == 0:
		s.unreadable(ctx, st, cur, err)
		return nil
	case err != nil:
		s.r.warn.Warn("read/"+st.path, "cannot read file; it is tried again at the next poll", zap.String("path", st.path), zap.Error(err))
		return nil
	}
	if !st.has && s.first && s.cfg.StartAt == StartAtEnd {
		// Stored at once, so that a restart does not jump again past
		// events written in between.
		s.stage(st, rd.End())
		st.read = cur
		return nil
	}
	res, err := rd.ReadToEnd(&fileSink{s: s, st: st, ctx: ctx, format: string(rd.Format())})
	s.r.tel.bytes.Add(ctx, res.Bytes, s.r.tel.src(sourceFile))
	if err != nil {
		return err
	}
	if res.Err != nil {
		s.r.warn.Warn("read/"+st.path, "reading file failed; it is tried again at the next poll", zap.String("path", st.path), zap.Error(res.Err))
	}
	s.stage(st, res.Checkpoint)
	switch {
	case res.Tail && st.tailSince.IsZero():
		st.tailSince = s.now()
	case !res.Tail:
		st.tailSince = time.Time{}
	}
	if res.Complete {
		st.read = cur
	}
	return nil
}

// resumeAt is the checkpoint to read the file on from: its own, or the
// start for a file without one, or a stream file truncated or rewritten.
func (s *fileSource) resumeAt(st *fileState, cur stamp, head []byte) checkpoint.Record {
	if !st.has {
		return checkpoint.Record{Path: st.path, FPLen: len(head), FP: fileid.Fingerprint(head)}
	}
	cp := st.cp
	if cp.Format != string(wineventlog.FormatEVTX) {
		var why checkpoint.Rewind
		cp, why = cp.Resume(cur.size, head)
		switch why {
		case checkpoint.Truncated:
			s.r.logger.Info("file is shorter than what was read (truncated); reading it from the start", zap.String("path", st.path),
				zap.Int64("size", cur.size), zap.Int64("offset", st.cp.Offset))
		case checkpoint.Replaced:
			s.r.logger.Info("file content was replaced in place; reading it from the start", zap.String("path", st.path))
		}
		// The EVTX reader drops the fingerprint.
		cp.FPLen, cp.FP = len(head), fileid.Fingerprint(head)
	}
	cp.Path = st.path
	return cp
}

// refuse counts a path that cannot be read as a decode error of unknown
// format, once per path; it reports whether this was the first time.
func (s *fileSource) refuse(ctx context.Context, path string) bool {
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

// checkTail handles a file that ends inside an event and has stopped
// growing: after tailTimeout the partial event is reported as damage and
// passed over.
func (s *fileSource) checkTail(ctx context.Context, st *fileState, cur stamp) error {
	if st.tailSince.IsZero() || cur != st.read || s.now().Sub(st.tailSince) < s.cfg.PollInterval+s.tailTimeout {
		return nil
	}
	st.tailSince = time.Time{}
	cp := st.cp
	s.r.tel.decodeError(ctx, cp.Format)
	s.r.warn.Warn("decode/"+st.path, "file ends inside an event and has not grown; the partial event is passed over",
		zap.String("path", st.path), zap.Int64("offset", cp.Offset), zap.Int64("end", cur.size))
	cp.Offset = cur.size
	s.stage(st, cp)
	return nil
}

// stage makes cp the file's checkpoint once the current batch is accepted.
func (s *fileSource) stage(st *fileState, cp checkpoint.Record) {
	if st.has && cp == st.cp {
		return
	}
	st.cp, st.has = cp, true
	s.batcher.SetCheckpoint(st.key, cp.Marshal())
}

// fileSink takes the events and damage a reader finds in one file.
type fileSink struct {
	s      *fileSource
	st     *fileState
	ctx    context.Context
	format string
}

// Event batches ev; a due batch leaves with the checkpoint just after ev.
func (k *fileSink) Event(ev *wineventlog.Event, cp checkpoint.Record) error {
	if !k.s.batcher.Add(ev, k.st.path, k.s.now()) {
		return nil
	}
	k.s.stage(k.st, cp)
	return k.s.batcher.Flush(k.ctx)
}

func (k *fileSink) Damage(de *wineventlog.DecodeError, base int64) {
	k.s.r.tel.decodeError(k.ctx, k.format)
	msg := "damaged event passed over; the events around it are read"
	if k.format == string(wineventlog.FormatEVTX) {
		msg = "damaged EVTX data passed over; the records around it are read"
	}
	k.s.r.warn.Warn("decode/"+k.st.path, msg, zap.String("path", k.st.path), zap.Int64("offset", base+de.Offset), zap.Error(de))
}

// send hands a batch to the delivering goroutine, which enriches it while
// the next one is decoded.
func (s *fileSource) send(ctx context.Context, b *batch.Batch) error {
	s.inFlight.Add(1)
	select {
	case s.out <- b:
		s.sent++
		return nil
	case <-ctx.Done():
		s.inFlight.Add(-1)
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
			err := s.r.deliver(ctx, b)
			s.inFlight.Add(-1)
			if err != nil {
				return
			}
		}
	}
}
