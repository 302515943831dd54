// Package wineventlog turns the formats Windows event logs are exported in
// (wevtutil and Event Viewer XML, PowerShell JSON, and EVTX through the evtx
// sub-package) into one Event type. It knows nothing about any particular
// event provider.
package wineventlog

import (
	"strconv"
	"time"
)

// Event is one Windows event, as complete as its source format allows.
// Formats differ in what they carry: PowerShell JSON has no EventData names,
// wevtutil's plain XML has no rendered text. Fields a source lacks stay zero.
type Event struct {
	ProviderName string
	// ProviderGUID is upper-case with braces, as Windows renders it:
	// {BFD22B4F-4968-5F48-A37C-42AD34E3EEDB}.
	ProviderGUID string
	// EventSourceName is set by classic (pre-manifest) providers.
	EventSourceName string

	EventID    uint32
	Qualifiers *uint16
	Version    *uint8
	Level      uint8
	Task       uint16
	Opcode     *uint8
	Keywords   uint64

	TimeCreated time.Time // UTC
	RecordID    uint64

	ActivityID        string // braces and upper case, as rendered
	RelatedActivityID string
	ProcessID         *uint32
	ThreadID          *uint32

	Channel  string
	Computer string
	UserSID  string

	// EventData in document order. Unnamed <Data> elements have an empty Name.
	EventData []Data
	// UserData holds the provider-defined XML below <UserData>, flattened:
	// each leaf element becomes one Data whose Name is its path below the
	// UserData root element, joined with dots.
	UserData []Data
	// UserDataRoot is the name of the single element below <UserData>.
	UserDataRoot string

	// Rendered text, present only when the exporter rendered it
	// (<RenderingInfo>, PowerShell's *DisplayName properties).
	Message      string
	LevelText    string
	TaskText     string
	OpcodeText   string
	KeywordsText []string

	// Original is the event as it appeared in the input, in UTF-8, for
	// event.original. Decoders fill it unless told not to.
	Original string
}

// Data is one EventData or UserData item.
type Data struct {
	Name  string
	Value string
}

// Format names an input format.
type Format string

const (
	FormatUnknown Format = ""
	// FormatXML covers wevtutil /f:xml output (one event per line), the
	// <Events> document Event Viewer and wevtutil /f:RenderedXml /e:Events
	// write, and pretty-printed events.
	FormatXML Format = "xml"
	// FormatJSON covers Get-WinEvent | ConvertTo-Json (an array or one
	// object) and one compressed object per line.
	FormatJSON Format = "json"
	// FormatEVTX is the binary event log file format.
	FormatEVTX Format = "evtx"
)

// Position locates an event in its input so a reader can resume after it.
// Stream formats (XML, JSON) set Offset to the byte offset in the original
// input where the event starts and End to the offset just past it. EVTX sets
// Offset to the record's file offset and RecordNumber to the record header's
// number.
type Position struct {
	Offset       int64
	End          int64
	RecordNumber uint64
}

// Record is one decoded event and where it was found.
type Record struct {
	Event    Event
	Position Position
}

// DecodeError reports an event that could not be decoded. Decoders return it
// from Next and remain usable: the following call resumes after the damage.
type DecodeError struct {
	Format Format
	// Offset is the byte offset in the input where the damaged event or
	// region starts; End where the decoder resumes.
	Offset int64
	End    int64
	Reason string
	Err    error
}

func (e *DecodeError) Error() string {
	msg := string(e.Format) + " input at byte " + strconv.FormatInt(e.Offset, 10) + ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *DecodeError) Unwrap() error { return e.Err }

// Decoder yields events one at a time. Next returns io.EOF at the end of the
// input, a *DecodeError for a damaged event (call Next again to continue),
// and any other error when the input itself failed (then stop).
type Decoder interface {
	Next() (Record, error)
	Format() Format
}
