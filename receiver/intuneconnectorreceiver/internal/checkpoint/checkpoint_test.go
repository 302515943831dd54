package checkpoint

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-intune/otelcol-intune/receiver/intuneconnectorreceiver/internal/fileid"
)

func TestLoad(t *testing.T) {
	head := []byte("<Event><System><EventID>1001</EventID>")
	stored := Record{Path: "/x/a.xml", Format: "xml", Offset: 500, FPLen: len(head), FP: fileid.Fingerprint(head)}
	broken := errors.New("disk gone")
	tests := []struct {
		name      string
		value     []byte
		getErr    error
		head      []byte
		wantFound bool
		wantErr   error
	}{
		{name: "nothing stored", wantFound: false},
		{name: "stored and same content", value: stored.Marshal(), head: head, wantFound: true},
		{name: "stored and longer file", value: stored.Marshal(), head: append(append([]byte(nil), head...), "<more>"...), wantFound: true},
		{name: "identity reused by other content", value: stored.Marshal(), head: []byte("<Events><Event>other</Event>"), wantErr: ErrReused},
		{name: "damaged value", value: []byte(`{"format":"csv"}`), head: head, wantErr: ErrDamaged},
		{name: "storage fails", getErr: broken, wantErr: broken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &failingGet{MemoryClient: NewMemoryClient(), err: tt.getErr}
			if tt.value != nil {
				if err := c.Set(context.Background(), Key("dev1-ino2"), tt.value); err != nil {
					t.Fatal(err)
				}
			}
			rec, found, err := Load(context.Background(), c, Key("dev1-ino2"), tt.head)
			if found != tt.wantFound || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("found %v, err %v; want found %v, err %v", found, err, tt.wantFound, tt.wantErr)
			}
			if found && rec != stored {
				t.Errorf("record %+v, want %+v", rec, stored)
			}
		})
	}
}

type failingGet struct {
	*MemoryClient
	err error
}

func (c *failingGet) Get(ctx context.Context, key string) ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	return c.MemoryClient.Get(ctx, key)
}

func TestResume(t *testing.T) {
	head := []byte("<Events><Event>first</Event>")
	rec := Record{Format: "xml", Offset: 100, FPLen: len(head), FP: fileid.Fingerprint(head)}
	tests := []struct {
		name       string
		size       int64
		head       []byte
		want       Rewind
		wantOffset int64
	}{
		{name: "grown", size: 300, head: head, want: Continue, wantOffset: 100},
		{name: "unchanged", size: 100, head: head, want: Continue, wantOffset: 100},
		{name: "truncated", size: 50, head: head, want: Truncated, wantOffset: 0},
		{name: "rewritten in place", size: 300, head: []byte("<Events><Event>other</Event>"), want: Replaced, wantOffset: 0},
		{name: "shorter head than fingerprinted", size: 300, head: head[:5], want: Replaced, wantOffset: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := rec.Resume(tt.size, tt.head)
			if why != tt.want || got.Offset != tt.wantOffset {
				t.Errorf("Resume = offset %d, %v; want %d, %v", got.Offset, why, tt.wantOffset, tt.want)
			}
		})
	}
}

func TestMemoryClient(t *testing.T) {
	ctx := context.Background()
	c := NewMemoryClient()
	v := []byte("value")
	if err := c.Set(ctx, "a", v); err != nil {
		t.Fatal(err)
	}
	v[0] = 'X' // the client keeps its own copy
	if err := c.Batch(ctx, storage.SetOperation("b", []byte("2")), storage.DeleteOperation("a")); err != nil {
		t.Fatal(err)
	}
	get := storage.GetOperation("b")
	if err := c.Batch(ctx, get); err != nil || string(get.Value) != "2" {
		t.Fatalf("batch get: %q, %v", get.Value, err)
	}
	if got, _ := c.Get(ctx, "a"); got != nil {
		t.Errorf("deleted key still holds %q", got)
	}
	if err := c.Set(ctx, "a", []byte("value")); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(ctx, "a"); string(got) != "value" {
		t.Errorf("Get = %q", got)
	}
	if err := c.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := c.Batch(ctx, &storage.Operation{Type: storage.OpType(99), Key: "x"}); err == nil {
		t.Error("an unknown operation was accepted")
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// Whatever Parse accepts survives a round trip through Marshal.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"path":"/x/a.xml","format":"xml","offset":123,"fp_len":4,"fp":"00ff"}`))
	f.Add([]byte(`{"path":"C:\\logs\\a.evtx","format":"evtx","record":99}`))
	f.Add([]byte(`{"format":"json","offset":-1}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := Parse(b)
		if err != nil {
			return
		}
		again, err := Parse(rec.Marshal())
		if err != nil || again != rec {
			t.Fatalf("round trip of %q: %+v, %v", b, again, err)
		}
	})
}
