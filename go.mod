module github.com/gogibson/gogibson

go 1.26.0

require (
	github.com/dave/jennifer v1.7.1
	github.com/google/go-cmp v0.7.0
	golang.org/x/term v0.48.0
	gopkg.in/yaml.v3 v3.0.1
)

require golang.org/x/sys v0.50.0 // indirect
