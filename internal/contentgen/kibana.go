package contentgen

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/otelcol-intune/otelcol-intune/mapping"
)

// Saved-object migration versions the objects are written at. Kibana runs
// the migrations newer than these on import and refuses objects newer than
// itself, so these are the oldest versions whose shapes the objects use:
// coreMigrationVersion exists since 8.8, Lens state keys "formBased" since
// 8.6.
const (
	coreMigrationVersion = "8.8.0"
	dataViewMigration    = "8.0.0"
	searchMigration      = "8.0.0"
	lensMigration        = "8.6.0"
	dashboardMigration   = "8.7.0"
)

// DataViewID is the id of the data view every object references.
const DataViewID = "intune-connector-logs"

// SavedObject is one line of a Kibana saved-objects NDJSON export.
type SavedObject struct {
	Attributes           any         `json:"attributes"`
	CoreMigrationVersion string      `json:"coreMigrationVersion"`
	ID                   string      `json:"id"`
	Managed              bool        `json:"managed"`
	References           []Reference `json:"references"`
	Type                 string      `json:"type"`
	TypeMigrationVersion string      `json:"typeMigrationVersion"`
}

// Reference links a saved object to another by name.
type Reference struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// Panel is one visualisation of the dashboard, in both products.
type Panel struct {
	ID    string
	Title string
	// Lens, when set, is the Kibana visualisation; otherwise the panel is
	// the saved search.
	Lens *lens
	// SPL and Viz are the Splunk panel.
	SPL string
	Viz string // chart, table
	// ChartType is the Simple XML charting.chart option.
	ChartType string
	W, H      int
}

type lens struct {
	vizType string // lnsXY, lnsDatatable
	query   string // KQL filter of the panel
	columns []lensColumn
	// xy layout
	series string // bar_stacked, bar_horizontal
	x, y   string
	split  string
}

type lensColumn struct {
	id     string
	label  string
	op     string // count, terms, date_histogram, max
	field  string
	size   int
	filter string // KQL filter of a metric column
}

const failureKQL = mapping.AttrEventOutcome + ": \"failure\""

// Panels is the dashboard, top to bottom.
func Panels() []Panel {
	count := lensColumn{id: "count", label: "Events", op: "count"}
	failures := lensColumn{id: "failures", label: "Failures", op: "count"}
	top := func(id, label, field string, size int) lensColumn {
		return lensColumn{id: id, label: label, op: "terms", field: field, size: size}
	}
	return []Panel{
		{
			ID: "events-by-outcome", Title: "Events over time by outcome", W: 48, H: 12,
			Lens: &lens{vizType: "lnsXY", series: "bar_stacked", x: "time", y: "count", split: "outcome", columns: []lensColumn{
				{id: "time", label: "@timestamp", op: "date_histogram", field: "@timestamp"},
				top("outcome", "Outcome", mapping.AttrEventOutcome, 3),
				count,
			}},
			SPL: search("") + " | timechart count BY action", Viz: "chart", ChartType: "column",
		},
		{
			ID: "failures-by-event-code", Title: "Failures by event and diagnostic code", W: 24, H: 14,
			Lens: &lens{vizType: "lnsDatatable", query: failureKQL, columns: []lensColumn{
				top("action", "Event", mapping.AttrEventAction, 20),
				top("code", "Diagnostic code", mapping.AttrIntuneDiagCode, 10),
				failures,
			}},
			SPL: search("action=failure") + " | stats count BY signature diagnostic_code | sort - count", Viz: "table",
		},
		{
			ID: "failures-by-event", Title: "Failures by event", W: 24, H: 14,
			Lens: &lens{vizType: "lnsXY", series: "bar_horizontal", query: failureKQL, x: "action", y: "failures", columns: []lensColumn{
				top("action", "Event", mapping.AttrEventAction, 15),
				failures,
			}},
			SPL: search("action=failure") + " | top limit=15 signature", Viz: "chart", ChartType: "bar",
		},
		{
			ID: "top-failing-devices", Title: "Top failing devices", W: 16, H: 12,
			Lens: &lens{vizType: "lnsDatatable", query: failureKQL, columns: []lensColumn{top("device", "Device ID", mapping.AttrDeviceID, 10), failures}},
			SPL:  search("action=failure device.id=*") + " | top limit=10 device.id", Viz: "table",
		},
		{
			ID: "top-failing-cas", Title: "Top failing certification authorities", W: 16, H: 12,
			Lens: &lens{vizType: "lnsDatatable", query: failureKQL, columns: []lensColumn{top("ca", "Certification authority", mapping.AttrIntuneCA, 10), failures}},
			SPL:  search("action=failure intune.certificate_authority=*") + " | top limit=10 intune.certificate_authority", Viz: "table",
		},
		{
			ID: "top-failing-templates", Title: "Top failing certificate templates", W: 16, H: 12,
			Lens: &lens{vizType: "lnsDatatable", query: failureKQL, columns: []lensColumn{top("template", "Template", mapping.AttrIntuneTemplate, 10), failures}},
			SPL:  search("action=failure intune.certificate.template=*") + " | top limit=10 intune.certificate.template", Viz: "table",
		},
		{
			ID: "connector-hosts", Title: "Connector hosts", W: 48, H: 12,
			Lens: &lens{vizType: "lnsDatatable", columns: []lensColumn{
				top("host", "Host", mapping.AttrHostName, 50),
				{id: "last-seen", label: "Last seen", op: "max", field: "@timestamp"},
				count,
				{id: "host-failures", label: "Failures", op: "count", filter: failureKQL},
			}},
			SPL: search("") + ` | stats max(_time) AS last_seen count AS events count(eval(action="failure")) AS failures BY dest` +
				` | eval last_seen=strftime(last_seen, "%Y-%m-%d %H:%M:%S") | sort - last_seen`,
			Viz: "table",
		},
		{
			ID: "recent-failures", Title: "Recent failures and what to do", W: 48, H: 16,
			SPL: search("action=failure") + " | head 100 | table _time dest signature diagnostic_code error.message intune.remediation",
			Viz: "table",
		},
	}
}

