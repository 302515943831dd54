package delivery

import "go.opentelemetry.io/collector/pdata/plog"

// Ref locates a record inside the plog.Logs being pushed, so the records
// still to send can be handed back to exporterhelper.
type Ref struct{ RL, SL, LR int32 }

// Subset copies the records at refs, which must be in record order, into
// new Logs under copies of their resources and scopes.
func Subset(ld plog.Logs, refs []Ref) plog.Logs {
	out := plog.NewLogs()
	lastRL, lastSL := int32(-1), int32(-1)
	var curRL plog.ResourceLogs
	var curSL plog.ScopeLogs
	for _, r := range refs {
		srcRL := ld.ResourceLogs().At(int(r.RL))
		if r.RL != lastRL {
			curRL = out.ResourceLogs().AppendEmpty()
			srcRL.Resource().CopyTo(curRL.Resource())
			curRL.SetSchemaUrl(srcRL.SchemaUrl())
			lastRL, lastSL = r.RL, -1
		}
		srcSL := srcRL.ScopeLogs().At(int(r.SL))
		if r.SL != lastSL {
			curSL = curRL.ScopeLogs().AppendEmpty()
			srcSL.Scope().CopyTo(curSL.Scope())
			curSL.SetSchemaUrl(srcSL.SchemaUrl())
			lastSL = r.SL
		}
		srcSL.LogRecords().At(int(r.LR)).CopyTo(curSL.LogRecords().AppendEmpty())
	}
	return out
}

// Record returns the record at r.
func Record(ld plog.Logs, r Ref) plog.LogRecord {
	return ld.ResourceLogs().At(int(r.RL)).ScopeLogs().At(int(r.SL)).LogRecords().At(int(r.LR))
}
