package delivery

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"go.opentelemetry.io/collector/config/configcompression"
)

// Bodies pools request body buffers and, when compression is on, gzip
// writers. Bodies are an exporter's largest allocation after encoding and
// a gzip writer's state is hundreds of kilobytes, so both are reused;
// klauspost's gzip does the standard library's work in a fraction of its
// time. The HTTP settings (compression: gzip, compression_params::level)
// still decide whether and how hard to compress.
type Bodies struct {
	level   int // 0: no compression
	writers sync.Pool
	bufs    sync.Pool
}

// maxKeptBody is the largest buffer put back, so one huge request does not
// pin its memory for good.
const maxKeptBody = 64 << 20

// CheckCompression validates the HTTP settings NewBodies is given: the
// exporters compress bodies themselves and only in gzip, which both
// Elasticsearch and HEC accept, so another algorithm would otherwise be
// ignored without a word.
func CheckCompression(c configcompression.Type, level configcompression.Level) error {
	switch c {
	case "", "none", configcompression.TypeGzip:
	default:
		return fmt.Errorf("compression: %q is not supported: this exporter sends gzip or uncompressed bodies; use gzip or none", c)
	}
	if l := int(level); c == configcompression.TypeGzip && l != 0 && (l < gzip.BestSpeed || l > gzip.BestCompression) {
		return fmt.Errorf("compression_params::level: %d is not a gzip level (1 fastest to 9 smallest)", l)
	}
	return nil
}

// NewBodies returns a pool whose bodies are gzip-compressed at level when
// gzip is true; a level of 0 or out of gzip's range is level 1, which gives
// most of gzip's saving on JSON at a fraction of its CPU.
func NewBodies(gzipped bool, level int) *Bodies {
	b := &Bodies{}
	if gzipped {
		if level == 0 || level < gzip.HuffmanOnly || level > gzip.BestCompression {
			level = gzip.BestSpeed
		}
		b.level = level
	}
	return b
}

// Gzip reports whether bodies are compressed (Content-Encoding: gzip).
func (b *Bodies) Gzip() bool { return b.level != 0 }

// Build returns a buffer holding what write writes, compressed when the
// pool compresses. Hand the buffer back with Release, or send it with
// Reader.
func (b *Bodies) Build(write func(w io.Writer) error) (*bytes.Buffer, error) {
	buf, _ := b.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	if b.level == 0 {
		if err := write(buf); err != nil {
			b.Release(buf)
			return nil, err
		}
		return buf, nil
	}
	zw, _ := b.writers.Get().(*gzip.Writer)
	if zw == nil {
		var err error
		if zw, err = gzip.NewWriterLevel(buf, b.level); err != nil {
			b.Release(buf)
			return nil, err
		}
	} else {
		zw.Reset(buf)
	}
	defer b.writers.Put(zw)
	if err := write(zw); err != nil {
		b.Release(buf)
		return nil, err
	}
	if err := zw.Close(); err != nil {
		b.Release(buf)
		return nil, err
	}
	return buf, nil
}

// Release hands a buffer back.
func (b *Bodies) Release(buf *bytes.Buffer) {
	if buf != nil && buf.Cap() <= maxKeptBody {
		b.bufs.Put(buf)
	}
}

// Reader returns buf as a request body that hands buf back when the HTTP
// transport closes it, which it does once it no longer reads it (a retry
// after a redirect or a dropped connection may read it after the answer).
func (b *Bodies) Reader(buf *bytes.Buffer) io.ReadCloser {
	return &pooledBody{r: bytes.NewReader(buf.Bytes()), buf: buf, pool: b}
}

type pooledBody struct {
	r    *bytes.Reader
	buf  *bytes.Buffer
	pool *Bodies
	once sync.Once
}

func (p *pooledBody) Read(b []byte) (int, error) { return p.r.Read(b) }

func (p *pooledBody) Close() error {
	p.once.Do(func() { p.pool.Release(p.buf) })
	return nil
}
