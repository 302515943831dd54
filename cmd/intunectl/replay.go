package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/internal/deadletter"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// replayScope names the instrumentation scope of replayed records, so a
// pipeline can tell them apart; the projections do not write it.
const replayScope = "intunectl/replay"

type replayOptions struct {
	sender   senderOptions
	exporter string
	dryRun   bool
	batch    int
}

func (c *cli) replay(args []string) int {
	fs := c.newFlags("replay")
	var o replayOptions
	fs.StringVar(&o.sender.endpoint, "endpoint", "", "the collector's OTLP gRPC receiver, HOST:PORT (e.g. localhost:4317)")
	fs.BoolVar(&o.sender.insecure, "insecure", false, "send without TLS, to a receiver on this host or a trusted network")
	fs.StringVar(&o.sender.caFile, "ca-file", "", "CA certificate that signed the receiver's certificate (default: the system's)")
	fs.StringVar(&o.sender.certFile, "cert-file", "", "client certificate, for a receiver that requires one")
	fs.StringVar(&o.sender.keyFile, "key-file", "", "the client certificate's key")
	fs.StringVar(&o.sender.serverName, "server-name", "", "name the receiver's certificate is checked against, when not HOST")
	fs.DurationVar(&o.sender.timeout, "timeout", 30*time.Second, "time limit of one request")
	fs.DurationVar(&o.sender.retryFor, "retry-for", time.Minute, "how long to keep retrying a request the collector cannot take yet (busy, unavailable); 0 does not retry")
	fs.StringVar(&o.exporter, "exporter", "", "replay only the entries this exporter wrote (its ID in the file, e.g. intune_elasticsearch/primary)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "read and check the files and say what would be sent, without sending")
	fs.IntVar(&o.batch, "batch", 500, "records per request")
	files, err := parse(fs, args)
	if err != nil {
		return flagErr(err)
	}
	if code, ok := c.checkReplayArgs(fs.Usage, files, &o); !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	r := &replayer{c: c, opts: o, byExporter: map[string]int{}, otherIDs: map[string]bool{}}
	if !o.dryRun {
		s, err := newOTLPSender(ctx, o.sender, c.stderr)
		var mismatch *tlsMismatchError
		if errors.As(err, &mismatch) {
			fmt.Fprintf(c.stderr, "intunectl replay: nothing sent: %v\n", err)
			if hint := tlsHint(err.Error(), o.sender.insecure); hint != "" {
				fmt.Fprintf(c.stderr, "  %s\n", hint)
			}
			return exitNotSent
		}
		if err != nil {
			fmt.Fprintf(c.stderr, "intunectl replay: %v\n", err)
			return exitUsage
		}
		defer s.close()
		r.send = s.send
	}
	return r.run(ctx, files)
}

// checkReplayArgs completes the options from the environment and refuses
// what cannot work, before anything is read or sent.
func (c *cli) checkReplayArgs(usage func(), files []string, o *replayOptions) (int, bool) {
	if len(files) == 0 {
		fmt.Fprintln(c.stderr, "intunectl replay: name at least one dead-letter file (the exporter's dead_letter::path)")
		usage()
		return exitUsage, false
	}
	if o.batch < 1 {
		fmt.Fprintln(c.stderr, "intunectl replay: --batch must be at least 1")
		return exitUsage, false
	}
	getenv := c.getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	headers, names, err := headersFromEnv(getenv)
	if err != nil {
		fmt.Fprintf(c.stderr, "intunectl replay: %v\n", err)
		return exitUsage, false
	}
	o.sender.headers = headers
	if o.dryRun {
		return exitOK, true
	}
	if o.sender.endpoint == "" {
		fmt.Fprintln(c.stderr, "intunectl replay: set --endpoint to the collector's OTLP gRPC receiver, e.g. --endpoint localhost:4317 (add --insecure for one without TLS)")
		return exitUsage, false
	}
	if len(names) > 0 {
		fmt.Fprintf(c.stderr, "intunectl replay: sending the headers %s from the environment\n", strings.Join(names, ", "))
	}
	return exitOK, true
}

// replayer turns the entries of dead-letter files back into records and
// sends them in batches.
type replayer struct {
	c    *cli
	opts replayOptions
	send func(context.Context, plog.Logs) error // nil for a dry run

	logs    plog.Logs
	records plog.LogRecordSlice
	// where the pending batch starts, for saying what was not sent
	batchFile string
	batchLine int

	sent, bad, unreadable, otherExporter int
	saidMore                             bool // "more lines skipped" was said
	byExporter                           map[string]int
	otherIDs                             map[string]bool // exporters left out by --exporter
}

func (r *replayer) run(ctx context.Context, files []string) int {
	r.newBatch()
	for _, name := range files {
		err := r.file(ctx, name)
		var notSent *notSentError
		if errors.As(err, &notSent) {
			return r.stopped(notSent)
		}
		if err != nil {
			r.unreadable++
			fmt.Fprintf(r.c.stderr, "intunectl replay: %s: %v\n", name, underlying(err))
		}
	}
	if notSent := r.flush(ctx); notSent != nil {
		return r.stopped(notSent)
	}
	r.summary()
	if r.opts.exporter != "" && len(r.byExporter) == 0 && len(r.otherIDs) > 0 {
		// Most likely a misspelt ID: say which the files hold.
		fmt.Fprintf(r.c.stderr, "intunectl replay: no entry was written by %s; the files hold entries of %s (--exporter takes the ID as the file writes it)\n",
			r.opts.exporter, strings.Join(slices.Sorted(maps.Keys(r.otherIDs)), ", "))
		return exitUsage
	}
	switch {
	case r.unreadable > 0:
		return exitUnreadable
	case r.bad > 0:
		return exitDamaged
	}
	return exitOK
}

// stopped reports a batch the collector did not take, and where to resume.
func (r *replayer) stopped(e *notSentError) int {
	r.summary()
	fmt.Fprintf(r.c.stderr, "intunectl replay: the collector did not take the records: %v\n", e.err)
	if hint := tlsHint(e.err.Error(), r.opts.sender.insecure); hint != "" {
		fmt.Fprintf(r.c.stderr, "  %s\n", hint)
	}
	fmt.Fprintf(r.c.stderr, "  Records from %s line %d on were not sent. Run the command again once the collector takes records: "+
		"a record sent twice is a duplicate, which Elasticsearch answers with 409 by its _id and Splunk stores twice.\n", e.file, e.line)
	return exitNotSent
}

// tlsHint explains the usual mismatch between --insecure and the receiver.
func tlsHint(msg string, insecure bool) string {
	switch {
	case !insecure && strings.Contains(msg, "first record does not look like a TLS handshake"):
		return "The receiver does not use TLS: add --insecure if it listens on this host or a trusted network, or configure TLS on it."
	case insecure && (strings.Contains(msg, "speaks TLS") || strings.Contains(msg, "server preface") || strings.Contains(msg, "connection reset")):
		return "The receiver may expect TLS: leave out --insecure (and give --ca-file if its certificate is not from a CA this system trusts)."
	case strings.Contains(msg, "certificate"):
		return "The receiver's certificate was not accepted: give the CA that signed it with --ca-file, or the name it was issued for with --server-name."
	}
	return ""
}

// file replays one dead-letter file, up to its size when it was opened: a
// collector that dead-letters the replayed records again appends to the
// same file, and those must not be sent round again.
func (r *replayer) file(ctx context.Context, name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.IsDir() {
		return errors.New("is a directory: name the dead-letter files inside it")
	}
	dl := deadletter.NewReader(io.LimitReader(f, st.Size()))
	// Bad lines before the first entry are held back: when no line is an
	// entry, the file is not a dead-letter file, which one message says
	// better than a line-by-line account.
	var early []deadletter.LineError
	earlyMore, entries := 0, 0
	for {
		e, line, err := dl.Next()
		if err == io.EOF && entries == 0 && len(early) > 0 {
			return notDeadLetters(f)
		}
		if err == io.EOF {
			return nil
		}
		var le *deadletter.LineError
		if errors.As(err, &le) && entries == 0 {
			if len(early) < maxReportedErrors {
				early = append(early, *le)
			} else {
				earlyMore++
			}
			continue
		}
		if errors.As(err, &le) {
			r.badLine(name, le.Line, le.Reason)
			continue
		}
		if err != nil {
			return err
		}
		if entries++; entries == 1 {
			for _, le := range early {
				r.badLine(name, le.Line, le.Reason)
			}
			r.moreBadLines(earlyMore)
		}
		if r.opts.exporter != "" && e.Exporter != r.opts.exporter {
			r.otherExporter++
			r.otherIDs[e.Exporter] = true
			continue
		}
		lr := plog.NewLogRecord()
		if err := recordFromEntry(e, lr); err != nil {
			r.badLine(name, line, err.Error())
			continue
		}
		if r.records.Len() == 0 {
			r.batchFile, r.batchLine = name, line
		}
		lr.MoveTo(r.records.AppendEmpty())
		r.byExporter[e.Exporter]++
		if r.records.Len() >= r.opts.batch {
			if notSent := r.flush(ctx); notSent != nil {
				return notSent
			}
		}
	}
}

// notDeadLetters says what a file in which no line is a dead-letter entry
// is, and what to do with it.
func notDeadLetters(f *os.File) error {
	prefix := make([]byte, 4096)
	n, _ := f.ReadAt(prefix, 0)
	prefix = prefix[:n]
	var what string
	switch wineventlog.Detect(prefix) {
	case wineventlog.FormatEVTX:
		what = "an EVTX export: summarize and convert read it, and the intune_connector receiver collects it"
	case wineventlog.FormatXML:
		what = "XML, as event exports are: summarize and convert read those"
	case wineventlog.FormatJSON:
		what = "JSON, but no line is an entry with exporter, reason and document"
	default:
		what = "it starts with " + strconv.Quote(string(prefix[:min(len(prefix), 16)]))
	}
	return errors.New("not a dead-letter file (" + what + "); replay reads the file an exporter's dead_letter::path names")
}

func (r *replayer) badLine(file string, line int, reason string) {
	if r.bad < maxReportedErrors {
		r.bad++
		fmt.Fprintf(r.c.stderr, "intunectl replay: %s line %d skipped: %s\n", file, line, reason)
		return
	}
	r.moreBadLines(1)
}

// moreBadLines counts n skipped lines that are not listed one by one.
func (r *replayer) moreBadLines(n int) {
	if n == 0 {
		return
	}
	if !r.saidMore {
		r.saidMore = true
		fmt.Fprintln(r.c.stderr, "intunectl replay: more lines skipped; the count follows at the end")
	}
	r.bad += n
}

type notSentError struct {
	err  error
	file string
	line int
}

func (e *notSentError) Error() string { return e.err.Error() }

func (r *replayer) newBatch() {
	r.logs = plog.NewLogs()
	sl := r.logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	sl.Scope().SetName(replayScope)
	r.records = sl.LogRecords()
}

// flush sends the pending batch.
func (r *replayer) flush(ctx context.Context) *notSentError {
	n := r.records.Len()
	if n == 0 {
		return nil
	}
	if r.send != nil {
		if err := r.send(ctx, r.logs); err != nil {
			return &notSentError{err: err, file: r.batchFile, line: r.batchLine}
		}
	}
	r.sent += n
	r.newBatch()
	return nil
}

func (r *replayer) summary() {
	verb := "sent"
	if r.send == nil {
		verb = "would send (dry run)"
	}
	var parts []string
	for _, id := range slices.Sorted(maps.Keys(r.byExporter)) {
		parts = append(parts, fmt.Sprintf("%d from %s", r.byExporter[id], id))
	}
	msg := fmt.Sprintf("intunectl replay: %s %s", verb, plural(r.sent, "record", "records"))
	if len(parts) > 0 && r.sent > 0 {
		msg += " (of those read: " + strings.Join(parts, ", ") + ")"
	}
	if r.bad > 0 {
		msg += "; " + plural(r.bad, "line", "lines") + " skipped"
	}
	if r.otherExporter > 0 {
		msg += "; " + plural(r.otherExporter, "entry", "entries") + " of other exporters left out"
	}
	fmt.Fprintln(r.c.stderr, msg)
	if r.send != nil && r.sent > 0 {
		fmt.Fprintln(r.c.stderr, "  The collector's pipeline took them; a record its exporters refuse again is dead-lettered again, so check the dead-letter file.")
	}
}

// recordFromEntry rebuilds the record a dead-letter entry was made from,
// by the shape of its document: an ECS document (the Elasticsearch
// exporter's) or a HEC event (the Splunk exporter's), each recognised by
// the member its projection writes first.
func recordFromEntry(e deadletter.Entry, lr plog.LogRecord) error {
	doc := bytes.TrimSpace(e.Document)
	var err error
	switch {
	case bytes.HasPrefix(doc, []byte(`{"@timestamp":`)):
		err = mapping.RecordFromECS(doc, lr)
	case bytes.HasPrefix(doc, []byte(`{"time":`)):
		err = mapping.RecordFromHEC(doc, lr)
	default:
		return errors.New("the document is neither an ECS document nor a HEC event written by this project's exporters")
	}
	if err != nil {
		return fmt.Errorf("the document cannot be turned back into a record: %w", err)
	}
	return nil
}
