package evtx_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
	"github.com/otelcol-intune/otelcol-intune/wineventlog/evtx"
)

func Example() {
	f, err := os.Open("testdata/security_1_record.evtx.gz")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		panic(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		panic(err)
	}

	r, err := evtx.NewReader(bytes.NewReader(data), int64(len(data)), evtx.Options{})
	if err != nil {
		panic(err) // not an EVTX file
	}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var damage *wineventlog.DecodeError
		if errors.As(err, &damage) {
			fmt.Println("skipped:", damage)
			continue
		}
		if err != nil {
			panic(err) // reading the input failed
		}
		ev := rec.Event
		fmt.Println(ev.EventID, ev.ProviderName, ev.TimeCreated.Format("2006-01-02T15:04:05Z"), ev.UserDataRoot, ev.UserData[1].Name+"="+ev.UserData[1].Value)
	}
	// Output:
	// 1102 Microsoft-Windows-Eventlog 2019-02-09T17:05:24Z LogFileCleared SubjectUserName=test
}
