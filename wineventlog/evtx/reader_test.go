package evtx

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

func testdata(t testing.TB, name string) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".evtx.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type result struct {
	recs   []wineventlog.Record
	damage []*wineventlog.DecodeError
	stats  Stats
}

func decodeBytes(t testing.TB, b []byte, opts Options) result {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b), int64(len(b)), opts)
	if err != nil {
		t.Fatal(err)
	}
	var res result
	for i := 0; ; i++ {
		if i > 1<<20 {
			t.Fatal("Next never returns io.EOF")
		}
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var de *wineventlog.DecodeError
		if errors.As(err, &de) {
			if de.Format != wineventlog.FormatEVTX || de.Reason == "" || de.End < de.Offset {
				t.Errorf("malformed DecodeError %+v", de)
			}
			res.damage = append(res.damage, de)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		res.recs = append(res.recs, rec)
	}
	// Once at the end it stays there.
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("Next after io.EOF returned %v", err)
	}
	res.stats = r.Stats()
	return res
}

func TestIntuneAdminLog(t *testing.T) {
	b := testdata(t, "intune_certificateconnectors_admin")
	if n := binary.LittleEndian.Uint16(b[42:]); n != 17 {
		t.Fatalf("test file changed: header chunk count %d, want 17", n)
	}
	res := decodeBytes(t, b, Options{})
	if len(res.recs) != 1632 {
		t.Fatalf("got %d events, want 1632", len(res.recs))
	}
	if len(res.damage) != 0 {
		t.Errorf("unexpected damage: %v", res.damage[0])
	}
	want := []string{"userId", "deviceId", "serialNumber", "thumbprint", "certificateAuthority", "exception"}
	pastHeaderCount := 0
	var prev int64
	for i, rec := range res.recs {
		ev := rec.Event
		if ev.EventID != 3001 {
			t.Fatalf("event %d: ID %d, want 3001", i, ev.EventID)
		}
		if len(ev.EventData) != len(want) {
			t.Fatalf("event %d: %d EventData items, want %d", i, len(ev.EventData), len(want))
		}
		for j, d := range ev.EventData {
			if d.Name != want[j] {
				t.Fatalf("event %d: EventData[%d] is %q, want %q", i, j, d.Name, want[j])
			}
		}
		if ev.ProviderName != "Microsoft-Intune-CertificateConnectors" || ev.Channel != "Microsoft-Intune-CertificateConnectors/Admin" {
			t.Fatalf("event %d: provider %q channel %q", i, ev.ProviderName, ev.Channel)
		}
		if rec.Position.Offset <= prev || rec.Position.End <= rec.Position.Offset {
			t.Fatalf("event %d: position %+v not after %d", i, rec.Position, prev)
		}
		prev = rec.Position.Offset
		if rec.Position.Offset >= fileHeaderSize+17*chunkSize {
			pastHeaderCount++
		}
		if ev.Original == "" || ev.TimeCreated.Location() != time.UTC || ev.TimeCreated.IsZero() {
			t.Fatalf("event %d: Original or TimeCreated missing", i)
		}
	}
	if pastHeaderCount != 952 {
		t.Errorf("%d events in chunks past the header's count, want 952", pastHeaderCount)
	}
	if res.stats.Records != 1632 || res.stats.Chunks < 41 {
		t.Errorf("stats %+v", res.stats)
	}
}

