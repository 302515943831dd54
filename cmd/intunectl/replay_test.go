package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-intune/otelcol-intune/exporter/intuneelasticsearchexporter"
	"github.com/otelcol-intune/otelcol-intune/exporter/intunesplunkhecexporter"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/esbulktest"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/hectest"
	"github.com/otelcol-intune/otelcol-intune/internal/testsupport/testutil"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/eventfile"
)

// originals enriches the events of two sample exports (both connector
// generations), as the receiver would.
func originals(t *testing.T) plog.Logs {
	t.Helper()
	en := (&cli{}).enricher(mapping.Config{}) // the built-in catalog
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for _, name := range []string{"current-admin.wevtutil.xml", "legacy.ps7.json"} {
		f, err := eventfile.Open(samples+name, eventfile.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := f.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			en.Enrich(&rec.Event, lrs.AppendEmpty())
		}
		f.Close()
	}
	if lrs.Len() < 20 {
		t.Fatalf("only %d records", lrs.Len())
	}
	return ld
}

// deadLetterThrough sends ld through a real exporter, built from the
// documented configuration keys, against a backend that refuses every
// record for good, and returns the dead-letter file it wrote.
func deadLetterThrough(t *testing.T, f exporter.Factory, conf map[string]any, ld plog.Logs) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), f.Type().String()+".deadletter.jsonl")
	conf["dead_letter"] = map[string]any{"path": path}
	conf["sending_queue"] = map[string]any{"enabled": false}
	conf["retry_on_failure"] = map[string]any{"initial_interval": "5ms", "max_interval": "20ms", "max_elapsed_time": "5s"}
	cfg := f.CreateDefaultConfig()
	if err := confmap.NewFromStringMap(conf).Unmarshal(cfg); err != nil {
		t.Fatal(err)
	}
	set := exportertest.NewNopSettings(f.Type())
	set.ID = component.NewID(f.Type()) // as a collector config names it
	exp, err := f.CreateLogs(context.Background(), set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	in := plog.NewLogs()
	ld.CopyTo(in)
	if err := exp.ConsumeLogs(context.Background(), in); err != nil {
		t.Fatalf("%s: %v", f.Type(), err)
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := countLines(t, path); n != ld.LogRecordCount() {
		t.Fatalf("%s dead-lettered %d of %d records", f.Type(), n, ld.LogRecordCount())
	}
	return path
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		n++
	}
	return n
}

// collector is an OTLP gRPC receiver feeding a sink, as in a collector
// whose pipeline takes what intunectl replay sends. It records the
// request headers it saw.
type collector struct {
	endpoint string
	mu       sync.Mutex
	logs     []plog.Logs
	headers  []client.Metadata
}

func startCollector(t *testing.T) *collector {
	t.Helper()
	return startCollectorTLS(t, nil)
}

// startCollectorTLS starts the collector with TLS when tls is set.
func startCollectorTLS(t *testing.T, tls *configtls.ServerConfig) *collector {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{endpoint: l.Addr().String()}
	l.Close()
	f := otlpreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*otlpreceiver.Config)
	grpc := cfg.Protocols.GRPC.GetOrInsertDefault()
	grpc.NetAddr.Endpoint = c.endpoint
	grpc.IncludeMetadata = true
	if tls != nil {
		grpc.TLS = configoptional.Some(*tls)
	}
	cfg.Protocols.HTTP = configoptional.None[otlpreceiver.HTTPConfig]()
	next, err := consumer.NewLogs(func(ctx context.Context, ld plog.Logs) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.logs = append(c.logs, ld)
		c.headers = append(c.headers, client.FromContext(ctx).Metadata)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := f.CreateLogs(context.Background(), receivertest.NewNopSettings(f.Type()), cfg, next)
	if err != nil {
		t.Fatal(err)
	}
	if err := rcv.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rcv.Shutdown(context.Background()) })
	return c
}

// records returns what the collector received, by event.id.
func (c *collector) records(t *testing.T) map[string]plog.LogRecord {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]plog.LogRecord{}
	for _, ld := range c.logs {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			sls := ld.ResourceLogs().At(i).ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				if name := sls.At(j).Scope().Name(); name != replayScope {
					t.Errorf("scope %q, want %q", name, replayScope)
				}
				lrs := sls.At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					id, _ := lrs.At(k).Attributes().Get(mapping.AttrEventID)
					out[id.Str()] = lrs.At(k)
				}
			}
		}
	}
	return out
}

