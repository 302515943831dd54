package contentgen

import (
	"encoding/json"
	"encoding/xml"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// TestKibanaDeviceDrilldown: a click on a device in the overview's Top
// failing devices panel opens the device journey dashboard with the
// device as a filter, and that dashboard lists the device's events oldest
// first.
func TestKibanaDeviceDrilldown(t *testing.T) {
	objs := map[string]map[string]any{}
	for _, o := range readNDJSON(t, "intune_connector.ndjson") {
		objs[o["type"].(string)+"/"+o["id"].(string)] = o
	}
	overview := objs["dashboard/"+dashboardID]
	if overview == nil {
		t.Fatal("no overview dashboard")
	}
	attrs := overview["attributes"].(map[string]any)
	var panels []struct {
		PanelIndex       string `json:"panelIndex"`
		Type             string `json:"type"`
		EmbeddableConfig struct {
			Enhancements struct {
				DynamicActions struct {
					Events []struct {
						EventID  string   `json:"eventId"`
						Triggers []string `json:"triggers"`
						Action   struct {
							FactoryID string         `json:"factoryId"`
							Config    map[string]any `json:"config"`
						} `json:"action"`
					} `json:"events"`
				} `json:"dynamicActions"`
			} `json:"enhancements"`
		} `json:"embeddableConfig"`
	}
	if err := json.Unmarshal([]byte(attrs["panelsJSON"].(string)), &panels); err != nil {
		t.Fatal(err)
	}
	drilldowns := 0
	for _, p := range panels {
		for _, ev := range p.EmbeddableConfig.Enhancements.DynamicActions.Events {
			drilldowns++
			if p.PanelIndex != devicePanelID || ev.Action.FactoryID != "DASHBOARD_TO_DASHBOARD_DRILLDOWN" ||
				len(ev.Triggers) != 1 || ev.Triggers[0] != "FILTER_TRIGGER" || ev.Action.Config["useCurrentFilters"] != true {
				t.Errorf("drilldown on panel %s: %+v", p.PanelIndex, ev)
			}
			// Kibana finds the target dashboard by this reference name.
			name := p.PanelIndex + ":drilldown:DASHBOARD_TO_DASHBOARD_DRILLDOWN:" + ev.EventID + ":dashboardId"
			found := false
			for _, r := range overview["references"].([]any) {
				r := r.(map[string]any)
				if r["name"] == name && r["type"] == "dashboard" && r["id"] == deviceDashboardID {
					found = true
				}
			}
			if !found {
				t.Errorf("no reference %s to the device journey dashboard", name)
			}
		}
	}
	if drilldowns != 1 {
		t.Errorf("%d drilldowns on the overview, want 1", drilldowns)
	}

	// The clicked value filters on device.id: the panel's first bucket
	// is device.id.
	lens := objs["lens/intune-connector-"+devicePanelID]["attributes"].(map[string]any)
	layer := lens["state"].(map[string]any)["datasourceStates"].(map[string]any)["formBased"].(map[string]any)["layers"].(map[string]any)["layer1"].(map[string]any)
	first := layer["columnOrder"].([]any)[0].(string)
	if f := layer["columns"].(map[string]any)[first].(map[string]any)["sourceField"]; f != mapping.AttrDeviceID {
		t.Errorf("the drilldown panel's first column is %v, want %s", f, mapping.AttrDeviceID)
	}

	journey := objs["search/"+deviceSearchID]["attributes"].(map[string]any)
	sort := journey["sort"].([]any)[0].([]any)
	if sort[0] != "@timestamp" || sort[1] != "asc" || journey["columns"].([]any)[0] != mapping.AttrDeviceID {
		t.Errorf("device journey search: sort %v, columns %v", sort, journey["columns"])
	}
	dash := objs["dashboard/"+deviceDashboardID]
	if dash == nil {
		t.Fatal("no device journey dashboard")
	}
	refs := map[string]bool{}
	for _, r := range dash["references"].([]any) {
		refs[r.(map[string]any)["id"].(string)] = true
	}
	if !refs[deviceSearchID] {
		t.Error("the device journey dashboard does not show the journey search")
	}
}

// TestSplunkDeviceJourney: the device form takes a device ID and lists its
// events oldest first, and the overview's Top failing devices rows open it
// with the clicked device and the same period.
func TestSplunkDeviceJourney(t *testing.T) {
	dir := filepath.Join(contentDir, "splunk", SplunkApp, "default", "data", "ui")
	b, err := os.ReadFile(filepath.Join(dir, "views", DeviceView+".xml"))
	if err != nil {
		t.Fatal(err)
	}
	var form struct {
		XMLName xml.Name
		Inputs  []struct {
			Type  string `xml:"type,attr"`
			Token string `xml:"token,attr"`
		} `xml:"fieldset>input"`
		Queries []string `xml:"row>panel>table>search>query"`
	}
	if err := xml.Unmarshal(b, &form); err != nil {
		t.Fatal(err)
	}
	if form.XMLName.Local != "form" || len(form.Inputs) != 2 || form.Inputs[0].Type != "text" || form.Inputs[0].Token != DeviceToken {
		t.Fatalf("device form: %+v", form)
	}
	if len(form.Queries) != 1 {
		t.Fatalf("device form has %d searches", len(form.Queries))
	}
	q := form.Queries[0]
	if !strings.Contains(q, mapping.AttrDeviceID+`="$`+DeviceToken+`$"`) || !strings.Contains(q, "| sort 0 _time") {
		t.Errorf("device journey search %q", q)
	}
	// Fields are checked on the search as Splunk runs it, with a device.
	splFieldsOK(t, splunkFields(t), "device journey", strings.ReplaceAll(q, "$"+DeviceToken+"$", "04aae477-0031-4031-8157-001e489e4ae1"))

	ov, err := os.ReadFile(filepath.Join(dir, "views", overviewView+".xml"))
	if err != nil {
		t.Fatal(err)
	}
	var overview struct {
		Panels []struct {
			ID    string   `xml:"id,attr"`
			Links []string `xml:"table>drilldown>link"`
		} `xml:"row>panel"`
	}
	if err := xml.Unmarshal(ov, &overview); err != nil {
		t.Fatal(err)
	}
	links := 0
	for _, p := range overview.Panels {
		for _, l := range p.Links {
			links++
			u, err := url.Parse(strings.NewReplacer("$click.value|u$", "DEVICE", "$period.earliest$", "-24h", "$period.latest$", "now").Replace(l))
			if err != nil {
				t.Fatal(err)
			}
			if p.ID != strings.ReplaceAll(devicePanelID, "-", "_") || u.Path != "/app/"+SplunkApp+"/"+DeviceView || u.Query().Get("form."+DeviceToken) != "DEVICE" || u.Query().Get("form.period.earliest") != "-24h" {
				t.Errorf("panel %s links to %s", p.ID, l)
			}
		}
	}
	if links != 1 {
		t.Errorf("%d drilldown links on the overview, want 1", links)
	}
	nav, err := os.ReadFile(filepath.Join(dir, "nav", "default.xml"))
	if err != nil || !strings.Contains(string(nav), `<view name="`+DeviceView+`" />`) {
		t.Errorf("the app's navigation lacks the device journey: %v", err)
	}
}
