package delivery

import (
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Health reports the exporter's status through componentstatus from what
// its requests meet: a recoverable error while the server refuses its
// configuration (credentials, privileges), OK again once it accepts.
type Health struct {
	logger *zap.Logger
	logs   *LogLimiter

	mu      sync.Mutex
	host    component.Host
	failing bool
}

// AuthLogEvery is how often the line about refused credentials is
// repeated while they stay wrong.
const AuthLogEvery = time.Minute

// NewHealth returns a Health that logs through logger.
func NewHealth(logger *zap.Logger) *Health {
	return &Health{logger: logger, logs: NewLogLimiter(AuthLogEvery)}
}

// Start keeps the host to report to.
func (h *Health) Start(host component.Host) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.host = host
}

// Failing reports a recoverable error (once, until OK) and logs msg with
// err at most once per AuthLogEvery. err must name the setting to fix and
// never hold a secret.
func (h *Health) Failing(err error, msg string, fields ...zap.Field) {
	h.mu.Lock()
	report := !h.failing && h.host != nil
	h.failing = true
	host := h.host
	h.mu.Unlock()
	if report {
		componentstatus.ReportStatus(host, componentstatus.NewRecoverableErrorEvent(err))
	}
	h.logs.Log(h.logger, zapcore.ErrorLevel, "failing", msg, append(fields, zap.Error(err))...)
}

// OK reports the component healthy again after Failing.
func (h *Health) OK() {
	h.mu.Lock()
	report := h.failing && h.host != nil
	h.failing = false
	host := h.host
	h.mu.Unlock()
	if report {
		componentstatus.ReportStatus(host, componentstatus.NewEvent(componentstatus.StatusOK))
		h.logger.Info("the server accepts the exporter's requests again")
	}
}

// Failed tells whether the last report was a failure.
func (h *Health) Failed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failing
}