func TestSecurityEventFields(t *testing.T) {
	res := decodeBytes(t, testdata(t, "security_short_selected"), Options{})
	if len(res.recs) != 7 || len(res.damage) != 0 {
		t.Fatalf("got %d records, %d damage reports; want 7, 0", len(res.recs), len(res.damage))
	}
	rec := res.recs[0]
	ev := rec.Event
	u8 := func(p *uint8) int {
		if p == nil {
			return -1
		}
		return int(*p)
	}
	u32 := func(p *uint32) int64 {
		if p == nil {
			return -1
		}
		return int64(*p)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"ProviderName", ev.ProviderName, "Microsoft-Windows-Security-Auditing"},
		{"ProviderGUID", ev.ProviderGUID, "{54849625-5478-4994-A5BA-3E3B0328C30D}"},
		{"EventID", ev.EventID, uint32(5152)},
		{"Qualifiers", ev.Qualifiers == nil, true},
		{"Version", u8(ev.Version), 0},
		{"Opcode", u8(ev.Opcode), 0},
		{"Level", ev.Level, uint8(0)},
		{"Task", ev.Task, uint16(12809)},
		{"Keywords", ev.Keywords, uint64(0x8010000000000000)},
		{"TimeCreated", ev.TimeCreated, time.Date(2016, 6, 29, 15, 24, 34, 346000000, time.UTC)},
		{"RecordID", ev.RecordID, uint64(319457771)},
		{"ProcessID", u32(ev.ProcessID), int64(4)},
		{"ThreadID", u32(ev.ThreadID), int64(80)},
		{"Channel", ev.Channel, "Security"},
		{"Computer", ev.Computer, "temporal"},
		{"ActivityID", ev.ActivityID, ""},
		{"EventData", len(ev.EventData), 11},
		{"EventData[0]", ev.EventData[0], wineventlog.Data{Name: "ProcessId", Value: "0"}},
		{"EventData[3]", ev.EventData[3], wineventlog.Data{Name: "SourceAddress", Value: "23.94.153.202"}},
		{"RecordNumber", rec.Position.RecordNumber, uint64(1)},
		{"Offset", rec.Position.Offset, int64(fileHeaderSize + chunkHeaderSize)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	const wantXML = `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">
  <System>
    <Provider Name="Microsoft-Windows-Security-Auditing" Guid="{54849625-5478-4994-A5BA-3E3B0328C30D}"/>
    <EventID>5152</EventID>
    <Version>0</Version>
    <Level>0</Level>
    <Task>12809</Task>
    <Opcode>0</Opcode>
    <Keywords>0x8010000000000000</Keywords>
    <TimeCreated SystemTime="2016-06-29T15:24:34.3460000Z"/>
    <EventRecordID>319457771</EventRecordID>
    <Correlation/>
    <Execution ProcessID="4" ThreadID="80"/>
    <Channel>Security</Channel>
    <Computer>temporal</Computer>
    <Security/>
  </System>
  <EventData>
    <Data Name="ProcessId">0</Data>
    <Data Name="Application">-</Data>
    <Data Name="Direction">%%14592</Data>
    <Data Name="SourceAddress">23.94.153.202</Data>
    <Data Name="SourcePort">59639</Data>
    <Data Name="DestAddress">169.46.6.101</Data>
    <Data Name="DestPort">3389</Data>
    <Data Name="Protocol">6</Data>
    <Data Name="FilterRTID">67607</Data>
    <Data Name="LayerName">%%14597</Data>
    <Data Name="LayerRTID">13</Data>
  </EventData>
</Event>`
	if ev.Original != wantXML {
		t.Errorf("Original:\n%s\nwant:\n%s", ev.Original, wantXML)
	}
	var out bytes.Buffer
	if err := RenderXML(&out, &rec); err != nil || out.String() != wantXML+"\n\n" {
		t.Errorf("RenderXML wrote %q, %v", out.String(), err)
	}
}

func TestUserData(t *testing.T) {
	res := decodeBytes(t, testdata(t, "security_1_record"), Options{})
	if len(res.recs) != 1 {
		t.Fatalf("got %d records, want 1", len(res.recs))
	}
	ev := res.recs[0].Event
	if ev.UserDataRoot != "LogFileCleared" {
		t.Errorf("UserDataRoot %q", ev.UserDataRoot)
	}
	want := []wineventlog.Data{
		{Name: "SubjectUserSid", Value: "S-1-5-21-546003962-2713609280-610790815-1001"},
		{Name: "SubjectUserName", Value: "test"},
		{Name: "SubjectDomainName", Value: "TESTCOMPUTER"},
		{Name: "SubjectLogonId", Value: "0x2118a"},
	}
	if len(ev.UserData) != len(want) {
		t.Fatalf("UserData %v, want %v", ev.UserData, want)
	}
	for i := range want {
		if ev.UserData[i] != want[i] {
			t.Errorf("UserData[%d] = %v, want %v", i, ev.UserData[i], want[i])
		}
	}
	// The provider stores its GUID as a lower-case string; the Event field
	// is canonical, the XML shows what the file holds.
	if ev.ProviderGUID != "{FC65DDD8-D6EF-4962-83D5-6E5CFE9CE148}" {
		t.Errorf("ProviderGUID %q", ev.ProviderGUID)
	}
}

// el describes an element for buildTree: its name, its text, its children.
type el struct {
	name, text string
	kids       []el
}

// buildTree makes a finished tree of d, as resolving a record would, for
// tests of the field extraction; it returns the tree and its root.
func buildTree(d el) (*tree, int32) {
	t := &tree{}
	r := resolver{t: t}
	var add func(d el)
	add = func(d el) {
		e, mark, _ := r.open(&node{kind: nodeElement, name: d.name}, nil, 0)
		off := len(t.tb)
		t.tb = append(t.tb, d.text...)
		r.pushText(off)
		for _, k := range d.kids {
			add(k)
		}
		r.close(e, mark)
	}
	add(d)
	t.finish()
	return t, t.stack[0].elem
}

func TestUserDataNested(t *testing.T) {
	tr, root := buildTree(el{name: "Root", kids: []el{
		{name: "A", text: "1"},
		{name: "B", kids: []el{{name: "ns:C", text: "2"}, {name: "D"}}},
	}})
	got := flatten(nil, tr, root, "")
	want := []wineventlog.Data{{Name: "A", Value: "1"}, {Name: "B.C", Value: "2"}, {Name: "B.D", Value: ""}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("got %v, want %v", got, want)
		}
	}
}

