package mapping

import (
	"testing"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// TestWinlogVocabulary checks the winlog.* values an event gets when
// Windows rendered no names, and that rendered names win.
func TestWinlogVocabulary(t *testing.T) {
	tests := []struct {
		name string
		edit func(ev *wineventlog.Event)
		want map[string]string
	}{
		{"error level by name", func(ev *wineventlog.Event) { ev.Level = 2 },
			map[string]string{AttrWinlogLevel: "error"}},
		{"level 0 reads as information", func(ev *wineventlog.Event) { ev.Level, ev.LevelText = 0, "" },
			map[string]string{AttrWinlogLevel: "information"}},
		{"verbose", func(ev *wineventlog.Event) { ev.Level = 5 },
			map[string]string{AttrWinlogLevel: "verbose"}},
		{"a standard level keeps its English name whatever was rendered", func(ev *wineventlog.Event) { ev.Level, ev.LevelText = 2, "Fehler" },
			map[string]string{AttrWinlogLevel: "error"}},
		{"a provider's own level by its rendered name", func(ev *wineventlog.Event) { ev.Level, ev.LevelText = 17, "Audit Trail" },
			map[string]string{AttrWinlogLevel: "audit trail"}},
		{"a provider's own level without a name", func(ev *wineventlog.Event) { ev.Level, ev.LevelText = 17, "" },
			map[string]string{AttrWinlogLevel: "17"}},
		{"a level known only by its rendered name", func(ev *wineventlog.Event) { ev.Level, ev.LevelText = 0, "Warning" },
			map[string]string{AttrWinlogLevel: "warning"}},

		{"Classic", func(ev *wineventlog.Event) { ev.Keywords = 0x80000000000000 },
			map[string]string{AttrWinlogKeywords: `["Classic"]`}},
		{"audit bits in bit order", func(ev *wineventlog.Event) { ev.Keywords = 0x20000000000000 | 0x10000000000000 },
			map[string]string{AttrWinlogKeywords: `["Audit Failure","Audit Success"]`}},
		{"every standard bit", func(ev *wineventlog.Event) { ev.Keywords = 0x00ff000000000000 },
			map[string]string{AttrWinlogKeywords: `["Response Time","WDI Context","WDI Diag","SQM","Audit Failure","Audit Success","Correlation Hint","Classic"]`}},
		{"provider bits stay hex", func(ev *wineventlog.Event) { ev.Keywords = 0x2000f00000000000 },
			map[string]string{AttrWinlogKeywords: `["0x2000f00000000000"]`}},
		{"names, then the rest as one mask", func(ev *wineventlog.Event) { ev.Keywords = 0x8000000000000000 | 0x80000000000000 | 0x1 },
			map[string]string{AttrWinlogKeywords: `["Classic","0x8000000000000001"]`}},
		{"rendered keywords win", func(ev *wineventlog.Event) {
			ev.Keywords, ev.KeywordsText = 0x80000000000000, []string{"Klassisch"}
		}, map[string]string{AttrWinlogKeywords: `["Klassisch"]`}},
		{"no keywords", func(ev *wineventlog.Event) { ev.Keywords = 0 },
			map[string]string{AttrWinlogKeywords: "<absent>"}},

		{"opcode 0 is Info", func(ev *wineventlog.Event) { ev.Opcode, ev.OpcodeText = u8(0), "" },
			map[string]string{AttrWinlogOpcode: "Info"}},
		{"opcode 240 is Receive", func(ev *wineventlog.Event) { ev.Opcode = u8(240) },
			map[string]string{AttrWinlogOpcode: "Receive"}},
		{"a provider's opcode by number", func(ev *wineventlog.Event) { ev.Opcode = u8(12) },
			map[string]string{AttrWinlogOpcode: "12"}},
		{"rendered opcode wins", func(ev *wineventlog.Event) { ev.Opcode, ev.OpcodeText = u8(1), "Begin" },
			map[string]string{AttrWinlogOpcode: "Begin"}},
		{"no opcode element", func(ev *wineventlog.Event) { ev.Opcode = nil },
			map[string]string{AttrWinlogOpcode: "<absent>"}},

		{"task 0 is None", func(ev *wineventlog.Event) { ev.Task, ev.TaskText = 0, "" },
			map[string]string{AttrWinlogTask: "None"}},
		{"a provider's task by number", func(ev *wineventlog.Event) { ev.Task = 62533 },
			map[string]string{AttrWinlogTask: "62533"}},
		{"rendered task wins", func(ev *wineventlog.Event) { ev.Task, ev.TaskText = 62533, "RevokeRequestFailure" },
			map[string]string{AttrWinlogTask: "RevokeRequestFailure"}},

		{"version 0 left out", func(ev *wineventlog.Event) { ev.Version = u8(0) },
			map[string]string{AttrWinlogVersion: "<absent>"}},
		{"no version element", func(ev *wineventlog.Event) { ev.Version = nil },
			map[string]string{AttrWinlogVersion: "<absent>"}},
		{"version 2", func(ev *wineventlog.Event) { ev.Version = u8(2) },
			map[string]string{AttrWinlogVersion: "2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := realRevokeFailure()
			tc.edit(&ev)
			_, lr := enrich(t, Config{}, ev)
			for k, want := range tc.want {
				if got := attr(lr, k); got != want {
					t.Errorf("%s = %s, want %s", k, got, want)
				}
			}
		})
	}
}

func TestKeywordNamesAllocateOnlyForLists(t *testing.T) {
	for _, mask := range []uint64{0x80000000000000, 0x2000f00000000000} {
		if n := testing.AllocsPerRun(100, func() { _, _ = keywordNames(mask) }); mask == 0x80000000000000 && n != 0 {
			t.Errorf("keywordNames(%#x) allocates %v times for a single standard name", mask, n)
		}
		if one, list := keywordNames(mask); one == "" || list != nil {
			t.Errorf("keywordNames(%#x) = %q, %v; want one value and no list", mask, one, list)
		}
	}
}
