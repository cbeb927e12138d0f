#!/usr/bin/env bash
# What an audited refusal costs: refused attempts per second, against
# durable one-row autocommitted INSERTs per second, from 1 and from 8
# clients, on one server with fsync and synchronous_commit on, rounds
# interleaved.  Each client is psql sending one statement at a time, so
# both sides pay the same round trips.  Prints rates and their ratio; never
# fails on timing.
#   bash bench/audit_refusals.sh [statements_per_client] [rounds]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

per_client=${1:-1000}
rounds=${2:-3}
dir=/tmp/tfguard-bench-audit
port=${TFGUARD_BENCH_PORT:-5435}

ensure_build_dependencies
ensure_packages bc
build_and_install

start_cluster "$dir" "$port" "shared_preload_libraries = 'tfguard'" \
	"fsync = on" "synchronous_commit = on" "log_min_messages = warning"
trap 'run_unprivileged pg_ctl -D "$dir/data" -m fast -w stop >/dev/null' EXIT

psql_bench() {
	run_unprivileged psql -X -q -h "$dir" -p "$port" -U postgres "$@"
}
psql_bench -d postgres -c "CREATE EXTENSION tfguard" \
	-c "CREATE TABLE bench_rows (id int)" \
	-c "CREATE TABLE bench_target (id int)" \
	-c "INSERT INTO bench_target VALUES (1)"

for _ in $(seq "$per_client"); do echo 'INSERT INTO bench_rows VALUES (1);'; done >"$dir/insert.sql"
for _ in $(seq "$per_client"); do echo 'DELETE FROM bench_target;'; done >"$dir/refuse.sql"

# statements per second for $clients concurrent psql sessions running $script
rate() {
	local clients=$1 script=$2 start end
	start=$(date +%s.%N)
	for _ in $(seq "$clients"); do
		psql_bench -d postgres -f "$script" >/dev/null 2>&1 &
	done
	wait
	end=$(date +%s.%N)
	echo "$clients * $per_client / ($end - $start)" | bc -l
}

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "tfguard audited refusals vs durable one-row INSERTs ($per_client statements per client, $rounds rounds, median)"
printf '%-8s %14s %14s %8s\n' clients inserts/s refusals/s ratio
for clients in 1 8; do
	ins=() ref=()
	for _ in $(seq "$rounds"); do
		ins+=("$(rate "$clients" "$dir/insert.sql")")
		ref+=("$(rate "$clients" "$dir/refuse.sql")")
	done
	i=$(printf '%s\n' "${ins[@]}" | median)
	r=$(printf '%s\n' "${ref[@]}" | median)
	printf '%-8s %14.0f %14.0f %8.2f\n' "$clients" "$i" "$r" "$(echo "$r / $i" | bc -l)"
done
rows=$(psql_bench -d postgres -At -c "SELECT count(*) FROM tfguard.audit_log")
commits=$(psql_bench -d postgres -At -c "SELECT count(DISTINCT xmin::text) FROM tfguard.audit_log")
echo "audit rows written: $rows, in $commits writer commits"
