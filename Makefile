# wadesk — GNU Makefile.  `make` builds build/wadesk; `make run` starts the local
# stack; `make test` starts a private stack and runs every suite.
#
# Toggles: SAN=1 (address+undefined sanitizers), NOOPT=1 (-O0), CC=...

CC       ?= cc
BUILD    ?= build
PKGS      = json-c libpq libsodium
# libcurl: headers only.  lib/http.c loads libcurl.so.4 at run time, so the
# FastCGI workers do not map it and the ~25 libraries it depends on.
PKGS_HDR  = libcurl
CFLAGS_W  = -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wmissing-declarations -Wold-style-definition \
            -Wpointer-arith -Wcast-qual -Wwrite-strings -Wformat=2 -Wundef \
            -Wsign-compare -Wtype-limits -Wvla -fno-common
CFLAGS   ?= -O2 -g
# lib/ is compiled with -Ilib alone, so that it cannot include app/ headers;
# app/ and its unit tests add -Iapp (APP_INC).
CFLAGS   += -std=c11 -D_GNU_SOURCE $(CFLAGS_W) -fstack-protector-strong \
            -Ilib
APP_INC   = -Iapp
# Full RELRO: the GOT is resolved at start and then made read-only.
LDFLAGS  += -Wl,-z,relro -Wl,-z,now
ifeq ($(NOOPT),1)
CFLAGS   += -O0
else
CFLAGS   += -D_FORTIFY_SOURCE=2
endif
ifeq ($(SAN),1)
CFLAGS   += -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=address,undefined
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(PKGS_HDR) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS   += $(PKG_CFLAGS)
LIBS      = -lfcgi $(PKG_LIBS)

LIB_SRC   = lib/mem.c lib/clock.c lib/buf.c lib/arena.c lib/log.c lib/cfg.c \
            lib/valid.c lib/utf8.c lib/jsonb.c lib/html.c lib/crypto.c \
            lib/query.c lib/db.c lib/req.c lib/http.c lib/multipart.c
APP_SRC   = app/main.c app/app.c app/child.c app/indexer.c app/settings.c app/serve.c app/routes.c app/stmts.c \
            app/auth.c app/model_message.c app/api_messages.c app/webhook.c \
            app/model_contact.c app/api_contacts.c app/model_template.c \
            app/model_send.c app/api_templates.c app/template_sync.c \
            app/wa_errors.c app/page_compose.c \
            app/ops.c app/migrate.c app/cli.c app/dispatch.c app/provider.c app/metrics.c \
            app/cloudapi.c app/job.c app/admin.c app/page_login.c \
            app/events.c app/api_endpoints.c app/api_numbers.c app/page_endpoints.c \
            app/page_dashboard.c \
            app/page_messages.c app/page_conversations.c \
            app/model_media.c app/api_media.c app/media_fetch.c app/media_sim.c \
            $(BUILD)/migrations.c $(BUILD)/openapi.c
UNIT_TESTS = valid jsonb crypto html cfg query buf db utf8 jsonb_scrub http \
            multipart
# Unit tests of app/ functions: linked with every app object but main.o.
APP_UNIT_TESTS = routes dispatch cloudapi template events media

LIB_OBJ   = $(LIB_SRC:%.c=$(BUILD)/%.o)
APP_OBJ   = $(patsubst %.c,$(BUILD)/%.o,$(patsubst $(BUILD)/%,%,$(APP_SRC)))
UNIT_BIN  = $(UNIT_TESTS:%=$(BUILD)/tests/test_%) \
            $(APP_UNIT_TESTS:%=$(BUILD)/tests/test_%)
APP_LINK_OBJ = $(filter-out $(BUILD)/app/main.o,$(APP_OBJ))

PY        = /usr/bin/python3

.PHONY: all deps run test failover unit units valgrind valgrind-worker check-all san \
        sanitize bench clean
all: $(BUILD)/wadesk