// sameAsOriginals checks that every original came back once, equal in
// attributes, body, severity and time (to the microsecond, HEC's
// precision, when micro is set).
func sameAsOriginals(t *testing.T, got map[string]plog.LogRecord, ld plog.Logs, micro bool) {
	t.Helper()
	lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	if len(got) != lrs.Len() {
		t.Fatalf("the collector received %d records, want %d", len(got), lrs.Len())
	}
	for k := 0; k < lrs.Len(); k++ {
		want := lrs.At(k)
		id, _ := want.Attributes().Get(mapping.AttrEventID)
		back, ok := got[id.Str()]
		if !ok {
			t.Fatalf("record %s did not come back", id.Str())
		}
		if !reflect.DeepEqual(back.Attributes().AsRaw(), want.Attributes().AsRaw()) {
			t.Fatalf("record %s: attributes\n got %v\nwant %v", id.Str(), back.Attributes().AsRaw(), want.Attributes().AsRaw())
		}
		if back.Body().AsRaw() != want.Body().AsRaw() || back.SeverityNumber() != want.SeverityNumber() || back.SeverityText() != want.SeverityText() {
			t.Fatalf("record %s: body or severity differ", id.Str())
		}
		wt := want.Timestamp().AsTime()
		if micro {
			wt = wt.Truncate(time.Microsecond)
		}
		if !back.Timestamp().AsTime().Equal(wt) {
			t.Fatalf("record %s: time %v, want %v", id.Str(), back.Timestamp().AsTime(), wt)
		}
	}
}

