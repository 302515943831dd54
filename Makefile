GO ?= go
FUZZTIME ?= 20s

.PHONY: all build test bench lint docs golden samples fuzz ci

all: lint test

build:
	$(GO) build -o bin/intunectl ./cmd/intunectl

test:
	$(GO) test -race ./...

# Benchmarks report ns/event and allocs/event; see bench/README.md for the figures.
bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./wineventlog/ ./mapping/ ./bench/pipeline/ ./processor/intuneenrichprocessor/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

docs:
	$(GO) run ./internal/docgen/cmd README.md

golden:
	$(GO) test ./mapping/ -run TestGolden -update

samples:
	$(GO) run ./internal/eventgen/cmd/gensamples testdata/samples

# Each fuzz target for a bounded time.
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzParseEventXML$$' -fuzztime=$(FUZZTIME) ./wineventlog/
	$(GO) test -run='^$$' -fuzz='^FuzzParseEventJSON$$' -fuzztime=$(FUZZTIME) ./wineventlog/
	$(GO) test -run='^$$' -fuzz='^FuzzDecoder$$' -fuzztime=$(FUZZTIME) ./wineventlog/