// SearchColumns are the saved search's columns, newest failure first.
var SearchColumns = []string{
	mapping.AttrHostName, mapping.AttrEventAction, mapping.AttrIntuneDiagCode, mapping.AttrErrorMessage, mapping.AttrIntuneRemediation,
}

const (
	dashboardID = "intune-connector-overview"
	searchID    = "intune-connector-recent-failures"
)

// KibanaObjects returns the saved objects in import order: the data view,
// the visualisations and the search, then the dashboard that uses them.
func KibanaObjects() []SavedObject {
	objs := []SavedObject{{
		Type: "index-pattern", ID: DataViewID, TypeMigrationVersion: dataViewMigration,
		Attributes: map[string]any{
			"title":         Index,
			"name":          "Intune Certificate Connector",
			"timeFieldName": "@timestamp",
			// Kibana reads the fields from the mappings; nothing to list.
			"fields":          "[]",
			"fieldFormatMap":  "{}",
			"runtimeFieldMap": "{}",
			"sourceFilters":   "[]",
			"typeMeta":        "{}",
			"allowNoIndex":    true,
		},
		References: []Reference{},
	}}

	type gridPanel struct {
		Version          string         `json:"version"`
		Type             string         `json:"type"`
		GridData         map[string]any `json:"gridData"`
		PanelIndex       string         `json:"panelIndex"`
		EmbeddableConfig map[string]any `json:"embeddableConfig"`
		PanelRefName     string         `json:"panelRefName"`
		Title            string         `json:"title,omitempty"`
	}
	var grid []gridPanel
	var dashRefs []Reference
	x, y, rowH := 0, 0, 0
	for _, p := range Panels() {
		id := "intune-connector-" + p.ID
		typ := "lens"
		if p.Lens == nil {
			id, typ = searchID, "search"
			objs = append(objs, savedSearch(id, p.Title, "Connector failures, newest first, with what to do about each.",
				failureKQL, SearchColumns, "desc"))
		} else {
			objs = append(objs, lensObject(id, p))
		}
		if x+p.W > 48 {
			x, y, rowH = 0, y+rowH, 0
		}
		idx := p.ID
		enhancements := map[string]any{}
		if idx == devicePanelID {
			var ref Reference
			enhancements, ref = deviceDrilldown(idx)
			dashRefs = append(dashRefs, ref)
		}
		grid = append(grid, gridPanel{
			Version: coreMigrationVersion, Type: typ,
			GridData:         map[string]any{"x": x, "y": y, "w": p.W, "h": p.H, "i": idx},
			PanelIndex:       idx,
			EmbeddableConfig: map[string]any{"enhancements": enhancements},
			PanelRefName:     "panel_" + idx,
		})
		dashRefs = append(dashRefs, Reference{ID: id, Name: idx + ":panel_" + idx, Type: typ})
		x += p.W
		rowH = max(rowH, p.H)
	}
	// The device journey before the dashboard that drills down to it.
	objs = append(objs, deviceObjects()...)
	objs = append(objs, SavedObject{
		Type: "dashboard", ID: dashboardID, TypeMigrationVersion: dashboardMigration,
		Attributes: map[string]any{
			"title":           "Intune Certificate Connector",
			"description":     "Connector events by outcome, failures by event and diagnostic code, failing devices (click one for its journey), CAs and templates, connector hosts and recent failures with remediation.",
			"panelsJSON":      mustJSON(grid),
			"optionsJSON":     mustJSON(map[string]any{"useMargins": true, "syncColors": false, "syncCursor": true, "syncTooltips": false, "hidePanelTitles": false}),
			"timeRestore":     true,
			"timeFrom":        "now-24h",
			"timeTo":          "now",
			"refreshInterval": map[string]any{"pause": true, "value": 60000},
			"version":         1,
			"kibanaSavedObjectMeta": map[string]any{
				"searchSourceJSON": mustJSON(map[string]any{"query": map[string]any{"query": "", "language": "kuery"}, "filter": []any{}}),
			},
		},
		References: dashRefs,
	})
	for i := range objs {
		objs[i].CoreMigrationVersion = coreMigrationVersion
	}
	return objs
}

