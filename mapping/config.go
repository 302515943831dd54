package mapping

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Config is the enrichment configuration shared by every component that
// enriches (the receiver and the processor embed it under the same keys), so
// severity overrides are written once and mean the same everywhere.
type Config struct {
	// SeverityOverrides change the catalog's severity for an event, a
	// diagnostic code, or an event with a particular code.
	SeverityOverrides []SeverityOverride `mapstructure:"severity_overrides"`
	// IncludeOriginal keeps the event's text in event.original.
	IncludeOriginal bool `mapstructure:"include_original"`
	// CatalogFiles are the site's own catalog files, in the schema of the
	// embedded catalog, layered over it in order (see Catalog.Layered):
	// new events and codes, their own texts, runbook links and labels.
	// The component reads them; mapping reads no files.
	CatalogFiles []string `mapstructure:"catalog_files"`
}

// SeverityOverride sets the severity of matching events. Event is an event
// ID or catalog name; Code a diagnostic code. With both set, it applies only
// to that event carrying that code. Precedence: event+code, then code, then
// event.
type SeverityOverride struct {
	Event    EventRef `mapstructure:"event"`
	Code     CodeRef  `mapstructure:"code"`
	Severity Severity `mapstructure:"severity"`
}

// EventRef is an event ID or catalog event name as written in config. An ID
// may be written as a bare YAML number (event: 20102).
type EventRef string

// UnmarshalText keeps the text; Validate checks it against the catalog.
func (e *EventRef) UnmarshalText(b []byte) error {
	*e = EventRef(strings.TrimSpace(string(b)))
	return nil
}

// CodeRef is a diagnostic code as written in config: 0x00000400, or a
// documented spelling of one.
type CodeRef string

// UnmarshalText keeps the text; Validate checks and normalises it.
func (c *CodeRef) UnmarshalText(b []byte) error {
	*c = CodeRef(strings.TrimSpace(string(b)))
	return nil
}

// TextForNumber turns a code written unquoted back into hex: YAML reads
// code: 0x00000400 as the integer 1024. A number whose digits are a catalog
// code read as hex (400, or 00000400, which YAML takes for octal) while the
// number itself is not one is refused: the user wrote hex digits without
// the 0x, and YAML has already lost which.
func (CodeRef) TextForNumber(n int64) (string, error) {
	if n < 0 || n > 0xFFFFFFFF {
		return "", fmt.Errorf("%d is not a diagnostic code; write it in hex as the catalog does, e.g. 0x00000400", n)
	}
	code := fmt.Sprintf("0x%08X", n)
	cat, err := Default()
	if err != nil {
		return "", err
	}
	if _, _, known := cat.Code(code); known {
		return code, nil
	}
	for _, digits := range []string{strconv.FormatInt(n, 10), strconv.FormatInt(n, 8)} {
		if _, meant, known := cat.Code("0x" + digits); known {
			return "", fmt.Errorf("YAML read the code as the number %d (%s), which is not in the catalog; for %s write code: %s, or put the code in quotes", n, code, meant, meant)
		}
	}
	return code, nil
}

// Validate checks the overrides against the catalog: names must exist, codes
// must be hex, and each override must say what it applies to. With catalog
// files, an event name the embedded catalog lacks may be one a file adds:
// the component that reads the files checks those names with
// CheckOverrideNames.
func (c Config) Validate() error {
	cat, err := Default()
	if err != nil {
		return err
	}
	var errs []error
	for i, p := range c.CatalogFiles {
		if strings.TrimSpace(p) == "" {
			errs = append(errs, fmt.Errorf("catalog_files[%d]: the path is empty; name a catalog file or remove the entry", i))
		}
	}
	_, err = compileOverrides(cat, c.SeverityOverrides)
	if len(c.CatalogFiles) > 0 {
		err = withoutNameErrors(err)
	}
	return errors.Join(append(errs, err)...)
}

// CheckOverrideNames checks the event names of the severity overrides
// against cat, the catalog with the files layered over it. It reports only
// names; Validate reports every other problem of the overrides.
func (c Config) CheckOverrideNames(cat *Catalog) error {
	_, err := compileOverrides(cat, c.SeverityOverrides)
	return onlyNameErrors(err)
}

// unknownEventName is an override naming an event the catalog lacks.
type unknownEventName struct{ error }

func withoutNameErrors(err error) error { return filterErrors(err, false) }
func onlyNameErrors(err error) error    { return filterErrors(err, true) }

func filterErrors(err error, names bool) error {
	if err == nil {
		return nil
	}
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	var keep []error
	for _, e := range list {
		var n unknownEventName
		if errors.As(e, &n) == names {
			keep = append(keep, e)
		}
	}
	return errors.Join(keep...)
}

type pairKey struct {
	event uint32
	code  string
}

type overrides struct {
	event map[uint32]Severity
	code  map[string]Severity
	pair  map[pairKey]Severity
}

func compileOverrides(cat *Catalog, list []SeverityOverride) (overrides, error) {
	o := overrides{event: map[uint32]Severity{}, code: map[string]Severity{}, pair: map[pairKey]Severity{}}
	var errs []error
	for i, ov := range list {
		where := fmt.Sprintf("severity_overrides[%d]", i)
		if ov.Severity == SeverityUnset {
			errs = append(errs, fmt.Errorf("%s: severity is required (%s)", where, severityNames))
		}
		if ov.Event == "" && ov.Code == "" {
			errs = append(errs, fmt.Errorf("%s: set event (an event ID or name), code (a diagnostic code such as 0x00000400), or both", where))
			continue
		}
		var id uint32
		if ov.Event != "" {
			ev := strings.TrimSpace(string(ov.Event))
			if n, err := strconv.ParseUint(ev, 10, 32); err == nil {
				// Unknown IDs are allowed: an override can give an event
				// the catalog does not know yet a severity of its own.
				id = uint32(n)
			} else if e := cat.EventByName(ev); e != nil {
				id = e.ID
			} else {
				errs = append(errs, unknownEventName{fmt.Errorf("%s: event %q is neither an event ID nor a catalog event name (see intunectl explain)", where, ov.Event)})
				continue
			}
		}
		var code string
		if ov.Code != "" {
			c, ok := cat.NormalizeCode(string(ov.Code))
			if !ok {
				errs = append(errs, fmt.Errorf("%s: code %q is not a hex diagnostic code like 0x00000400", where, ov.Code))
				continue
			}
			code = c
		}
		switch {
		case id != 0 && code != "":
			o.pair[pairKey{id, code}] = ov.Severity
		case id != 0:
			o.event[id] = ov.Severity
		default:
			o.code[code] = ov.Severity
		}
	}
	return o, errors.Join(errs...)
}

func (o overrides) apply(id uint32, code string, s Severity) Severity {
	if v, ok := o.pair[pairKey{id, code}]; ok && code != "" {
		return v
	}
	if v, ok := o.code[code]; ok && code != "" {
		return v
	}
	if v, ok := o.event[id]; ok {
		return v
	}
	return s
}
