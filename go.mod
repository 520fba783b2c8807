module github.com/gosupervisor/gosupervisor

go 1.26.8

require (
	github.com/google/go-cmp v0.7.0
	github.com/kolo/xmlrpc v0.0.0-20220921171641-a4b6fa1dd06b
	go.uber.org/goleak v1.3.0
	golang.org/x/term v0.48.0
	gopkg.in/natefinch/lumberjack.v2 v2.2.1
)

require (
	github.com/stretchr/testify v1.11.1 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
