// Package metrics measures what counting connector records into metrics
// costs per event with the intune_metrics connector; countconnector/ (a
// module of its own) measures the contrib count connector on the same
// events. See bench/README.md.
package metrics
