package delivery

import "time"

// A push resends, itself and at once, what the server turned away only for
// a moment: documents rejected while their request went through (bulk item
// 429 or 5xx) and requests throttled with a short Retry-After. Handing
// them to exporterhelper instead would hold a sending-queue consumer in its
// backoff (5 s, then ×1.5) while nothing else is sent; with a few percent
// of documents rejected that cut throughput by two orders of magnitude.
// The push still returns only once every record is delivered,
// dead-lettered, or handed back, so the checkpoint and exactly-once
// guarantees hold (a resent document that did go in is a 409).
const (
	// DocRounds is how many times a push resends rejected documents
	// before handing them back to exporterhelper's backoff.
	DocRounds = 4
	// docPause is the first pause before resending rejected documents; it
	// doubles each round (5, 10, 20, 40 ms, ±25%). A rejection means a
	// node's write queue was full at that instant; a pause of about one
	// bulk request lets it drain without stalling the sender.
	docPause = 5 * time.Millisecond
	// largeShare: when more than this share of a request's documents is
	// rejected, the cluster is overloaded rather than unlucky, and the
	// push hands them to exporterhelper, whose backoff slows the sender.
	largeShare = 0.5

	// ThrottleRounds is how many throttled answers a push waits out itself.
	ThrottleRounds = 2
	// maxThrottlePause is the longest Retry-After a push waits itself; a
	// longer one goes to exporterhelper, which waits at least as long.
	maxThrottlePause = 5 * time.Second
	// throttlePause is the first pause after a throttled answer that named
	// no wait; it doubles each round.
	throttlePause = 250 * time.Millisecond
)

// DocPause is the pause before the given round (1 for the first) of
// resending rejected documents, and false when the push should hand them
// back to exporterhelper instead: after DocRounds rounds, or when they are
// a large share of the documents sent.
func DocPause(round, rejected, sent int) (time.Duration, bool) {
	if round > DocRounds || sent == 0 || float64(rejected) > largeShare*float64(sent) {
		return 0, false
	}
	return jitter(docPause << (round - 1)), true
}

// ThrottlePause is the pause before sending a throttled request again
// within the push (round 1 for the first), given the server's Retry-After
// (0 when none), and false when the push should hand the request back to
// exporterhelper with the wait instead.
func ThrottlePause(round int, wait time.Duration) (time.Duration, bool) {
	if round > ThrottleRounds || wait > maxThrottlePause {
		return 0, false
	}
	if wait > 0 {
		return wait, true
	}
	return jitter(throttlePause << (round - 1)), true
}
