# gogibson — every target runs from a fresh clone with only Go and make installed.
GO        ?= go
FUZZTIME  ?= 10s
# staticcheck at a pinned version, fetched through the module proxy on first use
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCHTIME ?= 1s

.PHONY: all generate check test bench fuzz run

all: test

## generate: regenerate generated/ from commands.yaml
generate:
	$(GO) run ./cmd/gibsongen -spec commands.yaml -out generated -client client

## check: gofmt, go vet, staticcheck (both modules), and generated/ up to date
check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	cd gibsonotel && $(STATICCHECK) ./...
	$(GO) run ./cmd/gibsongen -spec commands.yaml -out generated -client client -check

## test: check, every test with the race detector, then the allocation tests without it
## (the race detector makes sync.Pool drop items, so allocation counts need their own pass),
## then every benchmark once, so a broken benchmark fails here and not when measuring; then
## the same for the gibsonotel module, which has its own go.mod
test: check
	$(GO) test -race -count=1 ./...
	$(GO) test -count=1 -run 'Alloc' ./...
	$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x ./...
	cd gibsonotel && $(GO) vet ./... && $(GO) test -race -count=1 ./... && \
	  $(GO) test -count=1 -run 'Alloc' ./... && $(GO) test -count=1 -run '^$$' -bench . -benchtime 1x ./...

## bench: benchmarks with allocation counts
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

## fuzz: a short run of every fuzz target
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$target"; \
	    $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## run: the interactive CLI on the default address (embedded server when none answers)
run:
	$(GO) run ./cmd/gibson
