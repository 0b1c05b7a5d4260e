# nginx-webrtc-module
#
#   make            build build/ngx_http_webrtc_module.so against the
#                   distribution's nginx (Debian/Ubuntu nginx-dev)
#   make demo       install what is missing, build, run nginx in the
#                   foreground with conf-examples/demo.conf
#   make test       install what is missing, build, run every test
#   make unit       C unit tests only
#   make tools      build tools/webrtc-load, the WHIP/WHEP load generator
#   make bench      install what is missing, build, run the benchmark
#                   (bench/run; results in bench/results/)
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
              libprotocol-websocket-perl curl chromium

SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

UNIT_CFLAGS := -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter \
               -fsanitize=address,undefined -fno-omit-frame-pointer

.PHONY: all build deps deps-test demo test unit tools e2e-deps bench \
        baseline clean

all: build

build: $(MODULE)


# install Debian packages that are missing (apt-get, via sudo if not root)

deps:
	@$(TOP)/.ci/install-deps $(BUILD_PKGS)

deps-test:
	@$(TOP)/.ci/install-deps $(BUILD_PKGS) $(TEST_PKGS)
	@command -v node >/dev/null || $(TOP)/.ci/install-deps nodejs
	@command -v npm >/dev/null || $(TOP)/.ci/install-deps npm


# configure once against the packaged nginx sources (headers and auto/ only),
# then build only our module's .so target

$(BUILD)/Makefile: $(TOP)/config
	@mkdir -p $(BUILD)
	cd $(NGINX_SRC) && . ./conf_flags && ./configure \
	    --with-cc-opt="$$(dpkg-buildflags --get CFLAGS) -fPIC $$(dpkg-buildflags --get CPPFLAGS)" \
	    --with-ld-opt="$$(dpkg-buildflags --get LDFLAGS) -fPIC" \
	    "$${NGX_CONF_FLAGS[@]}" \
	    --with-stream=dynamic --with-stream_ssl_module \
	    --with-stream_ssl_preread_module --with-stream_realip_module \
	    --add-dynamic-module=$(TOP) --builddir=$(BUILD) \
	    > $(BUILD)/configure.log 2>&1 \
	    || { tail -20 $(BUILD)/configure.log; exit 1; }

$(MODULE): $(BUILD)/Makefile $(SOURCES)
	$(MAKE) -s --no-print-directory -f $(BUILD)/Makefile -C $(NGINX_SRC) \
	    $(MODULE)


# C unit tests of the pure codecs

UNIT_TESTS := $(BUILD)/unit/sdp_test $(BUILD)/unit/rtp_test \
              $(BUILD)/unit/ws_test

$(BUILD)/unit/sdp_test: $(TOP)/t/unit/sdp_test.c $(TOP)/src/ngx_webrtc_sdp.c \
                        $(TOP)/src/ngx_webrtc_sdp.h $(TOP)/t/unit/unit.h
	@mkdir -p $(BUILD)/unit
	$(CC) $(UNIT_CFLAGS) -I$(TOP)/src -I$(TOP)/t/unit -o $@ \
	    $(TOP)/t/unit/sdp_test.c $(TOP)/src/ngx_webrtc_sdp.c

$(BUILD)/unit/rtp_test: $(TOP)/t/unit/rtp_test.c $(TOP)/src/ngx_webrtc_rtp.c \
                        $(TOP)/src/ngx_webrtc_rtp.h $(TOP)/t/unit/unit.h
	@mkdir -p $(BUILD)/unit
	$(CC) $(UNIT_CFLAGS) -I$(TOP)/src -I$(TOP)/t/unit -o $@ \
	    $(TOP)/t/unit/rtp_test.c $(TOP)/src/ngx_webrtc_rtp.c

$(BUILD)/unit/ws_test: $(TOP)/t/unit/ws_test.c $(TOP)/src/ngx_webrtc_ws.c \
                       $(TOP)/src/ngx_webrtc_ws.h $(TOP)/t/unit/unit.h
	@mkdir -p $(BUILD)/unit
	$(CC) $(UNIT_CFLAGS) -I$(TOP)/src -I$(TOP)/t/unit -o $@ \
	    $(TOP)/t/unit/ws_test.c $(TOP)/src/ngx_webrtc_ws.c

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do \
	    echo "# $$t"; $$t $(TOP)/t/sdp; done


# the load generator (standalone C, the pure codecs of src/ compiled in)

TOOL        := $(TOP)/tools/webrtc-load
TOOL_SRCS   := $(wildcard $(TOP)/tools/*.c) $(TOP)/src/ngx_webrtc_sdp.c \
               $(TOP)/src/ngx_webrtc_rtp.c $(TOP)/src/ngx_webrtc_srtp.c
TOOL_DEPS   := $(TOOL_SRCS) $(wildcard $(TOP)/tools/*.h) \
               $(TOP)/src/ngx_webrtc_sdp.h $(TOP)/src/ngx_webrtc_rtp.h
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


e2e-deps:
	@cd $(TOP)/t/e2e && { [ -d node_modules/playwright-core ] \
	    || npm ci --no-audit --no-fund --loglevel=error; }


test: deps-test
	@$(MAKE) --no-print-directory build unit tools e2e-deps
	cd $(TOP) && TEST_NGINX_BINARY=$(NGINX) TEST_NGINX_MODULE=$(MODULE) \
	    prove -I t/lib -j2 t/


demo: deps
	@$(MAKE) --no-print-directory build
	@$(TOP)/scripts/demo $(BUILD) $(DEMO_HTTPS_PORT) $(DEMO_MEDIA_PORT) \
	    $(DEMO_ADDRESS)


clean:
	rm -rf $(BUILD)
	rm -f $(TOOL)
