#!/usr/bin/env bash
# What tfguard's blast-radius check costs a large qualified DELETE: 10% of
# a 1,000,000-row table (WHERE id % 10 = 0, every tenth row, spread over
# every block), with tfguard.mode = 'enforce' against 'off', on one
# server, rounds interleaved.  Each round builds the table afresh in its
# own transaction, vacuums it, and times the DELETE alone (psql's \timing).
# Two cases: statistics flushed (as in production: tfguard believes them
# and looks at five blocks), and statistics reset (tfguard counts the
# table's rows itself, stopping once it has seen enough).
#   bash bench/mass_delete.sh [rounds]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

rounds=${1:-5}
rows=1000000
dir=/tmp/tfguard-bench-mass
port=${TFGUARD_BENCH_PORT:-5439}

ensure_build_dependencies
ensure_packages bc
build_and_install

start_cluster "$dir" "$port" "shared_preload_libraries = 'tfguard'" "log_min_messages = error" \
	"autovacuum = off" "shared_buffers = '512MB'"
run_unprivileged psql -X -q -h "$dir" -p "$port" -U postgres -d postgres -c "CREATE EXTENSION tfguard"

set_mode() {
	sed -i '/^tfguard.mode/d' "$dir/data/postgresql.conf"
	echo "tfguard.mode = '$1'" >>"$dir/data/postgresql.conf"
	run_unprivileged pg_ctl -D "$dir/data" reload >/dev/null
	sleep 0.5
}
psql_run() {
	run_unprivileged psql -X -q -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
}
# milliseconds of one DELETE of 10%; $1: "flushed" or "reset" statistics
# (a new table each time, named by the other arguments: dropping the last
# one is what tfguard refuses)
delete_ms() {
	local table=bench_mass_$1_$2_$3
	psql_run -c "CREATE TABLE $table (id int PRIMARY KEY, payload text)" \
		-c "INSERT INTO $table SELECT g, repeat('x', 40) FROM generate_series(1, $rows) g" \
		-c "VACUUM ANALYZE $table" -c "SELECT pg_stat_force_next_flush()" >/dev/null
	[ "$1" = flushed ] || psql_run -c "SELECT pg_stat_reset_single_table_counters('$table'::regclass)" >/dev/null
	psql_run -c '\timing on' -c "DELETE FROM $table WHERE id % 10 = 0" |
		awk '/^Time:/ { print $2 }'
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "DELETE of 10% of a $rows-row table (median of $rounds interleaved rounds)"
for stats in flushed reset; do
	off=() on=()
	for round in $(seq "$rounds"); do
		if [ $((round % 2)) -eq 1 ]; then order="off enforce"; else order="enforce off"; fi
		for mode in $order; do
			set_mode "$mode"
			ms=$(delete_ms "$stats" "$round" "$mode")
			if [ "$mode" = off ]; then off+=("$ms"); else on+=("$ms"); fi
		done
	done
	o=$(printf '%s\n' "${off[@]}" | median)
	e=$(printf '%s\n' "${on[@]}" | median)
	printf 'statistics %-8s off %8.1f ms   enforce %8.1f ms   ratio %.3f\n' \
		"$stats" "$o" "$e" "$(echo "$e / $o" | bc -l)"
done
run_unprivileged pg_ctl -D "$dir/data" -m fast -w stop >/dev/null
as_root rm -rf "$dir"
