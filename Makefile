# shmmap — see README.md. `make demo` runs the article across C and Go;
# `make test` runs every check CI runs.

GO      ?= go
CC      := $(shell $(GO) env CC)
CFLAGS  ?= -O2 -g
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME ?= 2m

C_BINS  := bin/c-writer bin/c-reader bin/c-mmap
GO_BINS := bin/writer bin/reader bin/mmap

.PHONY: all demo test vet fmt-check staticcheck test-race test-nocgo fuzz clean

all: $(C_BINS) $(GO_BINS)

bin/c-%: c-reference/%.c
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $<

# Go builds are cheap to repeat and go tracks its own dependencies.
.PHONY: $(GO_BINS)
$(GO_BINS):
	$(GO) build -o $@ ./cmd/$(notdir $@)

demo: all
	bash scripts/demo.sh

test: vet fmt-check staticcheck test-race test-nocgo

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

staticcheck:
	$(GO) run $(STATICCHECK) ./...

test-race:
	$(GO) test -race -count=1 ./...

# The pure-Go half must build and pass without cgo: purego, the ports (the
# cross-process matrix then runs C against Go/purego) and the conformance
# suite over purego alone.
test-nocgo:
	CGO_ENABLED=0 $(GO) build ./purego ./procmaps ./impls ./cmd/... .
	CGO_ENABLED=0 $(GO) test -count=1 . ./purego ./procmaps ./impls ./conformance ./cmd/...

# Longer fuzzing than the seed-corpus run inside `make test`.
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzParseLine -fuzztime=$(FUZZTIME) ./procmaps

clean:
	rm -rf bin
