package intunemetricsconnector

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/confmap"

	"github.com/otelcol-intune/otelcol-intune/internal/configcheck"
)

// minInterval keeps a mistyped interval ("15ms") from turning the connector
// into a busy loop: the sums are cumulative, so sending them more often than
// a scraper or backend reads them only adds load.
const minInterval = time.Second

// Config of the intune_metrics connector.
type Config struct {
	// Interval is how often the current totals and ages are sent on.
	Interval time.Duration `mapstructure:"interval"`
	// MaxSeries bounds the attribute sets kept for each metric; events of
	// sets beyond it are counted in one overflow series.
	MaxSeries int `mapstructure:"max_series"`
	// ExpireAfter forgets a series that saw no event for this long; 0 keeps
	// every series while the collector runs.
	ExpireAfter time.Duration `mapstructure:"expire_after"`

	// problems are the settings Unmarshal refused; Validate reports them.
	problems *configcheck.Problems
}

// Unmarshal refuses unknown keys (naming the one meant) and values of the
// wrong kind, such as a duration without a unit, before decoding the rest.
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	p, err := configcheck.Unmarshal(conf, c)
	c.problems = p
	return err
}

// Validate checks the config without changing it.
func (c *Config) Validate() error {
	errs := []error{c.problems.Err()}
	if c.Interval < minInterval {
		errs = append(errs, fmt.Errorf("interval: %s is too short; use %s or more (15s is a good start)", c.Interval, minInterval))
	}
	if c.MaxSeries <= 0 {
		errs = append(errs, fmt.Errorf("max_series: %d must be a positive number of attribute sets per metric", c.MaxSeries))
	}
	switch {
	case c.ExpireAfter < 0:
		errs = append(errs, fmt.Errorf("expire_after: %s is negative; use 0 to keep every series, or a duration such as 168h", c.ExpireAfter))
	case c.ExpireAfter > 0 && c.ExpireAfter < c.Interval:
		errs = append(errs, fmt.Errorf("expire_after: %s is shorter than interval (%s), so series would vanish before they are sent; use 0 or at least the interval", c.ExpireAfter, c.Interval))
	}
	return errors.Join(errs...)
}
