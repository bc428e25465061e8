# network-connections: a Nagios/Icinga check plugin that counts sockets.
BINARY    := network-connections
# The version: the tag vX.Y.Z on HEAD gives X.Y.Z. Between releases a
# snapshot: VERSION's first line ~git<commit date>.<commits>.<commit> (.dirty
# with uncommitted changes), which dpkg and rpm sort before that release and
# by build order. A tarball from git archive has no git: VERSION's second line
# holds its commit and date (export-subst).
BASE_VERSION := $(shell sed -n 1p VERSION)
VERSION   ?= $(shell v=$$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null) && echo $$v | cut -c2- || \
	{ set -- $$(git log -1 --format='%cd %h' --date=format:%Y%m%d --abbrev=12 2>/dev/null) && [ -n "$$2" ] && \
	  echo $(BASE_VERSION)~git$$1.$$(git rev-list --count HEAD).$$2$$(git diff --quiet HEAD 2>/dev/null || echo .dirty); } || \
	{ set -- $$(sed -n '2s/^\([0-9a-f]\{12\}\)[0-9a-f]* \([0-9]*\)-\([0-9]*\)-\([0-9]*\)$$/\2\3\4 \1/p' VERSION) && [ -n "$$2" ] && \
	  echo $(BASE_VERSION)~git$$1.$$2; } || \
	echo $(BASE_VERSION)~unknown)
# The packages' timestamps: the commit's (reproducible packages).
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH
# LDFLAGS is yours to set (make LDFLAGS= keeps the debug info); the version
# stamp is added in any case.
LDFLAGS   ?= -s -w
GOLDFLAGS  = $(LDFLAGS) -X main.version=$(VERSION)
PREFIX    ?= /usr
PLUGINDIR ?= $(PREFIX)/lib/nagios/plugins
DISTDIR   ?= dist
GO        ?= go
# Who the packages name as their maintainer (and the changelog as packager):
# the project, at its homepage. Whoever builds and signs their own packages
# sets theirs: make packages MAINTAINER='Name <mail>'.
MAINTAINER ?= network-connections developers <network-connections@users.noreply.github.com>
# Only the platforms the tests run (Windows under wine); see the README.
PLATFORMS := linux/amd64 linux/arm64 windows/amd64

.PHONY: build run test fuzz fuzz-run deps deps-list bench wine-dll install dist packages version clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(GOLDFLAGS)' -o $(BINARY) .

# Build, then check this host.
run: build
	./$(BINARY); echo "exit code: $$?"

# The whole suite: the plugin's own tests (what a packager runs: go test
# ./..., no root, no tools, no network), then the integration module, which
# drives the built binary in private network namespaces, the real monitoring
# cores, wine and the packages. Tests that need root or a tool skip and say
# which; as root, deps installs the tools first (NODEPS=1: it does not, and
# what is missing skips). The tests' output goes through
# integration/testsummary: a line per package, a failed test's output in
# full, and at the end every test that skipped and why.
test: $(if $(NODEPS),,deps)
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	cd integration && $(GO) vet ./...
	@$(MAKE) -s fuzz-run FUZZTIME=50000x
	@tmp=$$(mktemp -d) && (cd integration && $(GO) build -o $$tmp/testsummary ./testsummary) || exit 1; \
	{ $(GO) test -count=1 -json ./... || echo failed >$$tmp/failed; \
	  cd integration && $(GO) test -count=1 -json -timeout 20m ./... || echo failed >$$tmp/failed; } | $$tmp/testsummary; \
	rc=$$?; [ ! -e $$tmp/failed ] || rc=1; rm -rf $$tmp; exit $$rc

# Every fuzz target, longer. Inputs that fail land in testdata/fuzz/ of the
# package, where go test replays them as seeds. make test gives each target a
# count of runs, not a time: Go 1.26's fuzz coordinator can fail a duration
# run with a bare "context deadline exceeded" as the time runs out
# (go.dev/issue/75804, fixed in Go 1.27), which is no finding. A duration run
# that ends that way, with no failing input written, is said so and passes.
# 2 minutes per target: make fuzz takes about 8 minutes.
FUZZTIME ?= 2m
FUZZ_TARGETS := ./internal/threshold:FuzzParse ./internal/collect:FuzzCountDump \
	./internal/collect:FuzzCountProcNet .:FuzzCommandLine ./internal/saturation:FuzzSourcesTally
fuzz: deps
	@$(MAKE) -s fuzz-run FUZZTIME=$(FUZZTIME)

