package wineventlog

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// Windows PowerShell's Get-EventLog reads classic logs, such as the legacy
// connector's "Microsoft Intune Connector", and returns EventLogEntry
// objects; ConvertTo-Json writes their own member names.
func TestGetEventLogJSON(t *testing.T) {
	const metric = `{\"Metric\":{\"Dimensions\":{\"DiagnosticCode\":\"0x00000400\"},\"Name\":\"PkcsCertIssue_Failure\",\"Value\":0}}`
	tests := []struct {
		name string
		in   string
		want func(t *testing.T, ev Event)
	}{
		{
			name: "windows_powershell_5.1",
			in: `{"EventID":20102,"MachineName":"NDES01.contoso.com","Data":[],"Index":4711,"Category":"(0)","CategoryNumber":0,` +
				`"EntryType":1,"Message":"` + metric + `","Source":"NDESConnector","ReplacementStrings":["` + metric + `"],` +
				`"InstanceId":20102,"TimeGenerated":"\/Date(1763805600000)\/","TimeWritten":"\/Date(1763805601000)\/","UserName":null,"Site":null,"Container":null}`,
			want: func(t *testing.T, ev Event) {
				if ev.EventID != 20102 || ev.RecordID != 4711 || ev.Computer != "NDES01.contoso.com" || ev.ProviderName != "NDESConnector" {
					t.Errorf("system fields: %+v", ev)
				}
				if ev.Level != 2 || ev.LevelText != "Error" || ev.TaskText != "" || ev.Task != 0 {
					t.Errorf("level %d %q, task %d %q", ev.Level, ev.LevelText, ev.Task, ev.TaskText)
				}
				if !ev.TimeCreated.Equal(time.UnixMilli(1763805600000)) {
					t.Errorf("time %v: want TimeGenerated, not TimeWritten", ev.TimeCreated)
				}
				if len(ev.EventData) != 1 || ev.EventData[0].Name != "" || ev.EventData[0].Value[:10] != `{"Metric":` {
					t.Errorf("event data %+v", ev.EventData)
				}
				if ev.Qualifiers == nil || *ev.Qualifiers != 0 {
					t.Errorf("qualifiers %v", ev.Qualifiers)
				}
			},
		},
		{
			name: "instance_id_only_with_qualifiers_and_names",
			in:   `{"InstanceId":3221245574,"EntryType":"Warning","Category":"Enrollment","CategoryNumber":3,"Source":"NDESConnector"}`,
			want: func(t *testing.T, ev Event) {
				if ev.EventID != 20102 || ev.Qualifiers == nil || *ev.Qualifiers != 0xC000 {
					t.Errorf("id %d qualifiers %v, want 20102 and 0xC000", ev.EventID, ev.Qualifiers)
				}
				if ev.Level != 3 || ev.LevelText != "Warning" || ev.Task != 3 || ev.TaskText != "Enrollment" {
					t.Errorf("level %d %q, task %d %q", ev.Level, ev.LevelText, ev.Task, ev.TaskText)
				}
			},
		},
		{
			name: "event_id_keeps_facility_bits",
			in:   `{"EventID":268455558,"EntryType":4}`,
			want: func(t *testing.T, ev Event) {
				if ev.EventID != 20102 || ev.Level != 4 || ev.LevelText != "Information" {
					t.Errorf("id %d level %d %q", ev.EventID, ev.Level, ev.LevelText)
				}
			},
		},
		{
			name: "audit_and_unknown_entry_types",
			in:   `{"EventID":1,"EntryType":16,"TimeGenerated":"2026-11-22T10:00:00+01:00"}`,
			want: func(t *testing.T, ev Event) {
				if ev.Level != 0 || ev.LevelText != "Audit Failure" || ev.TimeCreated.Hour() != 9 {
					t.Errorf("level %d %q time %v", ev.Level, ev.LevelText, ev.TimeCreated)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := ParseEventJSON([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			tt.want(t, ev)
		})
	}
	if _, err := ParseEventJSON([]byte(`{"EventID":"x"}`)); err == nil {
		t.Error("a non-numeric EventID was accepted")
	}
}

// A whole Get-EventLog export as Windows PowerShell's > writes it: a
// pretty-printed array in UTF-16 LE with a byte-order mark.
func TestGetEventLogExportDecodes(t *testing.T) {
	doc := "[\r\n    {\r\n        \"EventID\":  20100,\r\n        \"Index\":  1,\r\n        \"EntryType\":  4,\r\n        \"Source\":  \"NDESConnector\",\r\n" +
		"        \"ReplacementStrings\":  [\r\n                                   \"a\"\r\n                               ],\r\n" +
		"        \"TimeGenerated\":  \"\\/Date(1763805600000)\\/\"\r\n    },\r\n" +
		"    {\r\n        \"EventID\":  20101,\r\n        \"Index\":  2,\r\n        \"EntryType\":  1,\r\n        \"Source\":  \"NDESConnector\",\r\n" +
		"        \"ReplacementStrings\":  \"b\",\r\n        \"TimeGenerated\":  \"\\/Date(1763805660000)\\/\"\r\n    }\r\n]\r\n"
	d, err := NewDecoder(bytes.NewReader(toUTF16([]byte(doc), false, true)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []Event
	for {
		rec, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rec.Event)
	}
	if len(got) != 2 || got[0].EventID != 20100 || got[1].EventID != 20101 || got[1].RecordID != 2 ||
		len(got[1].EventData) != 1 || got[1].EventData[0].Value != "b" || got[1].Level != 2 {
		t.Fatalf("got %+v", got)
	}
}
