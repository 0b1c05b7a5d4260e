# nginx-webrtc-module
#
#   make            build build/ngx_http_webrtc_module.so against the
#                   distribution's nginx (Debian/Ubuntu nginx-dev)
#   make demo       install what is missing, build, run nginx in the
#                   foreground with conf-examples/demo.conf
#   make test       install what is missing, build, run every test: the
#                   C unit tests, the fuzz targets over their corpus, the
#                   t/ suite, the Debian package (t/deb/: make deb
#                   installed for real, then purged), then the t/ suite
#                   again with the module built with AddressSanitizer and
#                   UBSan
#   make unit       C unit tests only
#   make deb        build/libnginx-mod-http-webrtc_VERSION_ARCH.deb for the
#                   distribution's nginx, built as Debian builds its nginx
#                   modules (debian/)
#   make asan       the module with ASan and UBSan, in build/asan/
#   make fuzz-check the libFuzzer targets over their seeds, a fixed number
#                   of inputs each (part of make test)
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS [60]
#   make tools      build tools/webrtc-load, the WHIP/WHEP load generator
#   make bench      install what is missing, build, run the benchmark
#                   (bench/run; results in bench/results/)
#   make soak       build, run bench/soak: a publisher and SOAK_VIEWERS
#                   [200] viewers with churn for SOAK_SECONDS [1800]; not
#                   part of make test (results in bench/results/soak-*)
#   make clean

SHELL      := /bin/bash
TOP        := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD      ?= $(TOP)/build
NGINX      ?= /usr/sbin/nginx
NGINX_SRC  ?= /usr/share/nginx/src
DEMO_HTTPS_PORT ?= 8443
DEMO_MEDIA_PORT ?= 10000
DEMO_ADDRESS    ?= 127.0.0.1