$(BUILD)/wadesk: $(APP_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/migrations.c: app/gen_migrations.sh $(sort $(wildcard sql/*.sql))
	@mkdir -p $(dir $@)
	sh app/gen_migrations.sh $(sort $(wildcard sql/*.sql)) > $@.tmp && mv $@.tmp $@

$(BUILD)/openapi.c: app/gen_embed.sh app/openapi.yaml
	@mkdir -p $(dir $@)
	sh app/gen_embed.sh openapi_yaml app/openapi.yaml > $@.tmp && mv $@.tmp $@

$(BUILD)/openapi.o: $(BUILD)/openapi.c
	$(CC) $(CFLAGS) $(APP_INC) -MMD -MP -c -o $@ $<

# A migration is one string literal, longer than C99 promises to support
# (4095 bytes); gcc and clang take any length.
$(BUILD)/migrations.o: $(BUILD)/migrations.c
	$(CC) $(CFLAGS) $(APP_INC) -Wno-overlength-strings -MMD -MP -c -o $@ $<

$(BUILD)/app/%.o: app/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(APP_INC) -MMD -MP -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB_OBJ) $(LDFLAGS) $(LIBS) -lcmocka

$(APP_UNIT_TESTS:%=$(BUILD)/tests/test_%): $(BUILD)/tests/test_%: \
    tests/unit/test_%.c $(APP_LINK_OBJ) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(APP_INC) -o $@ $< $(APP_LINK_OBJ) $(LIB_OBJ) \
	    $(LDFLAGS) $(LIBS) -lcmocka

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Installs the Debian packages that are missing (a no-op when all are present).
# run and test install first, then build in a sub-make, because the flags
# above come from pkg-config, which may only just have been installed.
deps:
	@sh tests/deps.sh

unit: $(UNIT_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)

valgrind: $(UNIT_BIN)
	@sh tests/run-unit.sh --valgrind $(UNIT_BIN)

san:
	$(MAKE) BUILD=build-san SAN=1 all

units: $(UNIT_BIN)

# The worker pool under valgrind while the API suites run (slow).
valgrind-worker: all
	@sh tests/valgrind-worker.sh

# Everything, including the slow memory checks.
check-all: test valgrind valgrind-worker sanitize

# Unit and integration suites against the ASan+UBSan build (build-san).
sanitize:
	@sh tests/deps.sh
	@$(MAKE) --no-print-directory BUILD=build-san SAN=1 all units
	@sh tests/sanitize.sh

# The local stack in the foreground; Ctrl-C stops it.  RUN_VAR: its
# folder of settings, logs and PID files (default var).
RUN_VAR ?= var
run:
	@sh tests/deps.sh
	@$(MAKE) --no-print-directory all
	@sh nginx/stack.sh run $(RUN_VAR)

# A private stack on its own ports and var/test, then every suite.
test:
	@sh tests/deps.sh
	@$(MAKE) --no-print-directory all $(UNIT_BIN)
	@sh tests/run-all.sh

# The failover suite alone (make test runs it too): a primary and a
# synchronous standby, the primary killed under load (tests/failover).
failover:
	@sh tests/deps.sh
	@$(MAKE) --no-print-directory all
	@$(PY) -m pytest tests/failover -q -p no:cacheprovider

# The benchmark: the stack against this machine's own limits (tests/bench).
bench:
	@sh tests/deps.sh
	@BENCH_PKGS=1 sh tests/deps.sh
	@$(MAKE) --no-print-directory all
	@$(PY) tests/bench/bench.py

clean:
	rm -rf $(BUILD) build-san

# libFuzzer targets (tests/fuzz/run.sh): clang with -fsanitize=fuzzer,address,
# undefined, one target after another for FUZZ_SECONDS each; seeds in
# tests/fuzz/corpus/, findings copied to tests/fuzz/crashes/.  Needs clang
# and libclang-rt-14-dev.
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz: $(BUILD)/migrations.c $(BUILD)/openapi.c
	@FUZZ_PKGS=1 sh tests/deps.sh
	@BUILD=$(BUILD) sh tests/fuzz/run.sh $(FUZZ_SECONDS)
