package mapping

import (
	_ "embed"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

//go:embed catalog.yaml
var catalogYAML []byte

// CatalogYAML returns the embedded catalog file, for generators that derive
// lookups and documentation from it.
func CatalogYAML() []byte { return catalogYAML }

// Generation tells the two connector products apart.
type Generation string

const (
	GenerationLegacy  Generation = "legacy"
	GenerationCurrent Generation = "current"
)

// Outcome is ECS event.outcome.
type Outcome string

const (
	OutcomeSuccess Outcome = "success"
	OutcomeFailure Outcome = "failure"
	OutcomeUnknown Outcome = "unknown"
)

// Source says where one generation's events are written.
type Source struct {
	Generation   Generation `yaml:"generation"`
	Provider     string     `yaml:"provider"`
	ProviderGUID string     `yaml:"provider_guid"`
	Channels     []string   `yaml:"channels"`
}

// Category groups events. Current-connector categories cover an ID range.
type Category struct {
	Slug       string     `yaml:"slug"`
	Title      string     `yaml:"title"`
	Generation Generation `yaml:"generation"`
	IDFrom     uint32     `yaml:"id_from"`
	IDTo       uint32     `yaml:"id_to"`

	origin *origin
}

// EventEntry is one catalog event.
type EventEntry struct {
	ID          uint32     `yaml:"id"`
	Name        string     `yaml:"name"`
	NameAliases []string   `yaml:"name_aliases"`
	IDAliases   []uint32   `yaml:"id_aliases"`
	Generation  Generation `yaml:"generation"`
	Channel     string     `yaml:"channel"`
	Category    string     `yaml:"category"`
	Outcome     Outcome    `yaml:"outcome"`
	Severity    Severity   `yaml:"severity"`
	Codes       []string   `yaml:"codes"`
	DataFields  []string   `yaml:"data_fields"`
	Description string     `yaml:"description"`
	Remediation string     `yaml:"remediation"`
	// RunbookURL and Labels are usually added by a site's own catalog
	// file (see Layered): a link to the team's runbook, and labels such
	// as the owning team, carried by every record of the event.
	RunbookURL string            `yaml:"runbook_url"`
	Labels     map[string]string `yaml:"labels"`

	labels []wineventlog.Data // Labels sorted by key, for records
	origin *origin            // where a catalog file set the entry
}

// CodeEntry is one diagnostic code.
type CodeEntry struct {
	Code        string            `yaml:"code"`
	Aliases     []string          `yaml:"aliases"`
	Name        string            `yaml:"name"`
	Severity    Severity          `yaml:"severity"`
	Message     string            `yaml:"message"`
	Remediation string            `yaml:"remediation"`
	RunbookURL  string            `yaml:"runbook_url"`
	Labels      map[string]string `yaml:"labels"`

	labels []wineventlog.Data
	origin *origin
}

// Catalog is the parsed, validated catalog with its lookups.
type Catalog struct {
	Version    int          `yaml:"version"`
	Sources    []Source     `yaml:"sources"`
	Categories []Category   `yaml:"categories"`
	Events     []EventEntry `yaml:"events"`
	Codes      []CodeEntry  `yaml:"codes"`

	byID       map[uint32]*EventEntry
	byName     map[string]*EventEntry
	byCode     map[string]*CodeEntry
	byCodeRaw  map[string]*CodeEntry // documented misspellings, upper-cased
	categories map[string]*Category
	channels   map[string]Generation // lower-cased channel name
	providers  map[string]Generation // lower-cased provider name and GUID
	exact      map[string]Generation // provider and channel names as written

	pre derived // texts built once from the above (precompute.go)
}

var (
	defaultOnce    sync.Once
	defaultCatalog *Catalog
	defaultErr     error
)

// Default returns the embedded catalog, parsed once.
func Default() (*Catalog, error) {
	defaultOnce.Do(func() { defaultCatalog, defaultErr = ParseCatalog(catalogYAML) })
	return defaultCatalog, defaultErr
}

// MustDefault is Default for callers that cannot proceed without the
// catalog; the embedded file is validated by the package tests, so a failure
// here is a build defect, not a user error.
func MustDefault() *Catalog {
	c, err := Default()
	if err != nil {
		panic("embedded catalog is invalid: " + err.Error())
	}
	return c
}

// ParseCatalog parses and validates a catalog file.
func ParseCatalog(data []byte) (*Catalog, error) {
	var c Catalog
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	if err := c.index(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Catalog) index() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("catalog: "+format, args...)) }

	if c.Version != 1 {
		bad("version %d is not supported (want 1)", c.Version)
	}
	// Order matters: events are checked against the categories, sources
	// and codes indexed before them.
	c.indexCategories(bad)
	c.indexSources(bad)
	c.indexCodes(bad)
	c.indexEvents(bad)
	return errors.Join(errs...)
}

