#!/usr/bin/env bash
# Latency tfguard adds to a guarded operation it lets through: DROP TABLE
# of a committed table by a role holding an unlock token for it (the use is
# recorded in the audit trail, then allowed) against the same DROP with
# tfguard.mode = 'off' (nothing looked at), on one server, rounds
# interleaved.  Each run is one psql session (presenting a fresh token
# through its connection options) that creates and drops a table N times;
# the difference between the two modes, divided by N, is what tfguard adds
# to each DROP.
#   bash bench/allowed_drop.sh [drops_per_run] [rounds]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

drops=${1:-1000}
rounds=${2:-3}
dir=/tmp/tfguard-bench-drop
port=${TFGUARD_BENCH_PORT:-5438}

ensure_build_dependencies
ensure_packages bc
build_and_install

start_cluster "$dir" "$port" "shared_preload_libraries = 'tfguard'" "log_min_messages = error"
run_unprivileged psql -X -q -h "$dir" -p "$port" -U postgres -d postgres -c "CREATE EXTENSION tfguard" \
	-c "CREATE ROLE bench_agent LOGIN" -c "GRANT CREATE ON SCHEMA public TO bench_agent"
for _ in $(seq "$drops"); do
	printf 'CREATE TABLE bench_drop (id int);\nDROP TABLE bench_drop;\n'
done >"$dir/drop.sql"
as_root chown "$(os_user)" "$dir/drop.sql"

set_mode() {
	sed -i '/^tfguard.mode/d' "$dir/data/postgresql.conf"
	echo "tfguard.mode = '$1'" >>"$dir/data/postgresql.conf"
	run_unprivileged pg_ctl -D "$dir/data" reload >/dev/null
	sleep 0.5
}
# milliseconds per CREATE+DROP pair, for one session with a fresh token
pair_ms() {
	local token start end
	token=$(run_unprivileged psql -X -At -h "$dir" -p "$port" -U postgres -d postgres \
		-c "SELECT tfguard.issue_token('bench_agent', ARRAY['drop_table'], ttl => '1 hour')")
	start=$(date +%s.%N)
	run_unprivileged psql -X -q -h "$dir" -p "$port" -U bench_agent \
		-d "dbname=postgres options='-c tfguard.token=$token'" \
		-v ON_ERROR_STOP=1 -f "$dir/drop.sql" >/dev/null
	end=$(date +%s.%N)
	echo "($end - $start) * 1000 / $drops" | bc -l
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

off=() warn=()
for round in $(seq "$rounds"); do
	if [ $((round % 2)) -eq 1 ]; then order="off enforce"; else order="enforce off"; fi
	for mode in $order; do
		set_mode "$mode"
		if [ "$mode" = off ]; then off+=("$(pair_ms)"); else warn+=("$(pair_ms)"); fi
	done
done
o=$(printf '%s\n' "${off[@]}" | median)
w=$(printf '%s\n' "${warn[@]}" | median)
echo "CREATE TABLE + DROP TABLE, 1 session, $drops pairs per run, $rounds interleaved rounds (median)"
printf 'tfguard.mode = off:            %8.3f ms per pair\n' "$o"
printf 'enforce, with an unlock token: %8.3f ms per pair (the DROP recorded, then allowed)\n' "$w"
printf 'added to each DROP:            %8.3f ms\n' "$(echo "$w - $o" | bc -l)"
rows=$(run_unprivileged psql -X -At -h "$dir" -p "$port" -U postgres -d postgres -c "SELECT count(*) FROM tfguard.audit_log WHERE decision = 'allowed' AND operation = 'drop_table'")
echo "drops recorded as allowed with a token: $rows"
run_unprivileged pg_ctl -D "$dir/data" -m fast -w stop >/dev/null
as_root rm -rf "$dir"
