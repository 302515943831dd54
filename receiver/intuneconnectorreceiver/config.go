package intuneconnectorreceiver

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"

	"github.com/otelcol-intune/otelcol-intune/internal/catalogfile"
	"github.com/otelcol-intune/otelcol-intune/internal/configcheck"
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// Config configures the intune_connector receiver. File sources work on
// every OS; channels only on Windows.
type Config struct {
	// Include and Exclude are file globs in filepath.Match syntax.
	Include []string `mapstructure:"include"`
	Exclude []string `mapstructure:"exclude"`
	// Format forces the input format of every file; auto detects it from
	// the content of each file.
	Format Format `mapstructure:"format"`
	// StartAt applies only where no checkpoint exists.
	StartAt StartAt `mapstructure:"start_at"`
	// PollInterval is how often the globs are matched and files checked
	// for new data.
	PollInterval time.Duration `mapstructure:"poll_interval"`
	// MaxEventSize bounds one event in a file, and with it memory.
	MaxEventSize int `mapstructure:"max_event_size"`
	// IncludeFileName and IncludeFilePath add log.file.name and
	// log.file.path to records read from files.
	IncludeFileName bool `mapstructure:"include_file_name"`
	IncludeFilePath bool `mapstructure:"include_file_path"`

	// Channels are the Windows event log channels to subscribe to.
	Channels []string `mapstructure:"channels"`
	// ChannelRetryInterval is how often a channel that does not exist yet
	// (or a remote server that is down) is tried again.
	ChannelRetryInterval time.Duration `mapstructure:"channel_retry_interval"`
	// Remote reads the channels of another Windows server.
	Remote RemoteConfig `mapstructure:"remote"`

	// MaxBatchSize and MaxBatchDelay bound a batch handed to the pipeline.
	MaxBatchSize  int           `mapstructure:"max_batch_size"`
	MaxBatchDelay time.Duration `mapstructure:"max_batch_delay"`
	// Retry governs batches the pipeline refused with a retryable error.
	Retry configretry.BackOffConfig `mapstructure:"retry_on_failure"`
	// Storage is the ID of a storage extension (file_storage) that keeps
	// file checkpoints and channel bookmarks across restarts.
	Storage *component.ID `mapstructure:"storage"`

	Enrichment mapping.Config `mapstructure:"enrichment"`

	// problems are the settings Unmarshal refused; Validate reports them.
	problems *configcheck.Problems

	_ struct{}
}

// Unmarshal refuses unknown keys (naming the one meant), durations without
// a unit and blocks written as one value, before decoding the rest.
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	p, err := configcheck.Unmarshal(conf, c)
	c.problems = p
	return err
}

// RemoteConfig names a remote Windows server whose channels are read over
// RPC, and the account used.
type RemoteConfig struct {
	Server   string              `mapstructure:"server"`
	Domain   string              `mapstructure:"domain"`
	Username string              `mapstructure:"username"`
	Password configopaque.String `mapstructure:"password"`

	_ struct{}
}

// StartAt says where reading starts for a file or channel without a
// checkpoint.
type StartAt string

const (
	StartAtBeginning StartAt = "beginning"
	StartAtEnd       StartAt = "end"
)

// UnmarshalText rejects values other than beginning and end.
func (s *StartAt) UnmarshalText(b []byte) error {
	switch v := StartAt(strings.ToLower(strings.TrimSpace(string(b)))); v {
	case StartAtBeginning, StartAtEnd:
		*s = v
		return nil
	}
	return fmt.Errorf("%q is not one of %s, %s", string(b), StartAtBeginning, StartAtEnd)
}

// Format is the input format setting.
type Format string

const (
	FormatAuto Format = "auto"
	FormatXML  Format = "xml"
	FormatJSON Format = "json"
	FormatEVTX Format = "evtx"
)

// UnmarshalText rejects unknown formats.
func (f *Format) UnmarshalText(b []byte) error {
	switch v := Format(strings.ToLower(strings.TrimSpace(string(b)))); v {
	case FormatAuto, FormatXML, FormatJSON, FormatEVTX:
		*f = v
		return nil
	case "":
		*f = FormatAuto
		return nil
	}
	return fmt.Errorf("%q is not one of %s, %s, %s, %s", string(b), FormatAuto, FormatXML, FormatJSON, FormatEVTX)
}

