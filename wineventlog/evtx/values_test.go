package evtx

import (
	"encoding/binary"
	"math/rand"
	"testing"
	"unicode/utf16"
)

// appendUTF16 copies ASCII several characters at a time; its output must
// not depend on where in the string other characters fall.
func TestAppendUTF16(t *testing.T) {
	pool := []uint16{'a', 'Z', 0, 0x7f, 0x80, 0xe9, 0x20ac, 0xd83d, 0xde00, 0xdc00, 0xffff}
	rng := rand.New(rand.NewSource(1))
	for n := 0; n < 2000; n++ {
		units := make([]uint16, rng.Intn(24))
		for i := range units {
			if rng.Intn(3) == 0 {
				units[i] = pool[rng.Intn(len(pool))]
			} else {
				units[i] = uint16('a' + rng.Intn(26))
			}
		}
		b := make([]byte, 2*len(units))
		for i, u := range units {
			binary.LittleEndian.PutUint16(b[2*i:], u)
		}
		want := string(utf16.Decode(units))
		if got := string(appendUTF16([]byte("x"), b)); got != "x"+want {
			t.Fatalf("appendUTF16(%04x) = %q, want %q", units, got, "x"+want)
		}
	}
}
