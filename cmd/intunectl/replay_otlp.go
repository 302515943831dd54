package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/otlpexporter"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	noopmetric "go.opentelemetry.io/otel/metric/noop"
	nooptrace "go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

type senderOptions struct {
	endpoint                              string
	insecure                              bool
	caFile, certFile, keyFile, serverName string
	timeout, retryFor                     time.Duration
	headers                               configopaque.MapList
}

// otlpSender is the collector's own OTLP exporter, run without a queue so
// that each send returns once the receiver took the batch or refused it
// for good: gRPC, TLS, compression, headers, and retry with backoff (and
// the server's RetryInfo) are the collector's, not ours.
type otlpSender struct {
	exp exporter.Logs
}

func newOTLPSender(ctx context.Context, o senderOptions, stderr io.Writer) (*otlpSender, error) {
	f := otlpexporter.NewFactory()
	cfg := f.CreateDefaultConfig().(*otlpexporter.Config)
	cfg.ClientConfig.Endpoint = o.endpoint
	cfg.ClientConfig.Headers = o.headers
	tls := &cfg.ClientConfig.TLS
	tls.Insecure = o.insecure
	tls.CAFile, tls.CertFile, tls.KeyFile, tls.ServerName = o.caFile, o.certFile, o.keyFile, o.serverName
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.TimeoutConfig.Timeout = o.timeout
	cfg.RetryConfig.Enabled = o.retryFor > 0
	cfg.RetryConfig.MaxElapsedTime = o.retryFor
	if err := errors.Join(cfg.Validate(), cfg.ClientConfig.Validate()); err != nil {
		return nil, fmt.Errorf("--endpoint %q: %w", o.endpoint, err)
	}
	if err := checkTLS(ctx, cfg.ClientConfig.TLS, o.endpoint, min(o.timeout, 10*time.Second)); err != nil {
		return nil, err
	}
	set := exporter.Settings{
		ID: component.MustNewIDWithName("otlp", "replay"),
		TelemetrySettings: component.TelemetrySettings{
			Logger:         cliLogger(stderr),
			TracerProvider: nooptrace.NewTracerProvider(),
			MeterProvider:  noopmetric.NewMeterProvider(),
			Resource:       pcommon.NewResource(),
		},
		BuildInfo: component.BuildInfo{Command: "intunectl", Description: "intunectl replay"},
	}
	exp, err := f.CreateLogs(ctx, set, cfg)
	if err != nil {
		return nil, err
	}
	if err := exp.Start(ctx, noHost{}); err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", o.endpoint, err)
	}
	return &otlpSender{exp: exp}, nil
}

func (s *otlpSender) send(ctx context.Context, ld plog.Logs) error {
	return s.exp.ConsumeLogs(ctx, ld)
}

func (s *otlpSender) close() {
	_ = s.exp.Shutdown(context.Background())
}

type noHost struct{}

func (noHost) GetExtensions() map[component.ID]component.Component { return nil }

// cliLogger turns the exporter's log into what an admin at a prompt needs:
// a line per retry, in this tool's words. The exporter's other messages
// speak of collector settings; the outcome is reported by replay itself.
func cliLogger(w io.Writer) *zap.Logger {
	return zap.New(&retryNotes{w: w})
}

type retryNotes struct {
	w      io.Writer
	fields []zapcore.Field
}

func (r *retryNotes) Enabled(l zapcore.Level) bool { return l >= zapcore.InfoLevel }

func (r *retryNotes) With(fields []zapcore.Field) zapcore.Core {
	return &retryNotes{w: r.w, fields: append(append([]zapcore.Field(nil), r.fields...), fields...)}
}

func (r *retryNotes) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if strings.Contains(e.Message, "Will retry") {
		return ce.AddCore(e, r)
	}
	return ce
}

func (r *retryNotes) Write(_ zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range append(append([]zapcore.Field(nil), r.fields...), fields...) {
		f.AddTo(enc)
	}
	interval := fmt.Sprint(enc.Fields["interval"])
	if d, err := time.ParseDuration(interval); err == nil {
		interval = d.Round(100 * time.Millisecond).String()
	}
	_, err := fmt.Fprintf(r.w, "intunectl replay: the collector did not take the records yet (%v); trying again in %s\n",
		enc.Fields["error"], interval)
	return err
}

func (r *retryNotes) Sync() error { return nil }

// headerEnv are the OpenTelemetry environment variables for OTLP headers,
// the logs-specific one first.
var headerEnv = []string{"OTEL_EXPORTER_OTLP_LOGS_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"}

// headersFromEnv reads request headers (an API key, a bearer token) from
// the environment, in the OpenTelemetry format: name=value pairs separated
// by commas, values URL-encoded. It returns the header names, for saying
// what is sent; values are never shown.
func headersFromEnv(getenv func(string) string) (configopaque.MapList, []string, error) {
	for _, name := range headerEnv {
		raw := strings.TrimSpace(getenv(name))
		if raw == "" {
			continue
		}
		var headers configopaque.MapList
		var names []string
		for i, pair := range strings.Split(raw, ",") {
			k, v, ok := strings.Cut(pair, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" {
				return nil, nil, fmt.Errorf("%s: item %d is not name=value (the format is name1=value1,name2=value2)", name, i+1)
			}
			val, err := url.QueryUnescape(strings.TrimSpace(v))
			if err != nil {
				return nil, nil, fmt.Errorf("%s: the value of %s is not URL-encoded (write %% as %%25, a comma as %%2C)", name, k)
			}
			headers.Set(k, configopaque.String(val))
			names = append(names, k)
		}
		return headers, names, nil
	}
	return nil, nil, nil
}

// tlsMismatchError is a receiver that speaks TLS when --insecure was given,
// or does not when it was not, or whose certificate is not accepted: no
// retry heals it.
type tlsMismatchError struct{ err error }

func (e *tlsMismatchError) Error() string { return e.err.Error() }

// checkTLS tries one TLS handshake with the receiver before anything is
// sent, so that a TLS mismatch is reported at once rather than after
// --retry-for of retries. A receiver that cannot be reached yet is left to
// the retries: a collector may still be starting.
func checkTLS(ctx context.Context, cfg configtls.ClientConfig, endpoint string, timeout time.Duration) error {
	if _, _, err := net.SplitHostPort(endpoint); err != nil {
		return nil // a gRPC target such as dns:///host:port; the exporter judges it
	}
	var tlsCfg *tls.Config
	if cfg.Insecure {
		// Only to learn whether the receiver speaks TLS.
		tlsCfg = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // nothing is sent on this connection
	} else {
		var err error
		if tlsCfg, err = cfg.LoadTLSConfig(ctx); err != nil {
			return fmt.Errorf("--ca-file, --cert-file or --key-file: %w", err)
		}
	}
	tlsCfg = tlsCfg.Clone()
	tlsCfg.NextProtos = []string{"h2"} // as gRPC offers, or a receiver may refuse the handshake
	if tlsCfg.ServerName == "" {
		tlsCfg.ServerName, _, _ = net.SplitHostPort(endpoint)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", endpoint)
	if err != nil {
		return nil
	}
	defer conn.Close()
	err = tls.Client(conn, tlsCfg).HandshakeContext(ctx)
	switch {
	case cfg.Insecure && err == nil:
		return &tlsMismatchError{fmt.Errorf("%s speaks TLS, and --insecure sends without it", endpoint)}
	case !cfg.Insecure && err != nil && ctx.Err() == nil:
		return &tlsMismatchError{fmt.Errorf("TLS handshake with %s: %w", endpoint, err)}
	}
	return nil
}
