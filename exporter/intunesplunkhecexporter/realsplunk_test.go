package intunesplunkhecexporter

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"

	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// TestRealSplunk sends the catalog's events to a Splunk the user names and
// checks they arrive. It runs only when SPLUNK_HEC_URL and SPLUNK_HEC_TOKEN
// are set:
//
//	SPLUNK_HEC_URL    e.g. https://splunk.example.com:8088
//	SPLUNK_HEC_TOKEN  a HEC token allowed to write to SPLUNK_HEC_INDEX
//	SPLUNK_HEC_INDEX  the index (default: the token's default index)
//	SPLUNK_HEC_ACK    true when the token has indexer acknowledgement on
//	SPLUNK_HEC_CA_FILE a private CA for the HEC and management ports
//
// With SPLUNK_API_URL (the management port, e.g. https://splunk:8089) and
// SPLUNK_API_TOKEN (a Splunk authentication token) it also searches for
// the events, by the run's own host name, until all of them are indexed.
func TestRealSplunk(t *testing.T) {
	hecURL, token := os.Getenv("SPLUNK_HEC_URL"), os.Getenv("SPLUNK_HEC_TOKEN")
	if hecURL == "" || token == "" {
		t.Skip("SPLUNK_HEC_URL and SPLUNK_HEC_TOKEN are not set: the HEC peer test covers the protocol; set them to try a real Splunk")
	}
	ack, _ := strconv.ParseBool(os.Getenv("SPLUNK_HEC_ACK"))
	index := os.Getenv("SPLUNK_HEC_INDEX")
	caFile := os.Getenv("SPLUNK_HEC_CA_FILE")
	te := newTestExporterURL(t, hecURL, func(c *Config) {
		c.Token = configopaque.String(token)
		c.Index = index
		c.ClientConfig.TLS.CAFile = caFile
		c.Ack.Enabled = ack
		c.Ack.PollInterval = time.Second
		c.Ack.Timeout = 2 * time.Minute
		// A real Splunk keeps idle connections open, and confighttp's
		// compression wrapper does not pass CloseIdleConnections on, so
		// the leak check at the end would see them.
		c.ClientConfig.Keepalive = configoptional.None[confighttp.KeepaliveClientConfig]()
	})

	// Every event of this run carries one host name, so a search finds
	// exactly them.
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	host := "otelcol-intune-test-" + hex.EncodeToString(rnd[:])
	ld := catalogLogs(t, 200)
	ld.ResourceLogs().At(0).Resource().Attributes().PutStr(mapping.AttrHostName, host)
	n := int64(ld.LogRecordCount())

	if err := te.pushLogs(context.Background(), ld); err != nil {
		t.Fatalf("push to %s: %v", hecURL, err)
	}
	if got := te.counter(t, "otelcol_intune_hec_events_delivered"); got != n {
		t.Fatalf("delivered %d of %d events", got, n)
	}
	if _, err := os.Stat(te.dlPath); err == nil {
		if dl := te.deadLetters(t); len(dl) > 0 {
			t.Fatalf("%d events dead-lettered, the first: %s", len(dl), dl[0].Reason)
		}
	}
	t.Logf("%d events delivered to %s with host=%s (acknowledged by the indexers: %v)", n, hecURL, host, ack)

	apiURL, apiToken := os.Getenv("SPLUNK_API_URL"), os.Getenv("SPLUNK_API_TOKEN")
	if apiURL == "" || apiToken == "" {
		t.Log("SPLUNK_API_URL or SPLUNK_API_TOKEN not set: not searching for the events")
		return
	}
	search := "search host=" + host
	if index != "" {
		search = "search index=" + index + " host=" + host
	}
	search += " | stats count"
	client := &http.Client{Timeout: 60 * time.Second, Transport: te.client.Transport}
	var got int64
	deadline := time.Now().Add(3 * time.Minute)
	for {
		got = splunkCount(t, client, apiURL, apiToken, search)
		if got >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Second)
	}
	if got != n {
		t.Fatalf("Splunk finds %d events for %q, %d were sent", got, search, n)
	}
}

// splunkCount runs a `| stats count` search through the export endpoint of
// Splunk's REST API and returns the count.
func splunkCount(t *testing.T, client *http.Client, apiURL, token, search string) int64 {
	t.Helper()
	form := url.Values{"search": {search}, "output_mode": {"json"}, "earliest_time": {"0"}}
	req, err := http.NewRequest(http.MethodPost, strings.TrimRight(apiURL, "/")+"/services/search/jobs/export", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("search: HTTP %d (check SPLUNK_API_URL and SPLUNK_API_TOKEN)", res.StatusCode)
	}
	// One JSON object a line; the result line holds the count as text.
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		var line struct {
			Result struct {
				Count string `json:"count"`
			} `json:"result"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Result.Count != "" {
			c, err := strconv.ParseInt(line.Result.Count, 10, 64)
			if err != nil {
				t.Fatalf("search count %q: %v", line.Result.Count, err)
			}
			return c
		}
	}
	return 0
}