func TestTemplateLessRecord(t *testing.T) {
	res := decodeBytes(t, testdata(t, "msexchange_management_wec"), Options{})
	if len(res.recs) != 1 || len(res.damage) != 0 {
		t.Fatalf("got %d records, %d damage reports; want 1, 0", len(res.recs), len(res.damage))
	}
	ev := res.recs[0].Event
	if ev.ProviderName != "MSExchange CmdletLogs" || ev.EventID != 1 || ev.Qualifiers == nil || *ev.Qualifiers != 16384 {
		t.Errorf("System fields: %+v", ev)
	}
	if len(ev.EventData) == 0 || ev.EventData[0] != (wineventlog.Data{Value: "Set-Mailbox"}) {
		t.Errorf("EventData %v", ev.EventData)
	}
}

func TestNoChecksumFlag(t *testing.T) {
	res := decodeBytes(t, testdata(t, "application_no_crc32"), Options{})
	if len(res.recs) != 17 || len(res.damage) != 0 {
		t.Fatalf("got %d records, %d damage reports (%v); want 17, 0", len(res.recs), len(res.damage), res.damage)
	}
}

func TestRealDamage(t *testing.T) {
	res := decodeBytes(t, testdata(t, "helloforbusiness_operational"), Options{})
	if len(res.recs) != 5 {
		t.Errorf("got %d records, want 5", len(res.recs))
	}
	if res.stats.Damaged[DamageChunkDataCRC] != 1 || res.stats.Damaged[DamageTornRecord] != 1 {
		t.Errorf("damage %v", res.stats.Damaged)
	}
}

func TestNotEVTX(t *testing.T) {
	for _, in := range []string{"", "Elf", "<Events></Events>", strings.Repeat("x", 5000)} {
		if _, err := NewReader(strings.NewReader(in), int64(len(in)), Options{}); err == nil {
			t.Errorf("NewReader(%.10q) succeeded", in)
		}
	}
}

