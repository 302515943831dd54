package contentgen

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// The device drill-down, in both products: from a device in the overview's
// "Top failing devices" panel to its journey, every event that names the
// device in time order, with outcome, code, message and what to do.
const (
	devicePanelID     = "top-failing-devices"
	deviceDashboardID = "intune-connector-device-journey"
	deviceSearchID    = "intune-connector-device-journey-events"
	// deviceDrilldownID is the drilldown's eventId; Kibana names the
	// reference to the target dashboard after it.
	deviceDrilldownID = "7c1e4f0a-2b9d-4d63-8e5a-1f0c9b3d6a27"
	// DeviceView is the Splunk form, and DeviceToken its input.
	DeviceView  = "intune_connector_device_journey"
	DeviceToken = "device_id"
)

// DeviceJourneyColumns are the columns of the device journey.
var DeviceJourneyColumns = []string{
	mapping.AttrDeviceID, mapping.AttrEventAction, mapping.AttrEventOutcome, mapping.AttrIntuneDiagCode,
	mapping.AttrErrorMessage, mapping.AttrIntuneRemediation, mapping.AttrIntuneRequestID,
	mapping.AttrIntuneThumbprint, mapping.AttrIntuneSerialNumber, mapping.AttrHostName, mapping.AttrWinlogChannel,
}

// deviceKQL keeps the journey dashboard to events that name a device until
// a device.id filter (the drilldown's, or one the reader adds) picks one.
const deviceKQL = mapping.AttrDeviceID + ": *"

// deviceDrilldown is the embeddable config of the overview panel that
// opens the device journey, carrying the clicked device as a filter, and
// the reference to the journey dashboard that Kibana resolves it by.
func deviceDrilldown(panelIndex string) (map[string]any, Reference) {
	enhancements := map[string]any{"dynamicActions": map[string]any{"events": []any{map[string]any{
		"eventId":  deviceDrilldownID,
		"triggers": []string{"FILTER_TRIGGER"},
		"action": map[string]any{
			"factoryId": "DASHBOARD_TO_DASHBOARD_DRILLDOWN",
			"name":      "Device journey",
			"config":    map[string]any{"useCurrentFilters": true, "useCurrentDateRange": true, "openInNewTab": false},
		},
	}}}}
	ref := Reference{
		ID:   deviceDashboardID,
		Name: panelIndex + ":drilldown:DASHBOARD_TO_DASHBOARD_DRILLDOWN:" + deviceDrilldownID + ":dashboardId",
		Type: "dashboard",
	}
	return enhancements, ref
}

// deviceObjects are the journey's saved search and its dashboard: the
// overview's events-by-outcome chart over the journey, oldest first.
func deviceObjects() []SavedObject {
	search := savedSearch(deviceSearchID, "Device journey",
		"Events that name a device, oldest first: filter on device.id, or click a device in the overview's Top failing devices panel.",
		deviceKQL, DeviceJourneyColumns, "asc")
	chartID := "intune-connector-" + Panels()[0].ID
	type panel struct {
		id, typ string
		w, h, y int
	}
	panels := []panel{{chartID, "lens", 48, 10, 0}, {deviceSearchID, "search", 48, 20, 10}}
	var grid []map[string]any
	var refs []Reference
	for i, p := range panels {
		idx := fmt.Sprintf("journey-%d", i+1)
		grid = append(grid, map[string]any{
			"version": coreMigrationVersion, "type": p.typ,
			"gridData":         map[string]any{"x": 0, "y": p.y, "w": p.w, "h": p.h, "i": idx},
			"panelIndex":       idx,
			"embeddableConfig": map[string]any{"enhancements": map[string]any{}},
			"panelRefName":     "panel_" + idx,
		})
		refs = append(refs, Reference{ID: p.id, Name: idx + ":panel_" + idx, Type: p.typ})
	}
	dash := SavedObject{
		Type: "dashboard", ID: deviceDashboardID, TypeMigrationVersion: dashboardMigration,
		Attributes: map[string]any{
			"title":           "Intune Certificate Connector: device journey",
			"description":     "One device's certificate events in time order, with outcome, diagnostic code, message and what to do. Open it from a device in the overview's Top failing devices panel, or add a device.id filter.",
			"panelsJSON":      mustJSON(grid),
			"optionsJSON":     mustJSON(map[string]any{"useMargins": true, "syncColors": false, "syncCursor": true, "syncTooltips": false, "hidePanelTitles": false}),
			"timeRestore":     true,
			"timeFrom":        "now-7d",
			"timeTo":          "now",
			"refreshInterval": map[string]any{"pause": true, "value": 60000},
			"version":         1,
			"kibanaSavedObjectMeta": map[string]any{
				"searchSourceJSON": mustJSON(map[string]any{"query": map[string]any{"query": deviceKQL, "language": "kuery"}, "filter": []any{}}),
			},
		},
		References: refs,
	}
	return []SavedObject{search, dash}
}

// deviceSPL is the Splunk device journey, oldest first.
func deviceSPL() string {
	return search(mapping.AttrDeviceID+`="$`+DeviceToken+`$"`) +
		" | sort 0 _time | table _time signature action diagnostic_code error.message intune.remediation intune.request_id intune.certificate.thumbprint intune.certificate.serial_number dest"
}

// deviceViewXML is the Splunk form: a device ID input and the journey.
func deviceViewXML() []byte {
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
	var b bytes.Buffer
	fmt.Fprintf(&b, `<form version="1.1" theme="light">
  <label>Intune Certificate Connector: device journey</label>
  <description>One device's certificate events in time order, with outcome, diagnostic code, message and what to do. Open it from a device in the overview's Top failing devices panel, or type a device ID. Generated from the catalog.</description>
  <fieldset submitButton="true" autoRun="false">
    <input type="text" token="%s" searchWhenChanged="true">
      <label>Device ID (device.id)</label>
    </input>
    <input type="time" token="period">
      <label>Period</label>
      <default>
        <earliest>-7d@d</earliest>
        <latest>now</latest>
      </default>
    </input>
  </fieldset>
  <row>
    <panel id="device_journey">
      <title>Journey of $%s$</title>
      <table>
        <search>
          <query>%s</query>
          <earliest>$period.earliest$</earliest>
          <latest>$period.latest$</latest>
        </search>
        <option name="count">50</option>
        <option name="wrap">true</option>
      </table>
    </panel>
  </row>
</form>
`, DeviceToken, DeviceToken, esc(deviceSPL()))
	return b.Bytes()
}

// deviceLink is the overview's drilldown from a device to its journey: in
// a table, click.value is the clicked row's first column, the device ID.
func deviceLink() string {
	return "/app/" + SplunkApp + "/" + DeviceView + "?form." + DeviceToken + "=$click.value|u$&form.period.earliest=$period.earliest$&form.period.latest=$period.latest$"
}
