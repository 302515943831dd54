package configcheck

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// testConfig has the shapes our components' configs have: the collector's
// squashed HTTP client, an optional queue, retry, a secret, blocks with
// enabled and path, a list of blocks, modes and a code that parse their
// own text, numbers, maps and lists.
type testConfig struct {
	Client     confighttp.ClientConfig                                  `mapstructure:",squash"`
	Queue      configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	Retry      configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`
	Token      configopaque.String                                      `mapstructure:"token"`
	Index      string                                                   `mapstructure:"index"`
	Bootstrap  testBlock                                                `mapstructure:"bootstrap"`
	DeadLetter testDeadLetter                                           `mapstructure:"dead_letter"`
	Overrides  []testItem                                               `mapstructure:"overrides"`
	Count      int                                                      `mapstructure:"count"`
	Size       uint16                                                   `mapstructure:"size"`
	Ratio      float64                                                  `mapstructure:"ratio"`
	Labels     map[string]string                                        `mapstructure:"labels"`
	Include    []string                                                 `mapstructure:"include"`
	Custom     testCustom                                               `mapstructure:"custom"`

	problems *Problems
}

func (c *testConfig) Unmarshal(conf *confmap.Conf) error {
	p, err := Unmarshal(conf, c)
	c.problems = p
	return err
}

// testCustom decodes itself and refuses what the checks cannot know.
type testCustom struct {
	Fail bool   `mapstructure:"fail"`
	Size uint16 `mapstructure:"size"`
}

func (c *testCustom) Unmarshal(conf *confmap.Conf) error {
	if err := conf.Unmarshal(c); err != nil {
		return err
	}
	if c.Fail {
		return errors.New("custom refusal")
	}
	return nil
}

type testBlock struct {
	Enabled     bool          `mapstructure:"enabled"`
	Mode        testMode      `mapstructure:"mode"`
	DeleteAfter time.Duration `mapstructure:"delete_after"`
}

type testDeadLetter struct {
	File  testFile `mapstructure:",squash"`
	Index string   `mapstructure:"index"`
}

type testFile struct {
	Path       string `mapstructure:"path"`
	MaxSizeMiB int    `mapstructure:"max_size_mib"`
}

type testItem struct {
	Event string   `mapstructure:"event"`
	Code  testCode `mapstructure:"code"`
	Level testMode `mapstructure:"level"`
}

type testMode string

func (m *testMode) UnmarshalText(b []byte) error {
	switch s := string(b); s {
	case "ilm", "none":
		*m = testMode(s)
		return nil
	}
	return fmt.Errorf("%q is not one of ilm, none", b)
}

// testCode is hex text; a YAML number is its value.
type testCode string

func (c *testCode) UnmarshalText(b []byte) error {
	if !strings.HasPrefix(string(b), "0x") {
		return fmt.Errorf("%q is not a hex code like 0x00000400", b)
	}
	*c = testCode(b)
	return nil
}

func (testCode) TextForNumber(n int64) (string, error) {
	if n < 0 {
		return "", errors.New("a code is not negative")
	}
	return fmt.Sprintf("0x%08X", n), nil
}

func defaultTestConfig() *testConfig {
	client := confighttp.NewDefaultClientConfig()
	client.Timeout = 90 * time.Second
	return &testConfig{
		Client:    client,
		Queue:     configoptional.Some(exporterhelper.NewDefaultQueueConfig()),
		Retry:     configretry.NewDefaultBackOffConfig(),
		Bootstrap: testBlock{Enabled: true, Mode: "ilm"},
		Count:     3,
	}
}

// load reads yaml as the collector does: from a file, ${env:...}
// expanded, then the component's section decoded over its defaults.
func load(t *testing.T, yaml string, env map[string]string) (*testConfig, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	file := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(file, []byte("component:\n"+indent(yaml)), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := confmap.NewResolver(confmap.ResolverSettings{
		URIs:              []string{"file:" + file},
		ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory(), envprovider.NewFactory()},
		DefaultScheme:     "env",
	})
	if err != nil {
		t.Fatal(err)
	}
	conf, err := r.Resolve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sub, err := conf.Sub("component")
	if err != nil {
		t.Fatal(err)
	}
	cfg := defaultTestConfig()
	err = sub.Unmarshal(cfg)
	return cfg, err
}

func indent(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestUnmarshal(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		// want lists the problems, each "path: text the message holds".
		want  []string
		check func(t *testing.T, c *testConfig)
	}{
		{
			name: "valid",
			yaml: `
endpoint: https://es:9200
timeout: 30s
headers: {X-A: b}
tls: {insecure_skip_verify: true}
sending_queue: {enabled: true, queue_size: 10, batch: {flush_timeout: 1s}}
retry_on_failure: {max_elapsed_time: 0}
token: abc
bootstrap: {enabled: false, mode: none, delete_after: 2h}
dead_letter: {path: /x, max_size_mib: 5, index: dlq}
overrides: [{event: "20102", code: "0x00000400", level: ilm}]
count: 7
size: 8
ratio: 1
labels: {a: b}
include: a,b`,
			check: func(t *testing.T, c *testConfig) {
				if c.Client.Timeout != 30*time.Second || c.Bootstrap.Enabled || c.Bootstrap.DeleteAfter != 2*time.Hour ||
					c.DeadLetter.File.Path != "/x" || c.Queue.Get().QueueSize != 10 || c.Retry.MaxElapsedTime != 0 ||
					c.Ratio != 1 || len(c.Include) != 2 || len(c.Client.Headers) != 1 {
					t.Errorf("not decoded: %+v", c)
				}
			},
		},
		{
			name: "near spellings",
			yaml: `
apikey: x
Endpoint: https://es:9200
hec_token: t
bootstrap: {enable: false}
dead_letter: {file: /x}
sending_queue: {queue_sise: 3}`,
			want: []string{
				"apikey: unknown setting; the component's README lists the settings it takes",
				"Endpoint: unknown setting; did you mean endpoint?",
				"hec_token: unknown setting; did you mean token?",
				"bootstrap::enable: unknown setting; did you mean bootstrap::enabled?",
				"dead_letter::file: unknown setting; did you mean dead_letter::path?",
				"sending_queue::queue_sise: unknown setting; did you mean sending_queue::queue_size?",
			},
			check: func(t *testing.T, c *testConfig) {
				if !c.Bootstrap.Enabled {
					t.Error("the refused bootstrap::enable still reached the config")
				}
			},
		},
		{
			name: "key at the wrong level",
			yaml: "delete_after: 90h\nmax_size_mib: 3",
			want: []string{
				"delete_after: unknown setting here; did you mean bootstrap::delete_after?",
				"max_size_mib: unknown setting here; did you mean dead_letter::max_size_mib?",
			},
		},
		{
			name: "nothing near",
			yaml: "bootstrap: {colour: red}",
			want: []string{"bootstrap::colour: unknown setting; bootstrap takes delete_after, enabled or mode"},
		},
		{
			name: "bare durations",
			yaml: "timeout: 30\nbootstrap: {delete_after: 2.5}\nretry_on_failure: {initial_interval: 5, max_elapsed_time: 0}",
			want: []string{
				"timeout: 30 has no unit, so it would mean 30 nanoseconds; write the unit, e.g. 30s",
				"bootstrap::delete_after: 2.5 has no unit",
				"retry_on_failure::initial_interval: 5 has no unit",
			},
			check: func(t *testing.T, c *testConfig) {
				if c.Client.Timeout != 90*time.Second {
					t.Errorf("timeout %v: the refused value reached the config", c.Client.Timeout)
				}
			},
		},
		{
			name: "durations that do not parse",
			yaml: `timeout: "30"` + "\nbootstrap: {delete_after: 90d}\nsending_queue: {batch: {flush_timeout: 1 sec}}",
			want: []string{
				`timeout: "30" has no unit`,
				`bootstrap::delete_after: "90d" is not a duration; write a number with a unit, e.g. 30s`,
				`sending_queue::batch::flush_timeout: "1 sec" is not a duration`,
			},
		},
		{
			name: "blocks written as one value",
			yaml: "bootstrap: false\nsending_queue: false\ndead_letter: /var/dlq.jsonl\nretry_on_failure: [a]\ntls: yes",
			want: []string{
				"bootstrap: is a block of settings, not false; write bootstrap: {enabled: false}",
				"sending_queue: is a block of settings, not false; write sending_queue: {enabled: false}",
				"dead_letter: is a block of settings, not a single value; write dead_letter: {path: /var/dlq.jsonl}",
				"retry_on_failure: is a block of settings (key: value lines under it), not a list",
				"tls: is a block of settings (key: value lines under it), not a single value",
			},
		},
		{
			name: "values of the wrong kind",
			yaml: "index: 2024\ndead_letter: {max_size_mib: many}\nsize: -1\nratio: x\nbootstrap: {enabled: yes}\nsending_queue: {enabled: 1, queue_size: 1e30}\nlabels: [a]\ninclude: {a: b}\ncount: 2.5\nretry_on_failure: {multiplier: 70000}\ncustom: {size: 70000}",
			want: []string{
				`index: YAML read 2024 as a number, not text; put it in quotes: index: "2024"`,
				`count: expects a whole number, got 2.5`,
				`dead_letter::max_size_mib: expects a whole number, got "many"`,
				`sending_queue::queue_size: 1e+30 is too large`,
				`custom::size: 70000 is too large`,
				`size: must not be negative, got -1`,
				`ratio: expects a number, got "x"`,
				`bootstrap::enabled: expects true or false, got "yes"`,
				`sending_queue::enabled: expects true or false, got 1`,
				`labels: expects key: value pairs under it, got a list`,
				`include: expects a list (- item lines or [a, b]), not settings under it`,
			},
		},
		{
			name: "secrets",
			yaml: "token: 123456\npassword: x\nheaders: {X-Key: 123456, X-Empty: \"\"}",
			want: []string{
				"token: YAML read the value as a number, not text; put it in quotes",
				"password: unknown setting",
				"headers::X-Key: YAML read the value as a number, not text; put it in quotes",
			},
		},
		{
			name: "secret from an unset variable",
			yaml: "token: ${env:CONFIGCHECK_UNSET_TOKEN}",
			want: []string{"token: the value is empty; if it comes from an environment variable (${env:NAME}), that variable is unset"},
		},
		{
			name: "numbers from variables stay text",
			yaml: "token: ${env:CONFIGCHECK_TOKEN}\nindex: ${env:CONFIGCHECK_INDEX}",
			env:  map[string]string{"CONFIGCHECK_TOKEN": "0123", "CONFIGCHECK_INDEX": "2024"},
			check: func(t *testing.T, c *testConfig) {
				if c.Token != "0123" || c.Index != "2024" {
					t.Errorf("token %q, index %q", string(c.Token), c.Index)
				}
			},
		},
		{
			name: "own text parsers",
			yaml: "bootstrap: {mode: forever}\noverrides:\n  - {event: a, code: 1024, level: ilm}\n  - {event: b, code: zz}\n  - {event: c, level: 5}\n  - {event: d, code: -1}",
			want: []string{
				`bootstrap::mode: "forever" is not one of ilm, none`,
				`overrides[1]::code: "zz" is not a hex code like 0x00000400`,
				`overrides[2]::level: "5" is not one of ilm, none`,
				`overrides[3]::code: a code is not negative`,
			},
			check: func(t *testing.T, c *testConfig) {
				// Refused elements are left out; the number became hex.
				if len(c.Overrides) != 1 || c.Overrides[0].Code != "0x00000400" || c.Overrides[0].Level != "ilm" {
					t.Errorf("overrides %+v", c.Overrides)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := load(t, tt.yaml, tt.env)
			if err != nil {
				t.Fatalf("decoding failed, which the checks should have prevented: %v", err)
			}
			if strings.Contains(fmt.Sprint(cfg.problems.Err()), "123456") {
				t.Errorf("a secret reached the message: %v", cfg.problems.Err())
			}
			got := cfg.problems.List()
			if len(got) != len(tt.want) {
				t.Errorf("%d problems, want %d:\n%v", len(got), len(tt.want), cfg.problems.Err())
			}
			for _, w := range tt.want {
				p, _, _ := strings.Cut(w, ": ")
				if !cfg.problems.Has(p) {
					t.Errorf("no problem at %s; got:\n%v", p, cfg.problems.Err())
					continue
				}
				if err := cfg.problems.Err(); !strings.Contains(err.Error(), w) {
					t.Errorf("problems\n%v\nlack %q", err, w)
				}
			}
			if tt.check != nil {
				tt.check(t, cfg)
			}
		})
	}
}

// A decoding error the checks do not foresee still stops the load, with
// the problems found.
func TestUnmarshalDecodeError(t *testing.T) {
	_, err := load(t, "bootstrap: {enable: true}\ncustom: {fail: true}", nil)
	if err == nil || !strings.Contains(err.Error(), "bootstrap::enable: unknown setting") || !strings.Contains(err.Error(), "custom refusal") {
		t.Fatalf("error %v", err)
	}
}

func TestUnmarshalNeedsStructPointer(t *testing.T) {
	var s string
	if _, err := Unmarshal(confmap.New(), &s); err == nil {
		t.Fatal("a *string was accepted")
	}
}

func TestProblemsNil(t *testing.T) {
	var p *Problems
	if p.Err() != nil || p.Has("x") || p.List() != nil {
		t.Fatal("nil Problems must hold nothing")
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		days    bool
		want    time.Duration
		wantErr string
	}{
		{in: "30s", want: 30 * time.Second},
		{in: " 1h30m ", want: 90 * time.Minute},
		{in: "0", want: 0},
		{in: "90d", days: true, want: 90 * Day},
		{in: "1d12h", days: true, want: 36 * time.Hour},
		{in: "2160h", days: true, want: 90 * Day},
		{in: "30", wantErr: `"30" has no unit, so it would mean nanoseconds; write the unit, e.g. 30s`},
		{in: "30", days: true, wantErr: `"30" has no unit, so it would mean nanoseconds; write the unit, e.g. 30d (units: ms, s, m, h, d)`},
		{in: "90d", wantErr: `"90d" is not a duration; write a number with a unit, e.g. 30s (units: ms, s, m, h)`},
		{in: "1.5d", days: true, wantErr: `"1.5d" is not a duration; write whole days before d`},
		{in: "1d-1h", days: true, wantErr: `"1d-1h" is not a duration`},
		{in: "-1h", wantErr: `"-1h" is negative; write a positive number with a unit, e.g. 30s (units: ms, s, m, h)`},
		{in: "", wantErr: `"" is not a duration`},
		{in: "a month", days: true, wantErr: `"a month" is not a duration`},
	}
	for _, tt := range tests {
		t.Run(tt.in+"/"+strconv.FormatBool(tt.days), func(t *testing.T) {
			got, err := ParseDuration(tt.in, tt.days)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestAtLeast(t *testing.T) {
	if err := AtLeast("timeout", time.Second, time.Second, "why"); err != nil {
		t.Fatal(err)
	}
	err := AtLeast("ack::poll_interval", 2, time.Millisecond, "below it the poll never pauses")
	if err == nil || err.Error() != "ack::poll_interval: 2ns is below the minimum of 1ms: below it the poll never pauses" {
		t.Fatalf("got %v", err)
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"api_key", "enabled", "endpoint", "endpoints", "path", "rollover_max_age", "token", "user"}
	tests := []struct{ in, want string }{
		{"apikey", "api_key"},
		{"API_KEY", "api_key"},
		{"enable", "enabled"},
		{"hec_token", "token"},
		{"file", "path"},
		{"username", "user"},
		{"urls", "endpoints"},
		{"endpont", "endpoint"},
		{"age", "rollover_max_age"},
		{"colour", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		got := suggestSame(tt.in, known)
		if got == "" {
			got = suggestNear(tt.in, known)
		}
		if got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