fuzz-run:
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} ($(FUZZTIME))"; \
		out=$$($(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s $${t%:*} 2>&1) \
			|| { echo "$$out" | grep -q 'Failing input written\|panic:\|_test.go:' \
				|| ! echo "$$out" | grep -q '^    context deadline exceeded$$' \
				|| { echo "$$out" | tail -4; echo "(Go's fuzz deadline race, go.dev/issue/75804: no input failed)"; continue; }; \
			     echo "$$out"; exit 1; }; echo "$$out" | tail -1; \
	done

# The container runtimes that --netns all is tested next to (integration's
# TestRuntime*): each test starts its own daemons with their own state;
# crictl comes from the Go module proxy (tools/crictl).
RUNTIME_DEPS := docker.io podman containerd runc uidmap slirp4netns busybox-static catatonit conmon \
	containernetworking-plugins
# Debian packages the tests use: ss and ip, unshare, iptables (conntrack), the
# monitoring cores, rpm,
# wine with mingw-w64 to run the Windows build, NRPE, lintian and rpmlint, and
# Icinga Director with MariaDB for the basket, carbon, graphite-web and
# InfluxDB for the graphs. The README lists the same (a test compares it with
# make deps-list). Installed as root where apt-get can, named first, apt's
# output shown when it fails; elsewhere (not root, offline) it says what is
# missing and the tests that need it skip. DEPS_STRICT=1 (CI) makes a failed
# install an error.
DEB_DEPS := iproute2 util-linux iptables conntrack libcap2-bin icinga2-bin icinga2-common nagios4-core rpm time make strace \
	wine wine64 gcc-mingw-w64-x86-64 nagios-nrpe-server nagios-nrpe-plugin lintian rpmlint \
	mariadb-server icingaweb2 icingaweb2-module-director icingacli php-mysql \
	graphite-carbon graphite-web influxdb $(RUNTIME_DEPS)
deps:
	@missing=$$(for p in $(DEB_DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "make deps: installing with apt-get (make test NODEPS=1 installs nothing):" $$missing; \
		log=$$(mktemp); \
		if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; } >$$log 2>&1; \
		then rm -f $$log; exit 0; fi; \
		echo "make deps: apt-get failed; its last lines:"; tail -n 20 $$log; rm -f $$log; \
	fi; \
	echo "not installed (the tests that need them skip):" $$missing; \
	[ -z "$(DEPS_STRICT)" ]

# The packages deps installs, on one line.
deps-list:
	@echo $(DEB_DEPS)

# Times the check against ss, gopsutil and a bare sock_diag program on 10k to
# 500k sockets in a private network namespace, and --netns all over 200
# namespaces (root), and prints the tables (doc/benchmarks.rst has a run).
bench: deps
	cd integration && NC_BENCH=1 $(GO) test -count=1 -run '^TestBench(Netns|RuntimeNames)?$$' -timeout 60m -v . | grep -v '^\s*\(=== RUN\|--- PASS\|PASS\|ok \)'

# The small bcryptprimitives.dll (ProcessPrng) that Go's Windows build needs
# to run under wine 8.0, which lacks it: copy it into the wine prefix's
# drive_c/windows/system32 (the wine test builds its own the same way).
wine-dll: $(DISTDIR)/bcryptprimitives.dll
$(DISTDIR)/bcryptprimitives.dll: testdata/wine/bcryptprimitives.c testdata/wine/bcryptprimitives.def
	@mkdir -p $(DISTDIR)
	x86_64-w64-mingw32-gcc -shared -O2 -s -nostartfiles -e DllMain -o $@ $^ -ladvapi32

install: build
	install -D -m 0755 $(BINARY) $(DESTDIR)$(PLUGINDIR)/$(BINARY)

# Static binaries for every platform, and their SHA256SUMS.
dist:
	@mkdir -p $(DISTDIR)
	@for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "build $(DISTDIR)/$(BINARY)-$$os-$$arch$$ext"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(GOLDFLAGS)' \
			-o $(DISTDIR)/$(BINARY)-$$os-$$arch$$ext . || exit 1; \
	done
	cd $(DISTDIR) && sha256sum $(BINARY)-* > SHA256SUMS

# .deb and .rpm packages for linux amd64 and arm64, with nfpm from the tools
# module (tools/go.mod), which keeps the release tools out of the plugin's.
packages: dist
	@mkdir -p .package && sed 's|$${MAINTAINER}|$(MAINTAINER)|' contrib/changelog.yml > .package/changelog.yml
	@for arch in amd64 arm64; do \
		cp $(DISTDIR)/$(BINARY)-linux-$$arch .package/$(BINARY) || exit 1; \
		for fmt in deb rpm; do \
			VERSION='$(VERSION)' PKG_ARCH=$$arch MAINTAINER='$(MAINTAINER)' $(GO) tool -modfile=tools/go.mod nfpm package -f contrib/nfpm.yaml -p $$fmt -t $(DISTDIR)/ || exit 1; \
		done; \
	done; rm -rf .package
	cd $(DISTDIR) && sha256sum $(BINARY)-* $(BINARY)_* > SHA256SUMS

version:
	@echo $(VERSION)

clean:
	rm -rf $(BINARY) $(DISTDIR) .package
