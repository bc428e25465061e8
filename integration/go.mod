module github.com/network-connections/network-connections/integration

go 1.26.8

replace github.com/network-connections/network-connections => ../

require (
	github.com/network-connections/network-connections v0.0.0-00010101000000-000000000000
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
	golang.org/x/sys v0.50.0
)

require golang.org/x/text v0.31.0 // indirect
