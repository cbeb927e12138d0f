#!/usr/bin/env bash
# What tfguard's consequence check costs a large qualified DELETE: 10% of a
# 1,000,000-row table (WHERE id % 10 = 0, every tenth row, spread over
# every block), in instructions counted by valgrind's callgrind
# (deterministic, unlike timings on a shared machine), with tfguard.mode
# 'enforce' against 'off'.  Each run is a single-user backend on a fresh
# copy of a data directory holding the table; the same run without the
# DELETE is subtracted.  Three cases of what tfguard knows of the table:
#   statistics   VACUUM ANALYZE ran: the cumulative statistics' live rows
#   reset        those were reset (or lost in a crash): pg_class's density
#   none         never vacuumed or analyzed, counters reset: it counts the
#                table's rows itself, stopping once it has seen enough
#   bash bench/mass_delete.sh [rows]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

rows=${1:-1000000}
dir=/tmp/tfguard-bench-mass

ensure_build_dependencies
ensure_packages bc
ensure_packages valgrind
build_and_install

as_root rm -rf "$dir"
as_root install -d -o "$(os_user)" "$dir"
single() {
	local data=$1 script=$2
	shift 2
	run_unprivileged postgres --single -D "$data" "$@" postgres <"$dir/$script" >/dev/null 2>&1
}
{
	echo "CREATE TABLE m (id int PRIMARY KEY, payload text);"
	echo "INSERT INTO m SELECT g, repeat('x', 40) FROM generate_series(1, $rows) g;"
} >"$dir/load.sql"
echo "VACUUM ANALYZE m;" >"$dir/analyze.sql"
echo "SELECT pg_stat_reset_single_table_counters('m'::regclass);" >"$dir/reset.sql"
{
	cat "$dir/reset.sql"
	echo "DELETE FROM m WHERE id % 10 = 0;"
} >"$dir/reset_delete.sql"
echo "DELETE FROM m WHERE id % 10 = 0;" >"$dir/delete.sql"
: >"$dir/empty.sql"
as_root chown "$(os_user)" "$dir"/*.sql
for template in analyzed raw; do
	run_unprivileged initdb -D "$dir/$template" -A trust -U postgres >/dev/null
	single "$dir/$template" load.sql
done
single "$dir/analyzed" analyze.sql

count() {
	local template=$1 script=$2
	shift 2
	as_root rm -rf "$dir/data"
	run_unprivileged cp -a "$dir/$template" "$dir/data"
	run_unprivileged valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" \
		postgres --single -D "$dir/data" -c shared_preload_libraries=tfguard "$@" postgres \
		<"$dir/$script" >/dev/null 2>&1
	awk '/^summary:/ { print $2 }' "$dir/callgrind.out"
}
# instructions of the DELETE alone: the script, less the script without it
delete_cost() {
	local template=$1 with=$2 without=$3 mode=$4
	echo "$(count "$template" "$with" -c tfguard.mode="$mode") - $(count "$template" "$without" -c tfguard.mode="$mode")" | bc
}

echo "DELETE of 10% of a $rows-row table, instructions (callgrind)"
printf '%-12s %16s %16s %8s\n' "knows" "off" "enforce" "ratio"
for case in statistics reset none; do
	case $case in
		statistics) args="analyzed delete.sql empty.sql" ;;
		reset) args="analyzed reset_delete.sql reset.sql" ;;
		none) args="raw reset_delete.sql reset.sql" ;;
	esac
	# shellcheck disable=SC2086
	off=$(delete_cost $args off)
	# shellcheck disable=SC2086
	on=$(delete_cost $args enforce)
	printf '%-12s %16s %16s %8.4f\n' "$case" "$off" "$on" "$(echo "$on / $off" | bc -l)"
done
as_root rm -rf "$dir"