// complaint records one problem found while indexing the catalog.
type complaint func(format string, args ...any)

func (c *Catalog) indexCategories(bad complaint) {
	c.categories = map[string]*Category{}
	for i := range c.Categories {
		cat := &c.Categories[i]
		if cat.Slug == "" {
			bad("%scategory %d has no slug", cat.origin.at("slug"), i)
			continue
		}
		if _, dup := c.categories[cat.Slug]; dup {
			bad("%scategory %q is listed twice", cat.origin.at("slug"), cat.Slug)
		}
		if cat.IDTo < cat.IDFrom {
			bad("%scategory %q: id_to %d is below id_from %d", cat.origin.at("id_to"), cat.Slug, cat.IDTo, cat.IDFrom)
		}
		c.categories[cat.Slug] = cat
	}
}

func (c *Catalog) indexSources(bad complaint) {
	c.channels = map[string]Generation{}
	c.providers = map[string]Generation{}
	c.exact = map[string]Generation{}
	for _, s := range c.Sources {
		if s.Generation != GenerationLegacy && s.Generation != GenerationCurrent {
			bad("source generation %q must be legacy or current", s.Generation)
		}
		for _, ch := range s.Channels {
			c.channels[strings.ToLower(ch)] = s.Generation
			c.exact[ch] = s.Generation
		}
		if s.Provider != "" {
			c.providers[strings.ToLower(s.Provider)] = s.Generation
			c.exact[s.Provider] = s.Generation
		}
		if s.ProviderGUID != "" {
			g, ok := normalizeGUID(s.ProviderGUID)
			if !ok {
				bad("source provider_guid %q is not a GUID", s.ProviderGUID)
			}
			c.providers[strings.ToLower(g)] = s.Generation
		}
	}
}

func (c *Catalog) indexCodes(bad complaint) {
	c.byCode = map[string]*CodeEntry{}
	c.byCodeRaw = map[string]*CodeEntry{}
	for i := range c.Codes {
		ce := &c.Codes[i]
		canon, ok := normalizeHex(ce.Code)
		if !ok || canon != ce.Code {
			bad("%scode %q must be written as 0x followed by 8 upper-case hex digits", ce.origin.at("code"), ce.Code)
		}
		if ce.Name == "" || ce.Message == "" {
			bad("%scode %s needs a name and a message", ce.origin.at(""), ce.Code)
		}
		if _, dup := c.byCode[ce.Code]; dup {
			bad("%scode %s is listed twice", ce.origin.at("code"), ce.Code)
		}
		checkAnnotations(ce.origin, "code "+ce.Code, ce.RunbookURL, ce.Labels, bad)
		ce.labels = sortedLabels(ce.Labels)
		c.byCode[ce.Code] = ce
		for _, a := range ce.Aliases {
			c.byCodeRaw[strings.ToUpper(strings.TrimSpace(a))] = ce
		}
	}
}

// indexEvents indexes every event by ID and name (aliases included) and
// checks each against the rest of the catalog.
func (c *Catalog) indexEvents(bad complaint) {
	c.byID = map[uint32]*EventEntry{}
	c.byName = map[string]*EventEntry{}
	addID := func(id uint32, e *EventEntry) {
		if prev, dup := c.byID[id]; dup {
			bad("%sevent ID %d is used by both %s and %s", e.origin.at("id"), id, prev.Name, e.Name)
			return
		}
		c.byID[id] = e
	}
	addName := func(n string, e *EventEntry) {
		k := strings.ToLower(n)
		if prev, dup := c.byName[k]; dup {
			bad("%sevent name %q is used by both %d and %d", e.origin.at("name"), n, prev.ID, e.ID)
			return
		}
		c.byName[k] = e
	}
	for i := range c.Events {
		e := &c.Events[i]
		if e.ID == 0 || e.Name == "" {
			bad("%sevent %d (%s): id and name are required", e.origin.at(""), e.ID, e.Name)
		}
		addID(e.ID, e)
		for _, a := range e.IDAliases {
			addID(a, e)
		}
		addName(e.Name, e)
		for _, a := range e.NameAliases {
			addName(a, e)
		}
		c.checkEvent(e, bad)
	}
}

