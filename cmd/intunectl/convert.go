package main

import (
	"bufio"
	"fmt"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

func (c *cli) convert(args []string) int {
	fs := c.newFlags("convert")
	to := fs.String("to", "ecs", "output: ecs (Elasticsearch documents), hec (Splunk HEC events) or otlp-json (OTLP log records)")
	original := fs.Bool("original", false, "keep each event's text in event.original")
	rf := addReadFlags(fs)
	files, code, ok := c.inputs(fs, args, rf)
	if !ok {
		return code
	}
	enc, err := newEncoder(*to)
	if err != nil {
		fmt.Fprintln(c.stderr, "intunectl convert:", err)
		return exitUsage
	}
	en := c.enricher(mapping.Config{IncludeOriginal: *original})

	out := bufio.NewWriterSize(c.stdout, 64<<10)
	var line []byte
	totals, werr := c.eachEvent(files, rf.options(!*original), func(rec *wineventlog.Record) error {
		logs := plog.NewLogs()
		rl := logs.ResourceLogs().AppendEmpty()
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		en.Enrich(&rec.Event, lr)
		var err error
		line, err = enc(line[:0], logs, rl, lr)
		if err != nil {
			return err
		}
		line = append(line, '\n')
		_, err = out.Write(line)
		return err
	})
	if err := out.Flush(); werr == nil {
		werr = err
	}
	if werr != nil {
		fmt.Fprintf(c.stderr, "intunectl convert: writing output: %v\n", werr)
		return exitOutput
	}
	return totals.exitCode()
}

type encodeFunc func(dst []byte, logs plog.Logs, rl plog.ResourceLogs, lr plog.LogRecord) ([]byte, error)

// newEncoder returns the projection the exporters send, so what convert
// prints is exactly what would reach Elasticsearch, Splunk or an OTLP peer.
func newEncoder(to string) (encodeFunc, error) {
	switch to {
	case "ecs":
		return func(dst []byte, _ plog.Logs, rl plog.ResourceLogs, lr plog.LogRecord) ([]byte, error) {
			return mapping.AppendECS(dst, rl.Resource(), lr, mapping.ECSOptions{DataStream: true}), nil
		}, nil
	case "hec":
		return func(dst []byte, _ plog.Logs, rl plog.ResourceLogs, lr plog.LogRecord) ([]byte, error) {
			return mapping.AppendHEC(dst, rl.Resource(), lr, mapping.HECOptions{}), nil
		}, nil
	case "otlp-json", "otlp":
		m := &plog.JSONMarshaler{}
		return func(dst []byte, logs plog.Logs, _ plog.ResourceLogs, _ plog.LogRecord) ([]byte, error) {
			b, err := m.MarshalLogs(logs)
			return append(dst, b...), err
		}, nil
	}
	return nil, fmt.Errorf("unknown --to %q: use ecs, hec or otlp-json", to)
}