// TestDamage damages a clean one-chunk file in the ways real files are
// damaged and checks that the reader says what and where, and goes on.
func TestDamage(t *testing.T) {
	clean := testdata(t, "security_short_selected")
	const chunk0 = fileHeaderSize
	recOffsets := func() []int64 {
		var offs []int64
		for _, r := range decodeBytes(t, clean, Options{}).recs {
			offs = append(offs, r.Position.Offset)
		}
		return offs
	}()
	tests := []struct {
		name    string
		damage  func(b []byte) []byte
		opts    Options
		records int
		kinds   map[string]int
		offset  int64 // of the first DecodeError
	}{
		{
			name:    "file header checksum",
			damage:  func(b []byte) []byte { b[16]++; return b },
			records: 7, kinds: map[string]int{DamageFileHeader: 1}, offset: 0,
		},
		{
			name:    "chunk signature",
			damage:  func(b []byte) []byte { copy(b[chunk0:], "ElfChnX"); return b },
			records: 0, kinds: map[string]int{DamageChunkMagic: 1}, offset: chunk0,
		},
		{
			name:    "chunk header checksum",
			damage:  func(b []byte) []byte { b[chunk0+64]++; return b },
			records: 7, kinds: map[string]int{DamageChunkHeaderCRC: 1}, offset: chunk0,
		},
		{
			name:    "chunk data checksum",
			damage:  func(b []byte) []byte { b[recOffsets[1]+16]++; return b },
			records: 7, kinds: map[string]int{DamageChunkDataCRC: 1}, offset: chunk0 + chunkHeaderSize,
		},
		{
			name: "torn record",
			damage: func(b []byte) []byte {
				b[recOffsets[3]+4]++ // size no longer matches its copy
				return b
			},
			records: 3, kinds: map[string]int{DamageChunkDataCRC: 1, DamageTornRecord: 1}, offset: chunk0 + chunkHeaderSize,
		},
		{
			name: "torn record, carved",
			damage: func(b []byte) []byte {
				b[recOffsets[3]+4]++
				return b
			},
			opts:    Options{Carve: true},
			records: 6, kinds: map[string]int{DamageChunkDataCRC: 1, DamageTornRecord: 1}, offset: chunk0 + chunkHeaderSize,
		},
		{
			name: "undecodable record",
			damage: func(b []byte) []byte {
				b[recOffsets[2]+24] = 0x55 // not a BinXML token
				return b
			},
			records: 6, kinds: map[string]int{DamageChunkDataCRC: 1, DamageRecordContent: 1}, offset: chunk0 + chunkHeaderSize,
		},
		{
			name:    "truncated",
			damage:  func(b []byte) []byte { return b[:recOffsets[5]+10] },
			records: 5, kinds: map[string]int{DamageTruncated: 1, DamageChunkDataCRC: 0}, offset: chunk0,
		},
		{
			name:    "truncated in the file header",
			damage:  func(b []byte) []byte { return b[:100] },
			records: 0, kinds: map[string]int{DamageTruncated: 1}, offset: 0,
		},
		{
			name: "trailing zeros",
			damage: func(b []byte) []byte {
				return append(b, make([]byte, 3*chunkSize+17)...)
			},
			records: 7, kinds: map[string]int{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.damage(append([]byte(nil), clean...))
			res := decodeBytes(t, b, tt.opts)
			if len(res.recs) != tt.records {
				t.Errorf("got %d records, want %d", len(res.recs), tt.records)
			}
			for k, v := range tt.kinds {
				if res.stats.Damaged[k] != v {
					t.Errorf("damage %q counted %d, want %d (all: %v)", k, res.stats.Damaged[k], v, res.stats.Damaged)
				}
			}
			total := 0
			for _, v := range tt.kinds {
				total += v
			}
			if len(res.damage) != total {
				t.Errorf("got %d DecodeErrors, want %d: %v", len(res.damage), total, res.damage)
			}
			if len(res.damage) > 0 && res.damage[0].Offset != tt.offset {
				t.Errorf("first DecodeError at %d, want %d: %v", res.damage[0].Offset, tt.offset, res.damage[0])
			}
		})
	}
}