// checkEvent checks one event against the rest of the catalog. An event a
// catalog file set is reported with the file and line of its entry.
func (c *Catalog) checkEvent(e *EventEntry, bad complaint) {
	where := e.origin.at("") + fmt.Sprintf("event %d (%s)", e.ID, e.Name)
	switch e.Generation {
	case GenerationLegacy, GenerationCurrent:
	default:
		bad("%s: generation %q must be legacy or current", where, e.Generation)
	}
	switch e.Outcome {
	case OutcomeSuccess, OutcomeFailure, OutcomeUnknown:
	default:
		bad("%s: outcome %q must be success, failure or unknown", where, e.Outcome)
	}
	if e.Severity == SeverityUnset {
		bad("%s: severity is required", where)
	}
	if g, ok := c.channels[strings.ToLower(e.Channel)]; !ok || g != e.Generation {
		bad("%s: channel %q is not a %s source channel", where, e.Channel, e.Generation)
	}
	if e.Description == "" {
		bad("%s: description is required", where)
	}
	if e.Outcome == OutcomeFailure && e.Remediation == "" {
		bad("%s: a failure needs a remediation hint", where)
	}
	if cat := c.CategoryOf(e); cat == nil {
		bad("%s: no category (name one, or for current events keep the ID inside a category range)", where)
	} else if cat.Generation != e.Generation {
		bad("%s: category %q belongs to the %s generation", where, cat.Slug, cat.Generation)
	}
	for _, code := range e.Codes {
		if _, ok := c.byCode[code]; !ok {
			bad("%s: related code %q is not in the codes list", where, code)
		}
	}
	checkAnnotations(e.origin, fmt.Sprintf("event %d (%s)", e.ID, e.Name), e.RunbookURL, e.Labels, bad)
	e.labels = sortedLabels(e.Labels)
}

// CategoryOf returns the event's category: the named one, else the range
// that holds its ID.
func (c *Catalog) CategoryOf(e *EventEntry) *Category {
	if e.Category != "" {
		return c.categories[e.Category]
	}
	for i := range c.Categories {
		cat := &c.Categories[i]
		if cat.Generation == e.Generation && cat.IDTo > 0 && e.ID >= cat.IDFrom && e.ID <= cat.IDTo {
			return cat
		}
	}
	return nil
}

// Category returns a category by slug.
func (c *Catalog) Category(slug string) *Category { return c.categories[slug] }

// Event looks an event up by ID, aliases included.
func (c *Catalog) Event(id uint32) *EventEntry { return c.byID[id] }

// EventByName looks an event up by name, case-insensitively, aliases included.
func (c *Catalog) EventByName(name string) *EventEntry {
	return c.byName[strings.ToLower(strings.TrimSpace(name))]
}

// Code looks a diagnostic code up in any accepted spelling.
func (c *Catalog) Code(raw string) (*CodeEntry, string, bool) {
	if ce := c.codeNoAlloc(raw); ce != nil {
		return ce, ce.Code, true
	}
	canon, ok := c.NormalizeCode(raw)
	if !ok {
		return nil, canon, false
	}
	ce := c.byCode[canon]
	return ce, canon, ce != nil
}

// codeNoAlloc is Code for the usual case, a code the catalog has in some
// ASCII spelling: it upper-cases and normalises on the stack and answers
// with the catalog's own entry, so it allocates nothing. nil means the slow
// path decides.
func (c *Catalog) codeNoAlloc(raw string) *CodeEntry {
	t := strings.TrimSpace(raw)
	var up [24]byte
	if len(t) > len(up) {
		return nil
	}
	for i := 0; i < len(t); i++ {
		b := t[i]
		if b >= utf8.RuneSelf {
			return nil // strings.ToUpper's rules, in NormalizeCode
		}
		if 'a' <= b && b <= 'z' {
			b -= 'a' - 'A'
		}
		up[i] = b
	}
	if ce, ok := c.byCodeRaw[string(up[:len(t)])]; ok {
		return c.byCode[ce.Code]
	}
	var hb [10]byte
	if canon, ok := appendNormalHex(hb[:0], t); ok {
		return c.byCode[string(canon)]
	}
	return nil
}