func (f Format) decoderFormat() wineventlog.Format {
	switch f {
	case FormatXML:
		return wineventlog.FormatXML
	case FormatJSON:
		return wineventlog.FormatJSON
	case FormatEVTX:
		return wineventlog.FormatEVTX
	}
	return wineventlog.FormatUnknown
}

// minInterval is the shortest pause the receiver's loops take: shorter
// ones (a bare 1 is a nanosecond) spin a CPU.
const minInterval = time.Millisecond

// channelsSupported reports whether this build can subscribe to channels.
const channelsSupported = runtime.GOOS == "windows"

// Validate checks the configuration without changing it.
func (c *Config) Validate() error {
	errs := []error{c.problems.Err()}
	if len(c.Include) == 0 && len(c.Channels) == 0 {
		if channelsSupported {
			errs = append(errs, errors.New("nothing to read: set channels (Windows event log channels) or include (globs of exported event files)"))
		} else {
			errs = append(errs, errors.New("include: set at least one glob of exported event files (EVTX, XML or JSON); channels can be read only on Windows"))
		}
	}
	for i, p := range append(append([]string(nil), c.Include...), c.Exclude...) {
		key := fmt.Sprintf("include[%d]", i)
		if i >= len(c.Include) {
			key = fmt.Sprintf("exclude[%d]", i-len(c.Include))
		}
		if strings.TrimSpace(p) == "" {
			errs = append(errs, fmt.Errorf("%s: the glob is empty", key))
			continue
		}
		if _, err := filepath.Match(p, ""); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a valid glob: %w", key, p, err))
		}
	}
	switch c.Format {
	case FormatAuto, FormatXML, FormatJSON, FormatEVTX:
	default:
		errs = append(errs, fmt.Errorf("format: %q is not one of auto, xml, json, evtx", c.Format))
	}
	switch c.StartAt {
	case StartAtBeginning, StartAtEnd:
	default:
		errs = append(errs, fmt.Errorf("start_at: %q is not one of beginning, end", c.StartAt))
	}
	errs = append(errs, configcheck.AtLeast("poll_interval", c.PollInterval, minInterval, "below it the receiver checks the files without pausing (the default is 1s)"))
	if c.MaxEventSize < 1024 {
		errs = append(errs, fmt.Errorf("max_event_size: must be at least 1024 bytes, got %d", c.MaxEventSize))
	}
	if c.MaxBatchSize <= 0 {
		errs = append(errs, fmt.Errorf("max_batch_size: must be positive, got %d", c.MaxBatchSize))
	}
	errs = append(errs, configcheck.AtLeast("max_batch_delay", c.MaxBatchDelay, minInterval, "below it every event is a batch of its own (the default is 200ms)"))
	if len(c.Channels) > 0 && !channelsSupported {
		errs = append(errs, fmt.Errorf("channels: Windows event log channels can be read only by a collector running on Windows (this one runs on %s); export the logs (wevtutil epl or qe /f:xml) and read the files with include", runtime.GOOS))
	}
	seen := map[string]bool{}
	for i, ch := range c.Channels {
		name := strings.TrimSpace(ch)
		switch {
		case name == "":
			errs = append(errs, fmt.Errorf("channels[%d]: the channel name is empty", i))
		case seen[strings.ToLower(name)]:
			errs = append(errs, fmt.Errorf("channels[%d]: %q is listed twice", i, ch))
		}
		seen[strings.ToLower(name)] = true
	}
	if len(c.Channels) > 0 {
		errs = append(errs, configcheck.AtLeast("channel_retry_interval", c.ChannelRetryInterval, minInterval, "below it a missing channel is tried again without pausing (the default is 30s)"))
	}
	if c.Remote.Server == "" && (c.Remote.Username != "" || c.Remote.Password != "" || c.Remote.Domain != "") {
		errs = append(errs, errors.New("remote: username, password and domain need remote.server"))
	}
	if c.Remote.Server != "" && len(c.Channels) == 0 {
		errs = append(errs, errors.New("remote.server: set channels to read from the remote server"))
	}
	if c.Remote.Password != "" && c.Remote.Username == "" {
		errs = append(errs, errors.New("remote.password: set remote.username too"))
	}
	// retry_on_failure and enrichment validate themselves: the collector
	// calls Validate on every nested config and prefixes the key. The
	// catalog files are read here, so that validate reports a bad one.
	errs = append(errs, catalogfile.Check("enrichment", c.Enrichment))
	return errors.Join(errs...)
}
