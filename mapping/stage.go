package mapping

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-intune/otelcol-intune/wineventlog"
)

// attrList stages a record's attributes in order, on the stack. Enrich
// puts up to about 60 of them, usually about 35; sizing the map for the most
// would waste a kilobyte per record, and for fewer would make it grow to
// twice its size. A heap-allocated list was measurably slower: every write
// of a string into it paid a GC write barrier.
type attrList struct {
	buf [64]stagedAttr
	n   int
	// more takes what does not fit in buf; with the attributes Enrich
	// writes today it stays nil.
	more []stagedAttr
}

type attrKind uint8

const (
	kindStr    attrKind = iota
	kindInt             // i
	kindBool            // i != 0
	kindData            // data[i]
	kindStrs            // strs[i]
	kindStrOne          // a list of the one string s
)

// stagedAttr is kept small because the whole list is zeroed per record;
// map and slice values live in side arrays of the list.
type stagedAttr struct {
	key  string
	s    string
	i    int64
	kind attrKind
}

// stagedValues holds the few values that are not scalars.
type stagedValues struct {
	data [4][]wineventlog.Data
	nd   int
	strs [2][]string
	ns   int
}

func (l *attrList) add(a stagedAttr) {
	if l.n < len(l.buf) {
		l.buf[l.n] = a
		l.n++
		return
	}
	l.more = append(l.more, a)
}

// insert places a string attribute at its position in tree order, unless
// its key is already staged or its value is empty.
func (l *attrList) insert(x Attr) {
	if x.Value == "" {
		return
	}
	for i := range l.n {
		if l.buf[i].key == x.Key {
			return
		}
	}
	for _, a := range l.more {
		if a.key == x.Key {
			return
		}
	}
	if l.n == len(l.buf) || len(l.more) > 0 {
		l.more = append(l.more, stagedAttr{key: x.Key, s: x.Value})
		return
	}
	i := l.n
	for i > 0 && lessPath(x.Key, l.buf[i-1].key) {
		i--
	}
	copy(l.buf[i+1:l.n+1], l.buf[i:l.n])
	l.buf[i] = stagedAttr{key: x.Key, s: x.Value}
	l.n++
}

func (l *attrList) str(k, v string)       { l.add(stagedAttr{key: k, s: v}) }
func (l *attrList) int(k string, v int64) { l.add(stagedAttr{key: k, kind: kindInt, i: v}) }
func (l *attrList) bool(k string, v bool) {
	var i int64
	if v {
		i = 1
	}
	l.add(stagedAttr{key: k, kind: kindBool, i: i})
}

func (l *attrList) nonEmpty(k, v string) {
	if v != "" {
		l.str(k, v)
	}
}

func (v *stagedValues) dataIn(l *attrList, k string, d []wineventlog.Data) {
	if v.nd == len(v.data) {
		panic("mapping: more map attributes than stagedValues holds")
	}
	v.data[v.nd] = d
	l.add(stagedAttr{key: k, kind: kindData, i: int64(v.nd)})
	v.nd++
}

func (v *stagedValues) strsIn(l *attrList, k string, s []string) {
	if v.ns == len(v.strs) {
		panic("mapping: more list attributes than stagedValues holds")
	}
	v.strs[v.ns] = s
	l.add(stagedAttr{key: k, kind: kindStrs, i: int64(v.ns)})
	v.ns++
}

// flush writes the staged attributes into m.
func (l *attrList) flush(m pcommon.Map, v *stagedValues) {
	m.EnsureCapacity(m.Len() + l.n + len(l.more))
	for i := range l.n {
		l.buf[i].put(m, v)
	}
	for i := range l.more {
		l.more[i].put(m, v)
	}
}

func (a *stagedAttr) put(m pcommon.Map, v *stagedValues) {
	switch a.kind {
	case kindStr:
		m.PutStr(a.key, a.s)
	case kindInt:
		m.PutInt(a.key, a.i)
	case kindBool:
		m.PutBool(a.key, a.i != 0)
	case kindData:
		putData(m.PutEmptyMap(a.key), v.data[a.i])
	case kindStrs:
		list := v.strs[a.i]
		s := m.PutEmptySlice(a.key)
		s.EnsureCapacity(len(list))
		for _, x := range list {
			s.AppendEmpty().SetStr(x)
		}
	case kindStrOne:
		m.PutEmptySlice(a.key).AppendEmpty().SetStr(a.s)
	}
}

func putData(m pcommon.Map, data []wineventlog.Data) {
	m.EnsureCapacity(len(data))
	for _, d := range data {
		m.PutStr(d.Name, d.Value)
	}
}
