# network-connections: a Nagios/Icinga check plugin that counts sockets.
BINARY    := network-connections
# A tag vX.Y.Z on HEAD gives X.Y.Z; otherwise BASE_VERSION+git.<commit>.
BASE_VERSION := 0.1.0
VERSION   ?= $(shell v=$$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null) && echo $${v\#v} || \
	echo $(BASE_VERSION)+git.$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$$(git diff --quiet HEAD 2>/dev/null || echo .dirty))
LDFLAGS   := -s -w -X main.version=$(VERSION)
PREFIX    ?= /usr
PLUGINDIR ?= $(PREFIX)/lib/nagios/plugins
DISTDIR   ?= dist
GO        ?= go
# Only the platforms the tests run (Windows under wine); see the README.
PLATFORMS := linux/amd64 linux/arm64 windows/amd64

.PHONY: build run test fuzz fuzz-run deps bench install dist packages version clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BINARY) .

# Build, then check this host.
run: build
	./$(BINARY); echo "exit code: $$?"

# The whole suite. Tests that need root (private network namespaces) skip,
# saying so, without it; as root, deps installs what they run.
test: deps
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...
	@$(MAKE) -s fuzz-run FUZZTIME=5s

# Every fuzz target, longer. Inputs that fail land in testdata/fuzz/ of the
# package, where go test replays them as seeds.
FUZZTIME ?= 2m
FUZZ_TARGETS := ./internal/threshold:FuzzParse ./internal/collect:FuzzCountDump \
	./internal/collect:FuzzCountProcNet .:FuzzCommandLine
fuzz: deps
	@$(MAKE) -s fuzz-run FUZZTIME=$(FUZZTIME)

fuzz-run:
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} ($(FUZZTIME))"; \
		out=$$($(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s $${t%:*} 2>&1) \
			|| { echo "$$out"; exit 1; }; echo "$$out" | tail -1; \
	done

# Debian packages the tests use: ss and ip, unshare, the monitoring cores, rpm,
# and wine with mingw-w64 to run the Windows build.
DEB_DEPS := iproute2 util-linux icinga2-bin icinga2-common nagios4-core rpm time make strace \
	wine wine64 gcc-mingw-w64-x86-64
deps:
	@missing=$$(for p in $(DEB_DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "not installed (the tests that need them fail or skip): $$missing"; fi

# Times the check against ss, gopsutil and a bare sock_diag program on 10k to
# 100k sockets in a private network namespace (root), and prints one table.
bench: deps
	NC_BENCH=1 $(GO) test -count=1 -run '^TestBench$$' -timeout 60m -v . | grep -v '^\s*\(=== RUN\|--- PASS\|PASS\|ok \)'

install: build
	install -D -m 0755 $(BINARY) $(DESTDIR)$(PLUGINDIR)/$(BINARY)

# Static binaries for every platform, and their SHA256SUMS.
dist:
	@mkdir -p $(DISTDIR)
	@for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "build $(DISTDIR)/$(BINARY)-$$os-$$arch$$ext"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' \
			-o $(DISTDIR)/$(BINARY)-$$os-$$arch$$ext . || exit 1; \
	done
	cd $(DISTDIR) && sha256sum $(BINARY)-* > SHA256SUMS

# .deb and .rpm packages for linux amd64 and arm64 (nfpm, a Go tool dependency).
packages: dist
	@for arch in amd64 arm64; do \
		mkdir -p .package && cp $(DISTDIR)/$(BINARY)-linux-$$arch .package/$(BINARY) || exit 1; \
		for fmt in deb rpm; do \
			VERSION='$(VERSION)' PKG_ARCH=$$arch $(GO) tool nfpm package -f contrib/nfpm.yaml -p $$fmt -t $(DISTDIR)/ || exit 1; \
		done; \
	done; rm -rf .package

version:
	@echo $(VERSION)

clean:
	rm -rf $(BINARY) $(DISTDIR) .package