// savedSearch writes a Discover saved search over the data view, sorted by
// time in order (asc or desc).
func savedSearch(id, title, description, query string, columns []string, order string) SavedObject {
	return SavedObject{
		Type: "search", ID: id, TypeMigrationVersion: searchMigration,
		Attributes: map[string]any{
			"title":            title,
			"description":      description,
			"columns":          columns,
			"sort":             [][]string{{"@timestamp", order}},
			"grid":             map[string]any{},
			"hideChart":        false,
			"isTextBasedQuery": false,
			"kibanaSavedObjectMeta": map[string]any{
				"searchSourceJSON": mustJSON(map[string]any{
					"query":        map[string]any{"query": query, "language": "kuery"},
					"filter":       []any{},
					"indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index",
				}),
			},
		},
		References: []Reference{{ID: DataViewID, Name: "kibanaSavedObjectMeta.searchSourceJSON.index", Type: "index-pattern"}},
	}
}

// lensObject writes a Lens visualisation with one form-based layer.
func lensObject(id string, p Panel) SavedObject {
	l := p.Lens
	const layer = "layer1"
	columns := map[string]any{}
	var order []string
	countCol := ""
	for _, c := range l.columns {
		if c.op == "count" && countCol == "" {
			countCol = c.id
		}
	}
	for _, c := range l.columns {
		order = append(order, c.id)
		col := map[string]any{"label": c.label, "customLabel": true}
		switch c.op {
		case "count":
			col["dataType"], col["operationType"], col["isBucketed"], col["scale"] = "number", "count", false, "ratio"
			col["sourceField"] = "___records___"
			col["params"] = map[string]any{"emptyAsNull": true}
		case "max":
			col["dataType"], col["operationType"], col["isBucketed"], col["scale"] = "date", "max", false, "ratio"
			col["sourceField"] = c.field
			col["params"] = map[string]any{"emptyAsNull": true}
		case "date_histogram":
			col["dataType"], col["operationType"], col["isBucketed"], col["scale"] = "date", "date_histogram", true, "interval"
			col["sourceField"] = c.field
			col["params"] = map[string]any{"interval": "auto", "includeEmptyRows": true, "dropPartials": false}
			delete(col, "customLabel")
		case "terms":
			col["dataType"], col["operationType"], col["isBucketed"], col["scale"] = "string", "terms", true, "ordinal"
			col["sourceField"] = c.field
			col["params"] = map[string]any{
				"size": c.size, "orderBy": map[string]any{"type": "column", "columnId": countCol}, "orderDirection": "desc",
				"otherBucket": false, "missingBucket": false, "parentFormat": map[string]any{"id": "terms"},
			}
		}
		if c.filter != "" {
			col["filter"] = map[string]any{"query": c.filter, "language": "kuery"}
		}
		columns[c.id] = col
	}
	var vis map[string]any
	switch l.vizType {
	case "lnsXY":
		lay := map[string]any{"layerId": layer, "layerType": "data", "seriesType": l.series, "xAccessor": l.x, "accessors": []string{l.y}}
		if l.split != "" {
			lay["splitAccessor"] = l.split
		}
		vis = map[string]any{
			"legend":              map[string]any{"isVisible": true, "position": "right"},
			"valueLabels":         "hide",
			"preferredSeriesType": l.series,
			"layers":              []any{lay},
		}
	default:
		cols := make([]map[string]any, len(l.columns))
		for i, c := range l.columns {
			cols[i] = map[string]any{"columnId": c.id, "isTransposed": false}
		}
		vis = map[string]any{"layerId": layer, "layerType": "data", "columns": cols}
	}
	return SavedObject{
		Type: "lens", ID: id, TypeMigrationVersion: lensMigration,
		Attributes: map[string]any{
			"title":             p.Title,
			"description":       "",
			"visualizationType": l.vizType,
			"state": map[string]any{
				"datasourceStates": map[string]any{"formBased": map[string]any{"layers": map[string]any{
					layer: map[string]any{"columns": columns, "columnOrder": order, "incompleteColumns": map[string]any{}},
				}}},
				"visualization":      vis,
				"query":              map[string]any{"query": l.query, "language": "kuery"},
				"filters":            []any{},
				"internalReferences": []any{},
				"adHocDataViews":     map[string]any{},
			},
		},
		References: []Reference{{ID: DataViewID, Name: "indexpattern-datasource-layer-" + layer, Type: "index-pattern"}},
	}
}

