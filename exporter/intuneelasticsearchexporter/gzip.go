package intuneelasticsearchexporter

import (
	"bytes"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// gzipper compresses bulk bodies. Bulk bodies are the exporter's largest
// cost after encoding, and klauspost's gzip does the same work in a
// fraction of the standard library's time; the HTTP settings' compression
// (compression: gzip, compression_params::level) still decide whether and
// how hard to compress.
type gzipper struct {
	level   int
	writers sync.Pool
	bufs    sync.Pool
}

func newGzipper(level int) *gzipper {
	if level == 0 || level < gzip.HuffmanOnly || level > gzip.BestCompression {
		level = gzip.BestSpeed
	}
	g := &gzipper{level: level}
	g.writers.New = func() any {
		w, _ := gzip.NewWriterLevel(nil, level)
		return w
	}
	g.bufs.New = func() any { return new(bytes.Buffer) }
	return g
}

// compress returns body compressed in a buffer to hand back with release.
func (g *gzipper) compress(body []byte) *bytes.Buffer {
	buf := g.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	w := g.writers.Get().(*gzip.Writer)
	w.Reset(buf)
	// Writes to a bytes.Buffer do not fail.
	_, _ = w.Write(body)
	_ = w.Close()
	g.writers.Put(w)
	return buf
}

func (g *gzipper) release(buf *bytes.Buffer) {
	if buf.Cap() <= maxKeptBuffer {
		g.bufs.Put(buf)
	}
}