MODULE     := $(BUILD)/ngx_http_webrtc_module.so
SOURCES    := $(wildcard $(TOP)/src/*.c $(TOP)/src/*.h) $(TOP)/config

# packages: what is needed to build, and additionally to test
BUILD_PKGS := gcc make openssl nginx nginx-dev libnginx-mod-stream \
              libssl-dev libsrtp2-dev libnice-dev
TEST_PKGS  := perl libio-socket-ssl-perl libwww-perl libjson-pp-perl \
              libprotocol-websocket-perl curl chromium firefox-esr sqlite3 coturn \
              nftables iproute2 python3-prometheus-client \
              clang libclang-rt-14-dev \
              python3-gst-1.0 gir1.2-gst-plugins-bad-1.0 gir1.2-nice-0.1 \
              gstreamer1.0-plugins-bad gstreamer1.0-nice \
              gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly \
              gstreamer1.0-libav

# the tests that bound the media gap a reload or a kill makes: run alone,
# after the others, as a second test beside them (2 cores) delays the new
# workers' start by as much as the gap they measure; and t/351 and t/410,
# whose network namespace adds an interface to the host (Chromium makes a
# TURN allocation on each: t/350 sized coturn's relay ports for several);
# and t/406, Firefox, Chromium and webrtcbin at once: beside it the slow
# TCP viewers of t/415 lost their sessions once (2026-12-08)
TESTS_SEQ  := t/310-e2e-reload.t t/312-e2e-firefox-reload.t t/313-gst-reload.t \
              t/315-e2e-ws-reload.t t/325-e2e-kill.t t/351-e2e-turn-netns.t \
              t/406-e2e-ice-tcp-stacks.t t/410-e2e-ice-tcp-netns.t
TESTS_PAR  := $(filter-out $(TESTS_SEQ),$(sort $(wildcard t/*.t)))

# and to build the Debian package (make deb) and check it
DEB_PKGS   := debhelper dpkg-dev lintian

SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

UNIT_CFLAGS := -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter \
               -fsanitize=address,undefined -fno-omit-frame-pointer

.PHONY: all build deps deps-test demo test unit tools e2e-deps bench \
        baseline asan fuzz fuzz-check clean soak deb

all: build

build: $(MODULE)


# install Debian packages that are missing (apt-get, via sudo if not root)

deps:
	@$(TOP)/.ci/install-deps $(BUILD_PKGS)

deps-test:
	@$(TOP)/.ci/install-deps $(BUILD_PKGS) $(TEST_PKGS) $(DEB_PKGS)
	@command -v node >/dev/null || $(TOP)/.ci/install-deps nodejs
	@command -v npm >/dev/null || $(TOP)/.ci/install-deps npm


# configure once against the packaged nginx sources (headers and auto/ only),
# then build only our module's .so target

$(BUILD)/Makefile: $(TOP)/config
	@mkdir -p $(BUILD)
	cd $(NGINX_SRC) && . ./conf_flags && ./configure \
	    --with-cc-opt="$$(dpkg-buildflags --get CFLAGS) -fPIC \
	        $$(dpkg-buildflags --get CPPFLAGS) $(MODULE_CFLAGS)" \
	    --with-ld-opt="$$(dpkg-buildflags --get LDFLAGS) -fPIC \
	        $(MODULE_LDFLAGS)" \
	    "$${NGX_CONF_FLAGS[@]}" \
	    --with-stream=dynamic --with-stream_ssl_module \
	    --with-stream_ssl_preread_module --with-stream_realip_module \
	    --add-dynamic-module=$(TOP) --builddir=$(BUILD) \
	    > $(BUILD)/configure.log 2>&1 \
	    || { tail -20 $(BUILD)/configure.log; exit 1; }

$(MODULE): $(BUILD)/Makefile $(SOURCES)
	$(MAKE) -s --no-print-directory -f $(BUILD)/Makefile -C $(NGINX_SRC) \
	    $(MODULE)


# the pure codecs made of more than one file: the SDP codec, and the
# WebSocket framing with the JSON of the signaling messages

SDP_SRCS   := $(TOP)/src/ngx_webrtc_sdp.c $(TOP)/src/ngx_webrtc_sdp_attr.c \
              $(TOP)/src/ngx_webrtc_sdp_codec.c \
              $(TOP)/src/ngx_webrtc_sdp_negotiate.c \
              $(TOP)/src/ngx_webrtc_sdp_answer.c
SDP_DEPS   := $(TOP)/src/ngx_webrtc_sdp.h $(TOP)/src/ngx_webrtc_sdp_private.h \
              $(TOP)/src/ngx_webrtc_track.h
WS_SRCS    := $(TOP)/src/ngx_webrtc_ws.c $(TOP)/src/ngx_webrtc_json.c
WS_DEPS    := $(TOP)/src/ngx_webrtc_ws.h $(TOP)/src/ngx_webrtc_json.h


# C unit tests of the pure codecs

UNIT_TESTS := $(BUILD)/unit/sdp_test $(BUILD)/unit/rtp_test \
              $(BUILD)/unit/ws_test $(BUILD)/unit/srtp_test \
              $(BUILD)/unit/resume_test

$(BUILD)/unit/sdp_test: $(TOP)/t/unit/sdp_test.c $(SDP_SRCS) $(SDP_DEPS) \
                        $(TOP)/t/unit/unit.h $(TOP)/t/unit/sdp_answer.h
	@mkdir -p $(BUILD)/unit
	$(CC) $(UNIT_CFLAGS) -I$(TOP)/src -I$(TOP)/t/unit -o $@ \
	    $(TOP)/t/unit/sdp_test.c $(SDP_SRCS)

$(BUILD)/unit/rtp_test: $(TOP)/t/unit/rtp_test.c $(TOP)/src/ngx_webrtc_rtp.c \
                        $(TOP)/src/ngx_webrtc_rtp.h $(TOP)/t/unit/unit.h
	@mkdir -p $(BUILD)/unit
	$(CC) $(UNIT_CFLAGS) -I$(TOP)/src -I$(TOP)/t/unit -o $@ \
	    $(TOP)/t/unit/rtp_test.c $(TOP)/src/ngx_webrtc_rtp.c

$(BUILD)/unit/ws_test: $(TOP)/t/unit/ws_test.c $(WS_SRCS) $(WS_DEPS) \
                       $(TOP)/t/unit/unit.h
	@mkdir -p $(BUILD)/unit
	$(CC) $(UNIT_CFLAGS) -I$(TOP)/src -I$(TOP)/t/unit -o $@ \
	    $(TOP)/t/unit/ws_test.c $(WS_SRCS)

$(BUILD)/unit/srtp_test: $(TOP)/t/unit/srtp_test.c $(TOP)/src/ngx_webrtc_srtp.c \
                         $(TOP)/src/ngx_webrtc_srtp.h $(TOP)/src/ngx_webrtc_rtp.c \
                         $(TOP)/t/unit/unit.h
	@mkdir -p $(BUILD)/unit
	$(CC) $(UNIT_CFLAGS) -I$(TOP)/src -I$(TOP)/t/unit -o $@ \
	    $(TOP)/t/unit/srtp_test.c $(TOP)/src/ngx_webrtc_srtp.c \
	    $(TOP)/src/ngx_webrtc_rtp.c -lsrtp2 -lcrypto \
	    -Wl,--wrap=EVP_CIPHER_CTX_new,--wrap=EVP_MAC_CTX_new

$(BUILD)/unit/resume_test: $(TOP)/t/unit/resume_test.c \
                           $(TOP)/src/ngx_webrtc_resume.c \
                           $(TOP)/src/ngx_webrtc_resume.h \
                           $(TOP)/src/ngx_webrtc_srtp.c \
                           $(TOP)/src/ngx_webrtc_srtp.h $(TOP)/t/unit/unit.h
	@mkdir -p $(BUILD)/unit
	$(CC) $(UNIT_CFLAGS) -I$(TOP)/src -I$(TOP)/t/unit -o $@ \
	    $(TOP)/t/unit/resume_test.c $(TOP)/src/ngx_webrtc_resume.c \
	    $(TOP)/src/ngx_webrtc_srtp.c -lsrtp2 -lcrypto -pthread

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do \
	    echo "# $$t"; $$t $(TOP)/t/sdp; done


# the module with AddressSanitizer and UBSan, in its own build directory
# (MODULE_CFLAGS and MODULE_LDFLAGS are added to nginx's configure); the
# tests start nginx with their runtimes preloaded (TEST_NGINX_PRELOAD)

ASAN_BUILD   := $(BUILD)/asan
ASAN_MODULE  := $(ASAN_BUILD)/ngx_http_webrtc_module.so
SANITIZE     := -fsanitize=address,undefined -fno-omit-frame-pointer
ASAN_PRELOAD  = $(shell $(CC) -print-file-name=libasan.so) \
                $(shell $(CC) -print-file-name=libubsan.so)

asan:
	@$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) \
	    MODULE_CFLAGS="$(SANITIZE)" MODULE_LDFLAGS="$(SANITIZE)" build


# libFuzzer targets of the pure codecs (t/fuzz/NAME_fuzz.c and
# src/ngx_webrtc_NAME.c); seeds in t/fuzz/corpus/NAME (and t/sdp), tokens
# in t/fuzz/NAME.dict

FUZZ_NAMES  := sdp rtp ws
FUZZERS     := $(FUZZ_NAMES:%=$(BUILD)/fuzz/%_fuzz)
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_SECONDS ?= 60

# inputs for `make test`, each target a few seconds
FUZZ_RUNS_sdp ?= 50000
FUZZ_RUNS_rtp ?= 2000000
FUZZ_RUNS_ws  ?= 500000

$(BUILD)/fuzz/%_fuzz: $(TOP)/t/fuzz/%_fuzz.c $(TOP)/t/fuzz/fuzz.h \
                      $(TOP)/src/ngx_webrtc_%.c $(TOP)/src/ngx_webrtc_%.h \
                      $(TOP)/t/unit/sdp_answer.h
	@mkdir -p $(BUILD)/fuzz
	clang $(FUZZ_CFLAGS) -I$(TOP)/src -I$(TOP)/t/fuzz -I$(TOP)/t/unit \
	    -o $@ $< $(filter $(TOP)/src/%.c,$^)

# the other files of the codecs made of more than one
$(BUILD)/fuzz/sdp_fuzz: $(SDP_SRCS) $(SDP_DEPS)
$(BUILD)/fuzz/ws_fuzz: $(WS_SRCS) $(WS_DEPS)

# runs target $(1) with libFuzzer's options $(2), what it finds going to
# the directory $(3), then to its seeds and dictionary

fuzz_seeds = $(TOP)/t/fuzz/corpus/$(1) $(if $(filter sdp,$(1)),$(TOP)/t/sdp)

define fuzz_run
	@mkdir -p $(3)
	@echo "# $(1)_fuzz: $$(find $(call fuzz_seeds,$(1)) -type f \
	    | wc -l) seeds, $(2)"
	@$(BUILD)/fuzz/$(1)_fuzz $(2) -max_len=16384 \
	    $(addprefix -dict=,$(wildcard $(TOP)/t/fuzz/$(1).dict)) \
	    -artifact_prefix=$(BUILD)/fuzz/$(1)- $(3) $(call fuzz_seeds,$(1)) \
	    > $(BUILD)/fuzz/$(1).log 2>&1 \
	    || { tail -40 $(BUILD)/fuzz/$(1).log; exit 1; }

endef

# the seeds, then FUZZ_RUNS_NAME inputs from a fixed seed: bounded by count

fuzz-check: $(FUZZERS)
	@rm -rf $(BUILD)/fuzz/check-*
	$(foreach n,$(FUZZ_NAMES),$(call fuzz_run,$(n),-runs=$(FUZZ_RUNS_$(n)) \
	    -seed=1,$(BUILD)/fuzz/check-$(n)))

fuzz: $(FUZZERS)
	$(foreach n,$(FUZZ_NAMES),$(call fuzz_run,$(n),\
	    -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1,\
	    $(BUILD)/fuzz/corpus-$(n)))
	@grep -E '^stat::(number_of_executed_units|new_units_added)' \
	    $(FUZZ_NAMES:%=$(BUILD)/fuzz/%.log)


# the load generator (standalone C, the pure codecs of src/ compiled in)

TOOL        := $(TOP)/tools/webrtc-load
TOOL_SRCS   := $(wildcard $(TOP)/tools/*.c) $(SDP_SRCS) \
               $(TOP)/src/ngx_webrtc_rtp.c $(TOP)/src/ngx_webrtc_srtp.c
TOOL_DEPS   := $(TOOL_SRCS) $(wildcard $(TOP)/tools/*.h) \
               $(SDP_DEPS) $(TOP)/src/ngx_webrtc_rtp.h \
               $(TOP)/src/ngx_webrtc_srtp.h
TOOL_CFLAGS := -O2 -Wall -Wextra -Werror -D_GNU_SOURCE
TOOL_LIBS   := -lssl -lcrypto -lsrtp2 -lnice

$(TOOL): $(TOOL_DEPS)
	$(CC) $(TOOL_CFLAGS) -I$(TOP)/src -o $@ $(TOOL_SRCS) $(TOOL_LIBS)

tools: $(TOOL)


# the benchmark: the module against Janus and a raw UDP forwarder

BASELINE   := $(BUILD)/bench/udp-baseline

$(BASELINE): $(TOP)/bench/udp_baseline.c
	@mkdir -p $(BUILD)/bench
	$(CC) -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $< -lm

baseline: $(BASELINE)

bench: deps-test
	@$(MAKE) --no-print-directory build tools baseline
	cd $(TOP) && BUILD=$(BUILD) NGINX=$(NGINX) MODULE=$(MODULE) bench/run


# the soak: bounded by timeout(1) beyond its own bounds
SOAK_SECONDS ?= 1800

soak: deps
	@$(MAKE) --no-print-directory build tools
	cd $(TOP) && BUILD=$(BUILD) NGINX=$(NGINX) MODULE=$(MODULE) \
	    SOAK_SECONDS=$(SOAK_SECONDS) \
	    timeout -k 10 $$(( $(SOAK_SECONDS) + 600 )) bench/soak


# the Debian package libnginx-mod-http-webrtc (debian/): dpkg-buildpackage
# in a copy of the sources under $(BUILD)/deb, as Debian builds its nginx
# modules (dh --with nginx); the version is the VERSION file's if there is
# one, else 0.<the commit's time, UTC>+g<its hash>

ifndef DEB_VERSION
DEB_VERSION := $(shell cat $(TOP)/VERSION 2>/dev/null || cd $(TOP) \
    && TZ=UTC git log -1 --date=format-local:%Y%m%d.%H%M%S \
        --format=0.%cd+g%h 2>/dev/null)
endif
DEB_ARCH    := $(shell dpkg --print-architecture 2>/dev/null)
DEB_NAME    := libnginx-mod-http-webrtc_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB         := $(BUILD)/$(DEB_NAME)
DEB_TREE    := $(BUILD)/deb/nginx-webrtc-module-$(DEB_VERSION)

deb:
	@$(TOP)/.ci/install-deps $(BUILD_PKGS) $(DEB_PKGS)
	@$(MAKE) --no-print-directory $(DEB)

$(DEB): $(SOURCES) $(wildcard $(TOP)/html/* $(TOP)/debian/* \
                              $(TOP)/debian/*/*)
	@test -n "$(DEB_VERSION)" || { echo "no git and no VERSION file"; exit 1; }
	rm -rf $(BUILD)/deb
	mkdir -p $(DEB_TREE)
	cp -r $(TOP)/config $(TOP)/src $(TOP)/html $(TOP)/debian \
	    $(TOP)/README.md $(DEB_TREE)/
	{ printf '%s (%s) unstable; urgency=medium\n\n  * %s\n\n -- %s  %s\n\n' \
	    nginx-webrtc-module $(DEB_VERSION) \
	    "Built from $$(cd $(TOP) && git log -1 --format=%H 2>/dev/null \
	        || echo 'a tree without git')." \
	    "$$(sed -n 's/^Maintainer: //p' $(TOP)/debian/control)" \
	    "$$(LC_ALL=C date -u -R -d @$$(cd $(TOP) \
	        && git log -1 --format=%ct 2>/dev/null || date +%s))"; \
	    cat $(TOP)/debian/changelog; } > $(DEB_TREE)/debian/changelog
	cd $(DEB_TREE) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    dpkg-buildpackage -b -us -uc > $(BUILD)/deb/build.log 2>&1 \
	    || { tail -40 $(BUILD)/deb/build.log; exit 1; }
	rm -f $(BUILD)/libnginx-mod-http-webrtc_*.deb
	cp $(BUILD)/deb/$(DEB_NAME) $@
	@echo "# $@"


