module github.com/gosupervisor/gosupervisor

go 1.26.8

require (
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/kolo/xmlrpc v0.0.0-20220921171641-a4b6fa1dd06b // indirect
	go.uber.org/goleak v1.3.0 // indirect
	gopkg.in/ini.v1 v1.67.3 // indirect
	gopkg.in/natefinch/lumberjack.v2 v2.2.1 // indirect
)
