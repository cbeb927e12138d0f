#!/usr/bin/env bash
# pgbench transactions per second with and without tfguard, on one data
# directory: each round restarts the server without and with tfguard
# preloaded (alternating which goes first), warms it up for 2 s and runs
# the same pgbench; the median of the per-round ratios is printed for
# select-only (-S) and simple-update (-N).
#   bash bench/pgbench_tps.sh [seconds_per_run] [rounds] [clients]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

seconds=${1:-10}
rounds=${2:-3}
clients=${3:-4}
dir=/tmp/tfguard-bench-pgbench
port=${TFGUARD_BENCH_PORT:-5437}

ensure_build_dependencies
ensure_packages bc
build_and_install

start_cluster "$dir" "$port"

server() {
	run_unprivileged pg_ctl -D "$dir/data" -l "$dir/server.log" -w \
		-o "-c shared_preload_libraries=$1" restart >/dev/null 2>&1 ||
		run_unprivileged pg_ctl -D "$dir/data" -l "$dir/server.log" -w \
			-o "-c shared_preload_libraries=$1" start >/dev/null
}
tps() {
	run_unprivileged pgbench -n "$@" -T "$seconds" -c "$clients" -j "$clients" \
		-h "$dir" -p "$port" -U postgres postgres 2>/dev/null |
		awk '/^tps = / { print $3 }'
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

server ""
run_unprivileged pgbench -i -s 10 -q -h "$dir" -p "$port" -U postgres postgres >/dev/null 2>&1
server tfguard
run_unprivileged psql -X -q -h "$dir" -p "$port" -U postgres -d postgres -c "CREATE EXTENSION tfguard"

echo "pgbench TPS with and without tfguard ($clients clients, ${seconds}s runs, $rounds interleaved rounds, median of ratios)"
printf '%-16s %12s %12s %8s\n' workload without with ratio
for mode in select-only:-S simple-update:-N; do
	name=${mode%%:*}
	flag=${mode#*:}
	without=() with=() ratios=()
	for round in $(seq "$rounds"); do
		# alternate which server goes first, and warm each one up
		if [ $((round % 2)) -eq 1 ]; then order="none tfguard"; else order="tfguard none"; fi
		for lib in $order; do
			server "${lib/none/}"
			seconds=2 tps "$flag" >/dev/null
			if [ "$lib" = none ]; then w0=$(tps "$flag"); else w1=$(tps "$flag"); fi
		done
		without+=("$w0")
		with+=("$w1")
		ratios+=("$(echo "$w1 / $w0" | bc -l)")
	done
	printf '%-16s %12.0f %12.0f %8.3f\n' "$name" \
		"$(printf '%s\n' "${without[@]}" | median)" \
		"$(printf '%s\n' "${with[@]}" | median)" \
		"$(printf '%s\n' "${ratios[@]}" | median)"
done
run_unprivileged pg_ctl -D "$dir/data" -m fast -w stop >/dev/null
as_root rm -rf "$dir"