e2e-deps:
	@cd $(TOP)/t/e2e && { { [ -d node_modules/playwright-core ] \
	    && [ -d node_modules/puppeteer-core ]; } \
	    || PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund \
	        --loglevel=error; }


test: deps-test
	@$(MAKE) --no-print-directory build asan unit fuzz-check tools e2e-deps \
	    deb DEB_VERSION=$(DEB_VERSION)
	cd $(TOP) && TEST_NGINX_BINARY=$(NGINX) TEST_NGINX_MODULE=$(MODULE) \
	    prove -I t/lib -j2 $(TESTS_PAR)
	@echo "# the media-gap tests of reloads and kills, alone on the host"
	cd $(TOP) && TEST_NGINX_BINARY=$(NGINX) TEST_NGINX_MODULE=$(MODULE) \
	    prove -I t/lib $(TESTS_SEQ)
	@echo "# the Debian package, on its own: installed, serving WHIP, purged"
	cd $(TOP) && TEST_NGINX_DEB=$(DEB) prove -I t/lib t/deb/
	@echo "# t/ again: the module with AddressSanitizer and UBSan"
	cd $(TOP) && TEST_NGINX_BINARY=$(NGINX) TEST_NGINX_MODULE=$(ASAN_MODULE) \
	    TEST_NGINX_PRELOAD="$(ASAN_PRELOAD)" prove -I t/lib -j2 $(TESTS_PAR)
	cd $(TOP) && TEST_NGINX_BINARY=$(NGINX) TEST_NGINX_MODULE=$(ASAN_MODULE) \
	    TEST_NGINX_PRELOAD="$(ASAN_PRELOAD)" prove -I t/lib $(TESTS_SEQ)


demo: deps
	@$(MAKE) --no-print-directory build
	@$(TOP)/scripts/demo $(BUILD) $(DEMO_HTTPS_PORT) $(DEMO_MEDIA_PORT) \
	    $(DEMO_ADDRESS)


clean:
	rm -rf $(BUILD)
	rm -f $(TOOL)
