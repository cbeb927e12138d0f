# tfguard: PGXS build.  "make && make install", honouring PG_CONFIG.

MODULE_big = tfguard
OBJS = \
	src/tfguard.o \
	src/operation.o \
	src/classify_object.o \
	src/classify_plan.o \
	src/classify_utility.o \
	src/dropped.o \
	src/relation.o \
	src/decide.o \
	src/identity.o \
	src/statement_hash.o \
	src/impact.o \
	src/session_unlock.o \
	src/unlock_store.o \
	src/admin_sql.o \
	src/audit.o \
	src/audit_writer.o \
	src/redact.o \
	src/shmem.o

EXTENSION = tfguard
DATA = tfguard--1.0.sql
PGFILEDESC = "tfguard - refuse irreversible operations unless a human unlocked them"

PG_CPPFLAGS = -I$(srcdir)/include
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter

# No JIT bitcode: tfguard's code is not worth inlining into queries, and
# skipping it keeps clang out of the build dependencies.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

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