// DetectionRule is one rule as Elastic Security's rule import takes it.
type DetectionRule struct {
	RuleID              string              `json:"rule_id"`
	Name                string              `json:"name"`
	Description         string              `json:"description"`
	Type                RuleKind            `json:"type"`
	Language            string              `json:"language"`
	Query               string              `json:"query"`
	Index               []string            `json:"index,omitempty"`
	Threshold           *ruleThreshold      `json:"threshold,omitempty"`
	NewTermsFields      []string            `json:"new_terms_fields,omitempty"`
	HistoryStart        string              `json:"history_window_start,omitempty"`
	Severity            string              `json:"severity"`
	RiskScore           int                 `json:"risk_score"`
	Note                string              `json:"note"`
	Setup               string              `json:"setup"`
	Tags                []string            `json:"tags"`
	Threat              []ruleThreat        `json:"threat"`
	Interval            string              `json:"interval"`
	From                string              `json:"from"`
	To                  string              `json:"to"`
	Enabled             bool                `json:"enabled"`
	MaxSignals          int                 `json:"max_signals"`
	Author              []string            `json:"author"`
	License             string              `json:"license"`
	Version             int                 `json:"version"`
	References          []string            `json:"references"`
	FalsePositives      []string            `json:"false_positives"`
	RequiredFields      []ruleRequiredField `json:"required_fields"`
	RelatedIntegrations []any               `json:"related_integrations"`
	Actions             []any               `json:"actions"`
	Exceptions          []any               `json:"exceptions_list"`
}

type ruleThreshold struct {
	Field       []string `json:"field"`
	Value       int      `json:"value"`
	Cardinality []any    `json:"cardinality"`
}

type ruleThreat struct {
	Framework string            `json:"framework"`
	Tactic    map[string]string `json:"tactic"`
	Technique []map[string]any  `json:"technique"`
}

