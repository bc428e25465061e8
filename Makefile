# network-connections: a Nagios/Icinga check plugin that counts sockets.
BINARY  := network-connections
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
PREFIX  ?= /usr
PLUGINDIR ?= $(PREFIX)/lib/nagios/plugins
GO      ?= go

.PHONY: build run test bench install clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BINARY) .

# Build, then check this host.
run: build
	./$(BINARY); echo "exit code: $$?"

# The whole suite. The namespace tests need root (they skip, saying so, without).
test:
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) test -count=1 ./...

install: build
	install -D -m 0755 $(BINARY) $(DESTDIR)$(PLUGINDIR)/$(BINARY)

clean:
	rm -f $(BINARY)

# Times the check against ss, gopsutil and a bare sock_diag program on 10k to
# 100k sockets in a private network namespace (root), and prints one table.
bench:
	NC_BENCH=1 $(GO) test -count=1 -run '^TestBench$$' -timeout 60m -v . | grep -v '^\s*\(=== RUN\|--- PASS\|PASS\|ok \)'
