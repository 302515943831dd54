//go:build linux

package e2e

import "testing"

// assertStoredOnce checks that the bulk test server created exactly one
// document per wanted event.id and nothing else, and that every failed
// bulk item was a 409 (a create sent again after a kill or an outage).
func assertStoredOnce(t *testing.T, es *esServer, want map[string]bool) {
	t.Helper()
	st := es.stats(t)
	docs := es.docs(t, dataStream)
	missing := len(want)
	for _, d := range docs {
		if want[d.ID] {
			missing--
		} else {
			t.Errorf("document %s is not one of the input events", d.ID)
		}
	}
	t.Logf("bulk test server: %d created, %d answered 409 (sent again), %d other item errors",
		st.Created, st.Conflicts, st.ItemErrors-st.Conflicts)
	if st.Created != int64(len(want)) || len(docs) != len(want) || missing != 0 {
		t.Errorf("%d created, %d stored, %d input events missing; want %d created and stored, none missing",
			st.Created, len(docs), missing, len(want))
	}
	if other := st.ItemErrors - st.Conflicts; other != 0 {
		t.Errorf("%d bulk items failed with errors other than 409", other)
	}
}

// assertAtLeastOnce checks that the HEC peer stored every wanted event
// (repeats allowed) and nothing else.
func assertAtLeastOnce(t *testing.T, hec *idCounter, want map[string]bool) {
	t.Helper()
	hec.update(t)
	missing, dups := 0, 0
	for id := range want {
		switch n := hec.ids[id]; {
		case n == 0:
			missing++
		case n > 1:
			dups += n - 1
		}
	}
	for id := range hec.ids {
		if !want[id] {
			t.Errorf("the peer stored event %q, which is not in the input", id)
		}
	}
	t.Logf("HEC peer: %d events stored, %d of them repeats (sent again)", hec.total, dups)
	if missing != 0 {
		t.Errorf("%d of %d events never reached the HEC peer", missing, len(want))
	}
}
