#!/usr/bin/env bash
# Latency tfguard adds to a guarded operation it lets through: DROP TABLE
# of a committed table, with tfguard.mode = 'warn' (the operation is
# recorded in the audit trail, then allowed) against tfguard.mode = 'off'
# (nothing looked at), on one server, rounds interleaved.  Until unlock
# tokens exist, "warn" is the path an allowed guarded operation takes:
# record durably, then run.  pgbench -r gives the DROP's own latency.
#   bash bench/allowed_drop.sh [seconds_per_run] [rounds]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

seconds=${1:-10}
rounds=${2:-3}
dir=/tmp/tfguard-bench-drop
port=${TFGUARD_BENCH_PORT:-5438}

ensure_build_dependencies
build_and_install

as_root rm -rf "$dir"
as_root install -d -o "$(os_user)" "$dir"
run_unprivileged initdb -D "$dir/data" -A trust -U postgres >/dev/null
run_unprivileged tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
shared_preload_libraries = 'tfguard'
port = $port
listen_addresses = ''
unix_socket_directories = '$dir'
log_min_messages = error
CONF
run_unprivileged pg_ctl -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
run_unprivileged psql -X -q -h "$dir" -p "$port" -U postgres -d postgres -c "CREATE EXTENSION tfguard"
printf 'CREATE TABLE bench_drop (id int);\nDROP TABLE bench_drop;\n' >"$dir/drop.sql"
as_root chown "$(os_user)" "$dir/drop.sql"

set_mode() {
	sed -i '/^tfguard.mode/d' "$dir/data/postgresql.conf"
	echo "tfguard.mode = '$1'" >>"$dir/data/postgresql.conf"
	run_unprivileged pg_ctl -D "$dir/data" reload >/dev/null
	sleep 0.5
}
# the DROP's average latency in ms
drop_latency() {
	PGOPTIONS='-c client_min_messages=error' run_unprivileged pgbench -n -r -T "$seconds" -c 1 \
		-f "$dir/drop.sql" -h "$dir" -p "$port" -U postgres postgres 2>/dev/null |
		awk '/DROP TABLE/ { print $1 }'
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

off=() warn=()
for round in $(seq "$rounds"); do
	if [ $((round % 2)) -eq 1 ]; then order="off warn"; else order="warn off"; fi
	for mode in $order; do
		set_mode "$mode"
		if [ "$mode" = off ]; then off+=("$(drop_latency)"); else warn+=("$(drop_latency)"); fi
	done
done
o=$(printf '%s\n' "${off[@]}" | median)
w=$(printf '%s\n' "${warn[@]}" | median)
echo "DROP TABLE of a committed table, 1 client, ${seconds}s runs, $rounds interleaved rounds (median)"
printf 'tfguard.mode = off:  %8.3f ms\n' "$o"
printf 'tfguard.mode = warn: %8.3f ms (recorded, then allowed)\n' "$w"
printf 'added:               %8.3f ms (x %.2f)\n' "$(echo "$w - $o" | bc -l)" "$(echo "$w / $o" | bc -l)"
rows=$(run_unprivileged psql -X -At -h "$dir" -p "$port" -U postgres -d postgres -c "SELECT count(*) FROM tfguard.audit_log WHERE decision = 'warned'")
echo "audit rows recorded as warned: $rows"
run_unprivileged pg_ctl -D "$dir/data" -m fast -w stop >/dev/null
as_root rm -rf "$dir"
