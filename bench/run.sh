#!/usr/bin/env bash
# All of tfguard's benchmarks, one after the other (about 13 minutes on
# 2 cores).  Prints ratios measured side by side in one run; never fails on
# timing.  Results and how to read them: BENCHMARKS.md.
#   bash bench/run.sh
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
uname -srm
nproc | sed 's/^/cores: /'
free -g | awk '/^Mem:/ { print "memory: " $2 " GiB" }'
for bench in instructions.sh pgbench_tps.sh audit_refusals.sh allowed_drop.sh mass_delete.sh; do
	echo
	echo "== bench/$bench"
	bash "$here/$bench" || echo "bench/$bench could not run (exit $?)"
done