func TestReplay(t *testing.T) {
	ld := originals(t)
	es := esbulktest.Start(esbulktest.Options{})
	defer es.Close()
	es.FailItems(esbulktest.ItemFault{Status: 400, Type: esbulktest.TypeMapperParsing, Reason: "failed to parse field [winlog.event_data]"})
	esFile := deadLetterThrough(t, intuneelasticsearchexporter.NewFactory(),
		map[string]any{"endpoints": []any{es.URL()}, "bootstrap": map[string]any{"enabled": false}}, ld)

	hec := hectest.New()
	defer hec.Close()
	hec.RejectWhen(func(json.RawMessage) bool { return true }, hectest.ReplyCode(6), true)
	hecFile := deadLetterThrough(t, intunesplunkhecexporter.NewFactory(),
		map[string]any{"endpoint": hec.URL, "token": "00000000-0000-0000-0000-000000000000"}, ld)

	for _, tc := range []struct {
		name  string
		file  string
		micro bool
	}{{"Elasticsearch", esFile, false}, {"Splunk HEC", hecFile, true}} {
		t.Run(tc.name, func(t *testing.T) {
			col := startCollector(t)
			code, _, errOut := runCLI(t, "", "replay", tc.file, "--endpoint", col.endpoint, "--insecure")
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if want := "sent " + strconv.Itoa(ld.LogRecordCount()) + " records"; !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q: %s", want, errOut)
			}
			sameAsOriginals(t, col.records(t), ld, tc.micro)
		})
	}

	t.Run("bad lines are reported and counted, the rest sent", func(t *testing.T) {
		b, err := os.ReadFile(esFile)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitAfter(string(b), "\n")
		damaged := lines[0] + "not json\n" + lines[1][:40] + "\n" + strings.Join(lines[2:], "") +
			`{"exporter":"x","reason":"r","document":{"no":"shape"}}` + "\n"
		path := writeFile(t, t.TempDir(), "damaged.jsonl", []byte(damaged))
		col := startCollector(t)
		code, _, errOut := runCLI(t, "", "replay", "--endpoint", col.endpoint, "--insecure", "--batch", "7", path)
		if code != exitDamaged {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		n := ld.LogRecordCount()
		for _, s := range []string{"line 2 skipped: not a dead-letter entry", "line 3 skipped", "line " + strconv.Itoa(n+2) + " skipped: the document is neither",
			"sent " + strconv.Itoa(n-1) + " records", "3 lines skipped"} {
			if !strings.Contains(errOut, s) {
				t.Errorf("stderr lacks %q: %s", s, errOut)
			}
		}
		if got := len(col.records(t)); got != n-1 {
			t.Errorf("the collector received %d records, want %d", got, n-1)
		}
	})

	t.Run("headers from the environment, never shown", func(t *testing.T) {
		col := startCollector(t)
		var out, errb strings.Builder
		c := &cli{stdout: &out, stderr: &errb, getenv: func(k string) string {
			if k == "OTEL_EXPORTER_OTLP_HEADERS" {
				return "authorization=Bearer%20s3cr3t-token,x-tenant=contoso"
			}
			return ""
		}}
		if code := c.run([]string{"replay", "--endpoint", col.endpoint, "--insecure", hecFile}); code != exitOK {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		if strings.Contains(out.String()+errb.String(), "s3cr3t") || !strings.Contains(errb.String(), "authorization, x-tenant") {
			t.Errorf("output: %s", errb.String())
		}
		col.mu.Lock()
		defer col.mu.Unlock()
		if got := col.headers[0].Get("authorization"); len(got) != 1 || got[0] != "Bearer s3cr3t-token" {
			t.Errorf("authorization header %q", got)
		}
	})

	t.Run("both files, one exporter's entries", func(t *testing.T) {
		col := startCollector(t)
		code, _, errOut := runCLI(t, "", "replay", "--endpoint", col.endpoint, "--insecure", "--exporter", "intune_elasticsearch", esFile, hecFile)
		if code != exitOK || !strings.Contains(errOut, strconv.Itoa(ld.LogRecordCount())+" entries of other exporters left out") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		sameAsOriginals(t, col.records(t), ld, false)
	})

	t.Run("dry run sends nothing", func(t *testing.T) {
		code, _, errOut := runCLI(t, "", "replay", "--dry-run", esFile)
		if code != exitOK || !strings.Contains(errOut, "would send (dry run) "+strconv.Itoa(ld.LogRecordCount())+" records") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
}

// A collector that cannot be reached stops the replay with exit 6 and says
// from where nothing was sent; usage mistakes are exit 2 with what to do.
func TestReplayErrors(t *testing.T) {
	dl := filepath.Join(t.TempDir(), "dl.jsonl")
	line := `{"time":"2026-11-22T10:00:00Z","exporter":"intune_elasticsearch","status":400,"reason":"r","id":"x","document":{"@timestamp":"2026-11-22T10:00:00Z","event":{"code":"1"}}}` + "\n"
	if err := os.WriteFile(dl, []byte(line+line), 0o644); err != nil {
		t.Fatal(err)
	}
	badFirst := filepath.Join(t.TempDir(), "bad-first.jsonl")
	if err := os.WriteFile(badFirst, []byte("{\"torn\n"+line), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	plain := startCollector(t)
	certs := newTestCA(t)
	secure := startCollectorTLS(t, certs.server)
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"collector unreachable", []string{"replay", "--endpoint", closed, "--insecure", "--retry-for", "0", dl}, nil, exitNotSent, dl + " line 1 on were not sent"},
		{"receiver without TLS", []string{"replay", "--endpoint", plain.endpoint, "--retry-for", "0", dl}, nil, exitNotSent, "The receiver does not use TLS: add --insecure"},
		// A TLS mismatch is found before the first send: no minute of
		// retries that cannot succeed.
		{"receiver without TLS, retries on", []string{"replay", "--endpoint", plain.endpoint, dl}, nil, exitNotSent, "The receiver does not use TLS: add --insecure"},
		{"receiver with TLS, --insecure", []string{"replay", "--endpoint", secure.endpoint, "--insecure", dl}, nil, exitNotSent, "The receiver may expect TLS: leave out --insecure"},
		{"certificate from an unknown CA", []string{"replay", "--endpoint", secure.endpoint, dl}, nil, exitNotSent, "give the CA that signed it with --ca-file"},
		{"certificate for another name", []string{"replay", "--endpoint", secure.endpoint, "--ca-file", certs.caFile, "--server-name", "gateway.example", dl}, nil, exitNotSent, "the name it was issued for with --server-name"},
		{"missing CA file", []string{"replay", "--endpoint", secure.endpoint, "--ca-file", filepath.Join(t.TempDir(), "none.pem"), dl}, nil, exitUsage, "--ca-file"},
		{"TLS with the CA", []string{"replay", "--endpoint", secure.endpoint, "--ca-file", certs.caFile, dl}, nil, exitOK, "sent 2 records"},
		{"no endpoint", []string{"replay", dl}, nil, exitUsage, "set --endpoint"},
		// A file of which no line is an entry is named as what it is, not
		// reported line by line; bad lines before a first entry are.
		{"misspelt --exporter", []string{"replay", "--dry-run", "--exporter", "intune_elasticsearch/primary", dl}, nil, exitUsage, "no entry was written by intune_elasticsearch/primary; the files hold entries of intune_elasticsearch"},
		{"an event export", []string{"replay", "--dry-run", samples + "current-admin.wevtutil.xml"}, nil, exitUnreadable, "not a dead-letter file (XML, as event exports are"},
		{"an EVTX file", []string{"replay", "--dry-run", samples + "real-ndes-admin.evtx"}, nil, exitUnreadable, "not a dead-letter file (an EVTX export"},
		{"bad line before the first entry", []string{"replay", "--dry-run", badFirst}, nil, exitDamaged, badFirst + " line 1 skipped: not a dead-letter entry"},
		{"no file", []string{"replay", "--endpoint", closed}, nil, exitUsage, "name at least one dead-letter file"},
		{"missing file", []string{"replay", "--endpoint", closed, "--insecure", filepath.Join(t.TempDir(), "none.jsonl")}, nil, exitUnreadable, "no such file"},
		{"bad header variable", []string{"replay", "--endpoint", closed, dl}, map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "api-key"}, exitUsage, "item 1 is not name=value"},
		{"badly encoded header value", []string{"replay", "--endpoint", closed, dl}, map[string]string{"OTEL_EXPORTER_OTLP_LOGS_HEADERS": "api-key=%zzsecret"}, exitUsage, "the value of api-key is not URL-encoded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb strings.Builder
			c := &cli{stdout: &out, stderr: &errb, getenv: func(k string) string { return tc.env[k] }}
			done := make(chan int, 1)
			go func() { done <- c.run(tc.args) }()
			var code int
			testutil.WaitFor(t, 30*time.Second, "replay to finish", func() bool {
				select {
				case code = <-done:
					return true
				default:
					return false
				}
			})
			if code != tc.code || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("exit %d (want %d), stderr: %s", code, tc.code, errb.String())
			}
			if tc.code == exitNotSent && strings.Contains(errb.String(), "TLS") && strings.Contains(errb.String(), "trying again") {
				t.Errorf("a TLS mismatch was retried: %s", errb.String())
			}
			if strings.Contains(errb.String(), "secret") {
				t.Errorf("a header value was shown: %s", errb.String())
			}
		})
	}
}

