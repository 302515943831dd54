package mapping

// Attribute keys of the record contract. Names follow ECS where ECS has the
// concept, Winlogbeat's winlog.* for Windows fields, and intune.* for the
// rest, so the ECS document is the attributes un-flattened.
const (
	AttrEventKind     = "event.kind"
	AttrEventModule   = "event.module"
	AttrEventDataset  = "event.dataset"
	AttrEventProvider = "event.provider"
	AttrEventCode     = "event.code"
	AttrEventAction   = "event.action"
	AttrEventOutcome  = "event.outcome"
	AttrEventSeverity = "event.severity"
	AttrEventID       = "event.id"
	AttrEventOriginal = "event.original"
	AttrLogLevel      = "log.level"
	AttrHostName      = "host.name"
	AttrUserID        = "user.id"
	AttrDeviceID      = "device.id"
	AttrErrorCode     = "error.code"
	AttrErrorMessage  = "error.message"
	AttrErrorType     = "error.type"
	AttrErrorStack    = "error.stack_trace"

	AttrWinlogChannel           = "winlog.channel"
	AttrWinlogComputerName      = "winlog.computer_name"
	AttrWinlogEventID           = "winlog.event_id"
	AttrWinlogProviderName      = "winlog.provider_name"
	AttrWinlogProviderGUID      = "winlog.provider_guid"
	AttrWinlogRecordID          = "winlog.record_id"
	AttrWinlogLevel             = "winlog.level"
	AttrWinlogVersion           = "winlog.version"
	AttrWinlogTask              = "winlog.task"
	AttrWinlogOpcode            = "winlog.opcode"
	AttrWinlogKeywords          = "winlog.keywords"
	AttrWinlogProcessPID        = "winlog.process.pid"
	AttrWinlogThreadID          = "winlog.process.thread.id"
	AttrWinlogActivityID        = "winlog.activity_id"
	AttrWinlogRelatedActivityID = "winlog.related_activity_id"
	AttrWinlogUserIdentifier    = "winlog.user.identifier"
	AttrWinlogEventData         = "winlog.event_data"
	AttrWinlogUserData          = "winlog.user_data"

	AttrIntuneGeneration        = "intune.generation"
	AttrIntuneCategory          = "intune.category"
	AttrIntuneMatched           = "intune.matched"
	AttrIntuneDescription       = "intune.description"
	AttrIntuneRemediation       = "intune.remediation"
	AttrIntuneDiagCode          = "intune.diagnostic.code"
	AttrIntuneDiagName          = "intune.diagnostic.name"
	AttrIntuneDiagMessage       = "intune.diagnostic.message"
	AttrIntuneDiagText          = "intune.diagnostic.text"
	AttrIntuneDiagMatched       = "intune.diagnostic.matched"
	AttrIntuneCA                = "intune.certificate_authority"
	AttrIntuneTemplate          = "intune.certificate.template"
	AttrIntuneThumbprint        = "intune.certificate.thumbprint"
	AttrIntuneSerialNumber      = "intune.certificate.serial_number"
	AttrIntuneRequestID         = "intune.request_id"
	AttrIntuneUploadState       = "intune.upload_state"
	AttrIntuneMetricName        = "intune.metric.name"
	AttrIntuneMetricValue       = "intune.metric.value"
	AttrIntuneDetails           = "intune.details"
	AttrIntuneEnrichmentVersion = "intune.enrichment.version"
	AttrIntuneWarnings          = "intune.enrichment.warnings"
	AttrIntuneRunbookURL        = "intune.runbook_url"

	// AttrLabels is ECS labels: one keyword per label a catalog file gives
	// the event or its code, written as a map so that the ECS document
	// holds labels.<name>.
	AttrLabels = "labels"
)

// EnrichmentVersion marks records this version of the mapping produced. The
// processor uses it to recognise records already in the contract, so
// enrichment is never applied twice.
const EnrichmentVersion = "1"

// Event kind and module values the contract fixes.
const (
	EventKind    = "event"
	EventModule  = "intune_connector"
	EventDataset = "intune_connector.events"
)

// FieldType is the attribute's value type.
type FieldType string

const (
	TypeString  FieldType = "string"
	TypeInt     FieldType = "int"
	TypeBool    FieldType = "bool"
	TypeStrings FieldType = "string[]"
	TypeMap     FieldType = "map"
)

// FieldSpec documents one contract attribute. The README's fields reference
// and the Elasticsearch mappings are generated from this table.
type FieldSpec struct {
	Name string
	Type FieldType
	// Always is true for fields every record carries.
	Always      bool
	Description string
}

