package mapping

import "github.com/otelcol-intune/otelcol-intune/wineventlog"

// Foreign reports whether ev is not a connector event at all: it names a
// log (channel) that is not one of the connector's, or, without a log name
// (Get-EventLog exports carry none), a provider that is not the
// connector's and an event ID the catalog does not know. Such an event is
// someone else's, such as a System-log 7036 from the Service Control
// Manager; it is never matched to a catalog entry, and tools should count
// it apart from connector events the catalog does not know yet, which
// keep their generation.
//
// An event that names neither log nor provider cannot be judged and is
// not foreign.
func (c *Catalog) Foreign(ev *wineventlog.Event) bool {
	_, fromConnector := c.SourceOf(ev.ProviderName, ev.ProviderGUID, ev.Channel)
	return c.foreign(ev, fromConnector)
}

// foreign is Foreign for a caller that has asked SourceOf already.
func (c *Catalog) foreign(ev *wineventlog.Event, fromConnector bool) bool {
	switch {
	case fromConnector:
		return false
	case ev.Channel != "":
		return true
	}
	// The legacy connector publishes no provider name, so a provider alone
	// proves nothing while the event ID is the catalog's.
	return (ev.ProviderName != "" || ev.EventSourceName != "") && c.Event(ev.EventID) == nil
}
