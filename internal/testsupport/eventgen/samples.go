package eventgen

import (
	"github.com/otelcol-intune/otelcol-intune/mapping"
	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// SampleFile is one generated sample export.
type SampleFile struct {
	File string
	Data []byte
}

// Samples are the files in testdata/samples: every catalog case, split by
// connector generation and channel as the logs are, each written the way a
// different Windows tool writes it.
func Samples(cat *mapping.Catalog) []SampleFile {
	var legacy, admin, operational []wineventlog.Event
	for i, c := range CatalogCases(cat) {
		ev := Event(cat, c, i)
		switch {
		case c.Entry.Generation == mapping.GenerationLegacy:
			legacy = append(legacy, ev)
		case c.Entry.Channel == "Microsoft-Intune-CertificateConnectors/Admin":
			admin = append(admin, ev)
		default:
			operational = append(operational, ev)
		}
	}
	rendered := func(evs []wineventlog.Event) []wineventlog.Event {
		out := make([]wineventlog.Event, len(evs))
		for i := range evs {
			out[i] = Rendered(cat, evs[i])
		}
		return out
	}
	must := func(name string) Export {
		e, err := ExportByName(name)
		if err != nil {
			panic(err)
		}
		return e
	}
	return []SampleFile{
		// wevtutil qe Microsoft-Intune-CertificateConnectors/Admin /f:xml > admin.xml (cmd.exe: UTF-8)
		{"current-admin.wevtutil.xml", must("wevtutil").Write(admin)},
		// the same channel through Windows PowerShell: wevtutil ... /f:RenderedXml /e:Events > x.xml (UTF-16 LE)
		{"current-operational.rendered.xml", Encode(must("rendered-events").Write(rendered(operational)), UTF16LEBOM)},
		// Event Viewer, Save All Events As... XML
		{"legacy.eventviewer.xml", Encode(must("eventviewer").Write(rendered(legacy)), UTF8BOM)},
		// Windows PowerShell 5.1: Get-WinEvent ... | ConvertTo-Json | Out-File (UTF-16 LE)
		{"current-admin.ps51.json", Encode(must("ps51").Write(rendered(admin)), UTF16LEBOM)},
		// PowerShell 7: Get-WinEvent ... | ConvertTo-Json > x.json (UTF-8)
		{"legacy.ps7.json", must("ps7").Write(rendered(legacy))},
		// one ConvertTo-Json -Compress object per line
		{"current-operational.compress.jsonl", must("compress").Write(rendered(operational))},
	}
}