// Fields is the record contract, in documentation order.
var Fields = []FieldSpec{
	{AttrEventKind, TypeString, true, `Always "event".`},
	{AttrEventModule, TypeString, true, `Always "intune_connector".`},
	{AttrEventDataset, TypeString, true, `"intune_connector.events"; exporters may route on it.`},
	{AttrEventProvider, TypeString, false, "Event provider name (the log name for legacy connector events, which publish none)."},
	{AttrEventCode, TypeString, true, "Windows event ID, as text."},
	{AttrEventAction, TypeString, false, "Catalog event name, e.g. PkcsCertIssue_Failure. Absent for unknown events."},
	{AttrEventOutcome, TypeString, true, "success, failure or unknown (catalog; unknown for events not in it)."},
	{AttrEventSeverity, TypeInt, true, "Numeric severity, 1 (informational) to 5 (critical); see the severity table."},
	{AttrEventID, TypeString, true, "Deterministic fingerprint of channel, computer, record ID and time; the Elasticsearch _id."},
	{AttrEventOriginal, TypeString, false, "The event as read (XML or JSON text), when original capture is on."},
	{AttrLogLevel, TypeString, true, "Severity name: verbose, information, warning, error, critical."},
	{AttrHostName, TypeString, false, "Computer that wrote the event."},
	{AttrUserID, TypeString, false, "Intune user ID the event concerns."},
	{AttrDeviceID, TypeString, false, "Intune device ID the event concerns."},
	{AttrErrorCode, TypeString, false, "Diagnostic code when it reports an error (not 0x00000000)."},
	{AttrErrorMessage, TypeString, false, "What went wrong: the diagnostic code's meaning, the event's own diagnostic text, or the exception's first line."},
	{AttrErrorType, TypeString, false, "Exception type from the event's exception field."},
	{AttrErrorStack, TypeString, false, "The full exception text, stack trace included."},
	{AttrWinlogChannel, TypeString, false, "Event log channel."},
	{AttrWinlogComputerName, TypeString, false, "Computer name as recorded in the event."},
	{AttrWinlogEventID, TypeString, true, "Windows event ID, as text."},
	{AttrWinlogProviderName, TypeString, false, "Provider name."},
	{AttrWinlogProviderGUID, TypeString, false, "Provider GUID, upper case with braces."},
	{AttrWinlogRecordID, TypeString, false, "Event record ID, as text."},
	{AttrWinlogLevel, TypeString, true, "Level name, lower case, as Winlogbeat writes it: critical, error, warning, information (levels 4 and 0), verbose; other levels by the name Windows rendered, else their number."},
	{AttrWinlogVersion, TypeInt, false, "Event version; absent when 0, as in Winlogbeat."},
	{AttrWinlogTask, TypeString, false, "Task as rendered by Windows, else None for task 0, else the task number."},
	{AttrWinlogOpcode, TypeString, false, "Opcode as rendered by Windows, else its standard name (Info, Start, Stop, ...), else the opcode number."},
	{AttrWinlogKeywords, TypeStrings, false, "Keyword names as rendered by Windows; else the standard keywords by name (Classic, Audit Success, Audit Failure, ...) and the provider's own bits as one hex mask."},
	{AttrWinlogProcessPID, TypeInt, false, "Process ID that wrote the event."},
	{AttrWinlogThreadID, TypeInt, false, "Thread ID that wrote the event."},
	{AttrWinlogActivityID, TypeString, false, "Correlation activity ID."},
	{AttrWinlogRelatedActivityID, TypeString, false, "Related correlation activity ID."},
	{AttrWinlogUserIdentifier, TypeString, false, "Security identifier (SID) of the account that wrote the event."},
	{AttrWinlogEventData, TypeMap, false, "Every EventData item by name; unnamed items as param1, param2, ... in order."},
	{AttrWinlogUserData, TypeMap, false, "UserData items by their path below the UserData element."},
	{AttrIntuneGeneration, TypeString, false, "legacy (Microsoft Intune Connector) or current (Certificate Connector for Microsoft Intune)."},
	{AttrIntuneCategory, TypeString, false, "Catalog category, e.g. pkcs, revoke, scep, pkcs_issue."},
	{AttrIntuneMatched, TypeBool, true, "Whether the event is in the catalog. Unknown events, and events from other logs even with a catalog ID, pass through unmatched."},
	{AttrIntuneDescription, TypeString, false, "What the event means."},
	{AttrIntuneRemediation, TypeString, false, "What to do: the diagnostic code's hint when there is one, else the event's."},
	{AttrIntuneRunbookURL, TypeString, false, "Link to the site's runbook, from a catalog file's runbook_url: the diagnostic code's when it has one, else the event's."},
	{AttrIntuneDiagCode, TypeString, false, "Diagnostic code, normalised to 0x + 8 upper-case hex digits when it is a hex code."},
	{AttrIntuneDiagName, TypeString, false, "Diagnostic code name, e.g. PKCS_Issue_CA_Unavailable."},
	{AttrIntuneDiagMessage, TypeString, false, "What the diagnostic code means."},
	{AttrIntuneDiagText, TypeString, false, "The diagnostic text the connector wrote into the event."},
	{AttrIntuneDiagMatched, TypeBool, false, "Whether the diagnostic code is in the catalog (present when the event has a code)."},
	{AttrIntuneCA, TypeString, false, "Certification authority the request went to."},
	{AttrIntuneTemplate, TypeString, false, "Certificate template name."},
	{AttrIntuneThumbprint, TypeString, false, "Certificate thumbprint."},
	{AttrIntuneSerialNumber, TypeString, false, "Certificate serial number."},
	{AttrIntuneRequestID, TypeString, false, "Request ID."},
	{AttrIntuneUploadState, TypeString, false, "Upload state reported by legacy upload events."},
	{AttrIntuneMetricName, TypeString, false, "Legacy events: the Metric name inside the event data."},
	{AttrIntuneMetricValue, TypeString, false, "Legacy events: the Metric value inside the event data."},
	{AttrIntuneDetails, TypeMap, false, "Legacy events: every Metric dimension, flattened, with its original key."},
	{AttrIntuneEnrichmentVersion, TypeString, true, "Version of the mapping that produced the record; marks it as already enriched."},
	{AttrIntuneWarnings, TypeStrings, false, "Things enrichment noticed, e.g. a Metric name that disagrees with the catalog name for the event ID."},
	{AttrLabels, TypeMap, false, "ECS labels from catalog files (labels: {team: pki}), the event's and its diagnostic code's: labels.team, ... Keyword values."},
}