type ruleRequiredField struct {
	Name string `json:"name"`
	Type string `json:"type"`
	ECS  bool   `json:"ecs"`
}

// ecsFields are the fields the content uses that ECS defines.
var ecsFields = map[string]bool{
	"@timestamp": true, mapping.AttrEventCode: true, mapping.AttrEventAction: true, mapping.AttrEventOutcome: true,
	mapping.AttrHostName: true, mapping.AttrDeviceID: true, mapping.AttrUserID: true, mapping.AttrErrorMessage: true,
}

// DetectionRules returns the alerts as Elastic Security rules.
func DetectionRules(alerts []*Alert) ([]DetectionRule, error) {
	var out []DetectionRule
	for _, a := range alerts {
		si := a.SeverityInfo()
		r := DetectionRule{
			RuleID: a.RuleID(), Name: a.Name, Description: a.Description, Type: a.Kind,
			Severity: si.KibanaSeverity, RiskScore: si.KibanaRiskScore, Note: a.Note(),
			Setup:  "Needs the intune_connector data streams (" + Index + ") written by the otelcol-intune collector's Elasticsearch exporter.",
			Tags:   []string{"Intune Certificate Connector", "PKI", "Domain: Endpoint", "Data Source: otelcol-intune"},
			Threat: []ruleThreat{}, Interval: a.Interval, From: a.From, To: "now", Enabled: true, MaxSignals: 100,
			Author: []string{"otelcol-intune"}, License: "Apache-2.0", Version: 1,
			References: []string{}, FalsePositives: []string{}, RelatedIntegrations: []any{}, Actions: []any{}, Exceptions: []any{},
		}
		if a.SeverityReason != "" {
			r.Description += " Severity " + a.Severity.String() + ": " + a.SeverityReason + "."
		}
		switch a.Kind {
		case KindESQL:
			r.Language, r.Query = "esql", a.ESQL
		default:
			r.Language, r.Query, r.Index = "kuery", a.KQL, []string{Index}
		}
		switch a.Kind {
		case KindThreshold:
			r.Threshold = &ruleThreshold{Field: []string{a.ThresholdField}, Value: a.ThresholdValue, Cardinality: []any{}}
		case KindNewTerms:
			r.NewTermsFields, r.HistoryStart = a.NewTermsFields, a.NewTermsHistory
		}
		for _, t := range a.Threat {
			r.Threat = append(r.Threat, ruleThreat{
				Framework: "MITRE ATT&CK",
				Tactic:    map[string]string{"id": t.TacticID, "name": t.TacticName, "reference": "https://attack.mitre.org/tactics/" + t.TacticID + "/"},
				Technique: []map[string]any{{"id": t.TechniqueID, "name": t.TechniqueName, "reference": "https://attack.mitre.org/techniques/" + t.TechniqueID + "/", "subtechnique": []any{}}},
			})
		}
		fields, err := QueryFields(r.Language, r.Query)
		if err != nil {
			return nil, fmt.Errorf("contentgen: rule %s: %w", a.Slug, err)
		}
		if a.ThresholdField != "" {
			fields = append(fields, a.ThresholdField)
		}
		fields = append(fields, a.NewTermsFields...)
		for _, f := range sortedCopy(dedup(fields)) {
			typ, ok := mapping.ESFieldType(f)
			if !ok {
				return nil, fmt.Errorf("contentgen: rule %s uses %s, which the index template does not map", a.Slug, f)
			}
			r.RequiredFields = append(r.RequiredFields, ruleRequiredField{Name: f, Type: typ, ECS: ecsFields[f]})
		}
		out = append(out, r)
	}
	return out, nil
}

func dedup(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// ndjson writes one compact JSON value per line.
func ndjson[T any](items []T) ([]byte, error) {
	var b bytes.Buffer
	for _, it := range items {
		line, err := marshal(it)
		if err != nil {
			return nil, err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// marshal is json.Marshal without HTML escaping, so queries keep their
// < and > readable in the files.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func mustJSON(v any) string {
	b, err := marshal(v)
	if err != nil {
		panic("contentgen: " + err.Error())
	}
	return string(b)
}