// The header variable is parsed without panicking, every header named is
// sent, and no error repeats a value: a token with a stray % must not end
// up on the terminal.
func FuzzHeadersFromEnv(f *testing.F) {
	f.Add("authorization=Bearer%20abc,x-tenant=contoso")
	f.Add("api-key")
	f.Add(" =x, a = b ,")
	f.Add("a=%zz")
	f.Fuzz(func(t *testing.T, raw string) {
		const secret = "Zq7secretZq7"
		for _, env := range []string{raw, raw + ",k=" + secret + "%", "k=" + secret + "%," + raw} {
			headers, names, err := headersFromEnv(func(k string) string {
				if k == "OTEL_EXPORTER_OTLP_HEADERS" {
					return env
				}
				return ""
			})
			if err != nil {
				if strings.Contains(err.Error(), secret) && !strings.Contains(raw, secret) {
					t.Fatalf("the error shows a header value: %v", err)
				}
				continue
			}
			// A name given twice is one header, with the last value.
			if unique := len(slices.Compact(slices.Sorted(slices.Values(names)))); unique != len(headers) {
				t.Fatalf("%d distinct names for %d headers", unique, len(headers))
			}
			for _, n := range names {
				if n == "" || n != strings.TrimSpace(n) {
					t.Fatalf("header name %q", n)
				}
				if _, ok := headers.Get(n); !ok {
					t.Fatalf("header %q named but not sent", n)
				}
			}
		}
	})
}

type testCA struct {
	caFile string
	server *configtls.ServerConfig
}

// newTestCA writes a CA certificate and a server certificate it signed for
// localhost and 127.0.0.1, as an admin's internal PKI would issue.
func newTestCA(t *testing.T) testCA {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Root CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	var server configtls.ServerConfig
	server.CertFile = write("server.pem", "CERTIFICATE", der)
	server.KeyFile = write("server-key.pem", "PRIVATE KEY", keyDER)
	return testCA{caFile: write("ca.pem", "CERTIFICATE", caDER), server: &server}
}
