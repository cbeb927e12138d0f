# tfguard: PGXS build.  "make && make install", honouring PG_CONFIG.

MODULE_big = tfguard
OBJS = \
	src/tfguard.o \
	src/operation.o \
	src/classify_object.o \
	src/classify_plan.o \
	src/classify_utility.o \
	src/classify_refresh.o \
	src/blast_radius.o \
	src/removal_window.o \
	src/standing_rule.o \
	src/rule_admin.o \
	src/refusal_pace.o \
	src/audit_retention.o \
	src/own_objects.o \
	src/dropped.o \
	src/relation.o \
	src/decide.o \
	src/identity.o \
	src/impact.o \
	src/session_unlock.o \
	src/unlock_store.o \
	src/admin_sql.o \
	src/audit.o \
	src/audit_writer.o \
	src/redact.o \
	src/shmem.o

EXTENSION = tfguard
DATA = tfguard--1.0.sql tfguard--1.1.sql tfguard--1.0--1.1.sql
PGFILEDESC = "tfguard - refuse irreversible operations unless a human unlocked them"

PG_CPPFLAGS = -I$(srcdir)/include
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter

# No JIT bitcode: tfguard's code is not worth inlining into queries, and
# skipping it keeps clang out of the build dependencies.
override with_llvm = no

# Tests, for anyone who installed tfguard: "make installcheck" runs the
# pg_regress suites against a temporary instance with tfguard preloaded
# (no running server can be assumed to preload it with a test home
# database), then the TAP tests; "make prove_installcheck" runs the TAP
# tests alone.  Run them as an OS user PostgreSQL accepts, not root.
# scripts/test.sh installs what they need and runs both.
REGRESS = setup drop_table truncate delete_all drop_database routes messages \
	not_guarded audit tokens blast_radius
REGRESS_OPTS = --temp-instance=tmp_check/regress --temp-config=$(srcdir)/test/tfguard.conf
TAP_TESTS = 1
# pg_regress makes its temporary instance's directory, not the parents
REGRESS_PREP = tmp_check_dir

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# the TAP tests' shared module, t/TfguardTest.pm
PG_PROVE_FLAGS += -I $(srcdir)/t

.PHONY: tmp_check_dir prove_installcheck
tmp_check_dir:
	$(MKDIR_P) tmp_check

# the TAP tests alone (installcheck runs them after pg_regress)
prove_installcheck:
	$(prove_installcheck)

# The command-line tool for the humans who decide (cli/), built and
# installed with the extension.
all: cli
.PHONY: cli install-cli clean-cli
cli:
	$(MAKE) -C cli PG_CONFIG=$(PG_CONFIG)
install: install-cli
install-cli: cli
	$(MAKE) -C cli PG_CONFIG=$(PG_CONFIG) install
clean: clean-cli
clean-cli:
	$(MAKE) -C cli PG_CONFIG=$(PG_CONFIG) clean

# header changes rebuild every object (PGXS tracks no header dependencies)
$(OBJS): $(wildcard $(srcdir)/include/*.h)
