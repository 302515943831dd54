package delivery

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Retries turns what a push could not deliver into the error exporterhelper
// acts on, and keeps retry_on_failure::max_elapsed_time itself.
//
// Why not leave the limit to exporterhelper: records held back because the
// server refuses the credentials must wait for the fix however long it
// takes (dropping them, or their checkpoint moving on, would lose them),
// and exporterhelper's limit counts from a request's first attempt for any
// error. So exporterhelper gets the settings without the limit, and the
// exporter enforces it for every other failure: a push hands back exactly
// the records still to send, exporterhelper calls the exporter again with
// that very plog.Logs, and Retries remembers since when it has been failing.
type Retries struct {
	enabled    bool
	maxElapsed time.Duration
	// forget drops what was handed back but never came back (the push was
	// cancelled, or the collector stopped), long after any backoff or
	// Retry-After would have brought it back.
	forget time.Duration

	now func() time.Time

	mu      sync.Mutex
	pending map[plog.Logs]retryState
}

type retryState struct {
	since time.Time // zero: held for the configuration, the clock not running
	added time.Time
}

// NewRetries returns the retry clock for cfg, and the settings to give
// exporterhelper.WithRetry.
func NewRetries(cfg configretry.BackOffConfig) (*Retries, configretry.BackOffConfig) {
	r := &Retries{
		enabled:    cfg.Enabled && cfg.MaxElapsedTime > 0,
		maxElapsed: cfg.MaxElapsedTime,
		forget:     2*cfg.MaxInterval + MaxRetryAfter + time.Minute,
		pending:    map[plog.Logs]retryState{},
		now:        time.Now,
	}
	helper := cfg
	helper.MaxElapsedTime = 0
	return r, helper
}

// Attempt is one push's place in the retries of its records.
type Attempt struct {
	since time.Time
	now   time.Time
}

// Begin is called when a push starts; ld is what exporterhelper handed to
// the push.
func (r *Retries) Begin(ld plog.Logs) Attempt {
	a := Attempt{now: r.now()}
	if !r.enabled {
		return a
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if st, ok := r.pending[ld]; ok {
		a.since = st.since
		delete(r.pending, ld)
	}
	return a
}

// Expired tells whether the records of this attempt have been retried for
// max_elapsed_time: what is still not delivered then is given up (dead
// letter or a permanent error, as the exporter's settings say).
func (r *Retries) Expired(a Attempt) bool {
	return r.enabled && !a.since.IsZero() && a.now.Sub(a.since) >= r.maxElapsed
}

// Since is when the records of this attempt first failed (zero: this is
// their first attempt, or they were held only for the configuration).
func (a Attempt) Since() time.Time { return a.since }

// Result is what a push could not deliver.
type Result struct {
	// Retry holds the records to send again, Cause why. With Auth the
	// cause is refused credentials: no time limit applies, since the
	// records wait for a fix of the configuration.
	Retry plog.Logs
	Cause error
	Auth  bool
	// Wait is the server's Retry-After for the records to send again.
	Wait time.Duration
	// Failed is the error of records given up for good, nil when none.
	Failed error
}

// Err returns the error for exporterhelper: nil, the records to retry
// (with the server's wait), or a permanent error, also for records whose
// retries ran out.
func (r *Retries) Err(a Attempt, res Result) error {
	if res.Retry == (plog.Logs{}) || res.Retry.LogRecordCount() == 0 {
		if res.Failed != nil {
			return consumererror.NewPermanent(res.Failed)
		}
		return nil
	}
	if !res.Auth && r.Expired(a) {
		return consumererror.NewPermanent(errors.Join(r.GiveUp(res.Cause), res.Failed))
	}
	if r.enabled {
		st := retryState{since: a.since, added: r.now()}
		if res.Auth {
			st.since = time.Time{}
		} else if st.since.IsZero() {
			st.since = a.now
		}
		r.mu.Lock()
		for k, v := range r.pending {
			if st.added.Sub(v.added) > r.forget {
				delete(r.pending, k)
			}
		}
		r.pending[res.Retry] = st
		r.mu.Unlock()
	}
	err := consumererror.NewLogs(res.Cause, res.Retry)
	if res.Wait > 0 {
		return exporterhelper.NewThrottleRetry(err, res.Wait)
	}
	return err
}

// GiveUp is the error for records whose retries ran out.
func (r *Retries) GiveUp(cause error) error {
	return fmt.Errorf("no more retries left after retry_on_failure::max_elapsed_time (%s): %w", r.maxElapsed, cause)
}

// Pending is how many handed-back requests are remembered (for tests).
func (r *Retries) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending)
}

// Pause waits d, or until ctx ends or stop is closed; it reports whether it
// waited the whole time.
func Pause(ctx context.Context, stop <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-stop:
	}
	return false
}

// jitter spreads d by ±25%, so documents rejected together do not come
// back together.
func jitter(d time.Duration) time.Duration {
	return d - d/4 + time.Duration(rand.Int64N(int64(d)/2+1))
}
