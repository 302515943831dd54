module github.com/otelcol-intune/otelcol-intune

go 1.26.0

require (
	go.opentelemetry.io/collector/pdata v1.68.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/term v0.47.0 // indirect
)
