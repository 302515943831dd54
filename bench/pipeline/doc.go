// Package pipeline holds the end-to-end CPU benchmark of the foundation:
// decode + enrich + encode, per event, on one core. See bench/README.md.
package pipeline