func TestSkipThrough(t *testing.T) {
	res := decodeBytes(t, testdata(t, "security_short_selected"), Options{SkipThrough: 3})
	if len(res.recs) != 4 || res.recs[0].Position.RecordNumber != 4 || res.stats.Resumed != 3 {
		t.Errorf("got %d records from %d, %d resumed; want 4 from 4, 3 resumed", len(res.recs), res.recs[0].Position.RecordNumber, res.stats.Resumed)
	}
	b := testdata(t, "intune_certificateconnectors_admin")
	all := decodeBytes(t, b, Options{NoOriginal: true}).recs
	last := all[len(all)-1].Position.RecordNumber
	first := all[0].Position.RecordNumber
	for _, skip := range []uint64{0, 1, first, first + 39, first + 40, first + 500, last - 1, last, last + 10} {
		res := decodeBytes(t, b, Options{SkipThrough: skip, NoOriginal: true})
		var want []uint64
		for _, r := range all {
			if r.Position.RecordNumber > skip {
				want = append(want, r.Position.RecordNumber)
			}
		}
		if len(res.recs) != len(want) {
			t.Fatalf("SkipThrough %d: %d records, want %d", skip, len(res.recs), len(want))
		}
		if len(want) > 0 && res.recs[0].Position.RecordNumber != want[0] {
			t.Errorf("SkipThrough %d: first record %d, want %d", skip, res.recs[0].Position.RecordNumber, want[0])
		}
		if res.stats.Resumed != len(all)-len(want) {
			t.Errorf("SkipThrough %d: %d resumed, want %d", skip, res.stats.Resumed, len(all)-len(want))
		}
	}
}

func TestNoOriginal(t *testing.T) {
	res := decodeBytes(t, testdata(t, "security_short_selected"), Options{NoOriginal: true})
	rec := res.recs[0]
	if rec.Event.Original != "" || rec.Event.EventID != 5152 {
		t.Errorf("Original %q, EventID %d", rec.Event.Original, rec.Event.EventID)
	}
	if err := RenderXML(io.Discard, &rec); !errors.Is(err, ErrNoOriginal) {
		t.Errorf("RenderXML: %v, want ErrNoOriginal", err)
	}
}

func TestDecoderFormat(t *testing.T) {
	b := testdata(t, "security_short_selected")
	r, err := NewReader(bytes.NewReader(b), int64(len(b)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var d wineventlog.Decoder = r
	if d.Format() != wineventlog.FormatEVTX {
		t.Errorf("Format %q", d.Format())
	}
}

// failingReaderAt fails after the first chunk, like a disk error would.
type failingReaderAt struct{ b []byte }

func (f failingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off > fileHeaderSize {
		return 0, errors.New("device error")
	}
	return bytes.NewReader(f.b).ReadAt(p, off)
}

func TestReadError(t *testing.T) {
	b := testdata(t, "intune_certificateconnectors_admin")
	r, err := NewReader(failingReaderAt{b}, int64(len(b)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		_, err := r.Next()
		if err == nil {
			continue
		}
		var de *wineventlog.DecodeError
		if errors.As(err, &de) || errors.Is(err, io.EOF) {
			t.Fatalf("after %d records: got %v, want the read error", i, err)
		}
		if !strings.Contains(err.Error(), "device error") || !strings.Contains(err.Error(), "chunk 1") {
			t.Errorf("error %q does not say what and where", err)
		}
		break
	}
}

func TestUserDataTextRoot(t *testing.T) {
	tr, root := buildTree(el{name: "Event", kids: []el{{name: "UserData", kids: []el{{name: "Note", text: "hello"}}}}})
	var ev wineventlog.Event
	fillEvent(&ev, tr, root)
	if ev.UserDataRoot != "Note" || len(ev.UserData) != 1 || ev.UserData[0] != (wineventlog.Data{Value: "hello"}) {
		t.Errorf("UserDataRoot %q, UserData %v", ev.UserDataRoot, ev.UserData)
	}
}

// Input without the EVTX signature is refused, and a text export among it
// is named, so a user who handed an XML or JSON export to an EVTX tool
// knows what they have.
func TestNotEVTXSaysWhatItIs(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"xml", "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System></System></Event>", "it is XML text"},
		{"json", `[{"Id": 1001}]`, "it is JSON text"},
		{"binary", "PK\x03\x04\x14\x00\x00\x00\x08\x00", `starts with "PK\x03\x04`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.in), int64(len(tt.in)), Options{})
			if err == nil || !strings.Contains(err.Error(), "not an EVTX file") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), `"ElfFile\x00"`) {
				t.Errorf("the message quotes the signature's NUL: %v", err)
			}
		})
	}
}
