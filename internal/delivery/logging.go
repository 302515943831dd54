package delivery

import (
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// LogLimiter lets one line per key through every interval and says how
// many were held back, so a flood of bad records, or a wrong setting met by
// every request, cannot flood the log.
type LogLimiter struct {
	mu       sync.Mutex
	interval time.Duration
	last     map[string]time.Time
	held     map[string]int
}

// NewLogLimiter returns a limiter with the given interval per key.
func NewLogLimiter(interval time.Duration) *LogLimiter {
	return &LogLimiter{interval: interval, last: map[string]time.Time{}, held: map[string]int{}}
}

// allow reports whether to log now, and how many lines for key were held
// back since the last one.
func (l *LogLimiter) allow(key string, now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.last[key]; ok && now.Sub(t) < l.interval {
		l.held[key]++
		return false, 0
	}
	l.last[key] = now
	n := l.held[key]
	l.held[key] = 0
	return true, n
}

// Log writes msg at level unless a line with the same key went out less
// than an interval ago; a line that goes out says how many were held back.
func (l *LogLimiter) Log(logger *zap.Logger, level zapcore.Level, key, msg string, fields ...zap.Field) {
	ce := logger.Check(level, msg)
	if ce == nil {
		return
	}
	ok, held := l.allow(key, time.Now())
	if !ok {
		return
	}
	if held > 0 {
		fields = append(fields, zap.Int("similar_messages_suppressed", held))
	}
	ce.Write(fields...)
}