// NormalizeCode turns any accepted spelling of a diagnostic code into the
// canonical 0x + 8 upper-case hex digits. Documented misspellings map to the
// code they stand for; other values are normalised numerically. ok is false
// when the text is not a hex code at all, and then the trimmed input is
// returned so it can still be shown.
func (c *Catalog) NormalizeCode(raw string) (string, bool) {
	t := strings.TrimSpace(raw)
	if ce, ok := c.byCodeRaw[strings.ToUpper(t)]; ok {
		return ce.Code, true
	}
	return normalizeHex(t)
}

// normalizeHex accepts 0x-prefixed hex of any length that fits 32 bits, and
// bare 8-digit hex, and writes it as 0x%08X.
func normalizeHex(t string) (string, bool) {
	var b [10]byte
	canon, ok := appendNormalHex(b[:0], t)
	if !ok {
		return t, false
	}
	return string(canon), true
}

// appendNormalHex appends normalizeHex's canonical form of t to dst.
func appendNormalHex(dst []byte, t string) ([]byte, bool) {
	digits := t
	if len(t) > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') {
		digits = t[2:]
	} else if len(t) != 8 {
		return dst, false
	}
	if digits == "" || len(digits) > 16 {
		return dst, false
	}
	v, err := strconv.ParseUint(digits, 16, 64)
	if err != nil || v > 0xFFFFFFFF {
		return dst, false
	}
	const hexdigits = "0123456789ABCDEF"
	dst = append(dst, '0', 'x')
	for shift := 28; shift >= 0; shift -= 4 {
		dst = append(dst, hexdigits[v>>uint(shift)&0xF])
	}
	return dst, true
}

// SourceOf reports which connector generation wrote an event, judged by its
// provider (name or GUID) and channel; ok is false for foreign events.
func (c *Catalog) SourceOf(provider, providerGUID, channel string) (Generation, bool) {
	// Exact spellings first: they are what Windows writes, and the lookup
	// then costs no allocation.
	if g, ok := c.exact[provider]; ok && provider != "" {
		return g, true
	}
	if g, ok := c.exact[channel]; ok && channel != "" {
		return g, true
	}
	if g, ok := c.providers[strings.ToLower(provider)]; ok && provider != "" {
		return g, true
	}
	if providerGUID != "" {
		if n, ok := normalizeGUID(providerGUID); ok {
			if g, ok := c.providers[strings.ToLower(n)]; ok {
				return g, true
			}
		}
	}
	if g, ok := c.channels[strings.ToLower(channel)]; ok && channel != "" {
		return g, true
	}
	return "", false
}

// Lookup resolves what an admin types into intunectl explain: an event ID,
// an event name, or a diagnostic code.
func (c *Catalog) Lookup(q string) (*EventEntry, *CodeEntry) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, nil
	}
	if strings.HasPrefix(q, "0x") || strings.HasPrefix(q, "0X") {
		ce, _, _ := c.Code(q)
		return nil, ce
	}
	if id, err := strconv.ParseUint(q, 10, 32); err == nil {
		return c.Event(uint32(id)), nil
	}
	if e := c.EventByName(q); e != nil {
		return e, nil
	}
	for i := range c.Codes {
		if strings.EqualFold(c.Codes[i].Name, q) {
			return nil, &c.Codes[i]
		}
	}
	if ce, _, ok := c.Code(q); ok {
		return nil, ce
	}
	return nil, nil
}

// EventsSorted returns the events ordered by generation (legacy first) and
// ID, the order used in generated tables.
func (c *Catalog) EventsSorted() []*EventEntry {
	out := make([]*EventEntry, len(c.Events))
	for i := range c.Events {
		out[i] = &c.Events[i]
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Generation != out[j].Generation {
			return out[i].Generation == GenerationLegacy
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// normalizeGUID writes a GUID upper-case with braces, as Windows renders it.
func normalizeGUID(s string) (string, bool) {
	t := strings.Trim(strings.TrimSpace(s), "{}")
	if len(t) != 36 {
		return s, false
	}
	for i := 0; i < 36; i++ {
		ch := t[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if ch != '-' {
				return s, false
			}
			continue
		}
		if !isHex(ch) {
			return s, false
		}
	}
	return "{" + strings.ToUpper(t) + "}", true
}

func isHex(ch byte) bool {
	return ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f' || ch >= 'A' && ch <= 'F'
}
