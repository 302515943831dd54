// Package e2e holds the end-to-end tests of the otelcol-intune distribution:
// they run the built collector binary as a separate process against the
// Elasticsearch bulk test server (internal/tools/esbulkserver) and
// the real Splunk HEC peer (test/hecpeer), and check what arrived.
//
//	go test -v ./test/e2e/            # everything (about 4 minutes on 2 cores)
//	go test -short -v ./test/e2e/     # without the crash, outage, damaged-input and Kafka tests
//
// The collector and the bulk test server are built once per run with
// `go build` from the module root, unless OTELCOL_BIN and ESBULKSERVER_BIN
// name binaries that already exist. The HEC peer is built by `make hecpeer`
// (or named by HECPEER_BIN); without it the Splunk halves of the tests skip.
// Outside CI a collector that cannot be built makes the tests skip; with
// CI=true it fails them.
//
// The Kafka test runs its own Kafka-protocol broker (franz-go's kfake) in
// the test process; no Kafka installation is needed.
//
// The tests are Linux only: they read /proc for memory and use signals,
// FIFOs and symbolic links.
package e2e
