# shmmap — see README.md. `make demo` runs the article across C and Go;
# `make test` runs every check CI runs.

GO      ?= go
CC      := $(shell $(GO) env CC)
CFLAGS  ?= -O2 -g
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME ?= 2m

C_BINS  := bin/c-writer bin/c-reader bin/c-mmap
GO_BINS := bin/writer bin/reader bin/mmap bin/shmmap

CROSS_ARCHS := amd64 arm64 386 riscv64 ppc64le s390x

.PHONY: all demo test vet fmt-check staticcheck test-race test-nocgo cross test-386 fuzz bench clean

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

test: vet fmt-check staticcheck test-race test-nocgo cross test-386

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

staticcheck:
	$(GO) run $(STATICCHECK) ./...

test-race:
	$(GO) test -race -count=1 ./...

# The pure-Go half must build and pass without cgo: purego, the ports (the
# cross-process matrix then runs C against Go/purego), the conformance
# suite over purego alone, and the kit users run on their own programs
# (shmtest, layout), which needs no cgo.
test-nocgo:
	CGO_ENABLED=0 $(GO) build ./purego ./procmaps ./impls ./cmd/... .
	CGO_ENABLED=0 $(GO) test -count=1 . ./purego ./procmaps ./impls ./conformance ./posixsem/... ./ring/... ./examples/... ./cmd/... ./shmtest/... ./layout/... ./posixmq/... ./pthread/... ./internal/futexwait

# Every package builds without cgo on each architecture, and its tests
# compile (go vet type-checks them).
cross:
	@for a in $(CROSS_ARCHS); do \
		echo "CGO_ENABLED=0 GOARCH=$$a go build ./... && go vet ./..."; \
		CGO_ENABLED=0 GOARCH=$$a $(GO) build ./... && CGO_ENABLED=0 GOARCH=$$a $(GO) vet ./... || exit 1; \
	done

# Every package that supports 386, tested as a 32-bit program on the 64-bit
# kernel. Its cross-process tests pair the 32-bit Go side with the 64-bit C
# programs and, where the C compiler builds -m32 (gcc-multilib), with 32-bit
# C peers too (glibc's 32-bit sem_t, the ring, segments and semaphores).
# Where the kernel does not run 32-bit binaries (ia32 emulation off), it says
# so and only builds the 386 test binaries.
PKGS_386 := . ./purego ./conformance ./procmaps ./posixsem ./posixmq ./pthread ./ring ./examples/... ./cmd/... ./shmtest/... ./layout/... ./internal/futexwait

test-386:
	@probe=$$(mktemp -d); \
	printf 'package main\nfunc main() {}\n' > $$probe/p.go; \
	CGO_ENABLED=0 GOARCH=386 $(GO) build -o $$probe/p $$probe/p.go; \
	if $$probe/p 2>/dev/null; then \
		printf 'int main(void) { return 0; }\n' > $$probe/c.c; \
		if $(CC) -m32 -o $$probe/c $$probe/c.c 2>/dev/null && $$probe/c; then \
			echo "test-386: 32-bit C peers: yes ($(CC) -m32)"; \
		else \
			echo "test-386: 32-bit C peers: no ($(CC) -m32 cannot build; install gcc-multilib libc6-dev-i386): 32-bit Go meets 64-bit C only"; \
		fi; \
		rm -rf $$probe; \
		echo "CGO_ENABLED=0 GOARCH=386 go test $(PKGS_386)"; \
		CGO_ENABLED=0 GOARCH=386 $(GO) test -count=1 $(PKGS_386); \
	else \
		rm -rf $$probe; \
		echo "test-386: this kernel does not run 32-bit binaries (ia32 emulation off); building the 386 test binaries only"; \
		for p in $$(CGO_ENABLED=0 GOARCH=386 $(GO) list $(PKGS_386)); do \
			CGO_ENABLED=0 GOARCH=386 $(GO) test -c -o /dev/null $$p || exit 1; \
		done; \
	fi

# Benchmarks against C and the peers, in interleaved rounds: writes
# BENCHMARKS.md, bench/results/raw.txt (for benchstat) and the charts (streaming.svg, pingpong.svg).
bench:
	cd bench && $(GO) vet ./... && $(GO) run ./cmd/report -rounds 5

# Longer fuzzing than the seed-corpus run inside `make test`.
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzParseLine -fuzztime=$(FUZZTIME) ./procmaps
	$(GO) test -run='^$$' -fuzz=FuzzOps -fuzztime=$(FUZZTIME) .
	$(GO) test -run='^$$' -fuzz=FuzzStructAt -fuzztime=$(FUZZTIME) .
	$(GO) test -run='^$$' -fuzz=FuzzMutexAt -fuzztime=$(FUZZTIME) ./pthread
	$(GO) test -run='^$$' -fuzz=FuzzCondAt -fuzztime=$(FUZZTIME) ./pthread

clean:
	rm -rf bin
