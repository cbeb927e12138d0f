#!/usr/bin/env bash
# What an audited refusal costs, as issue 16 measures it: for three refused
# statements (DROP TABLE of a bare 10-row table; DROP TABLE of a 1,000-row
# table with a primary key, an index and a foreign key; DELETE without
# WHERE), the time per refusal minus the time of the same statement run
# with tfguard.mode = off inside BEGIN ... ROLLBACK (one round trip:
# "BEGIN\; stmt\; ROLLBACK"), divided by the time of a durable one-row
# autocommitted INSERT.  Goal: at most 1.25.  1 and 8 clients (psql, one
# statement per round trip), fsync and synchronous_commit on, rounds
# interleaved, medians.  Never fails on timing.
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
	-c "CREATE ROLE agent LOGIN" -c "CREATE DATABASE app OWNER agent"
psql_bench -d app -U agent -c "CREATE TABLE bench_rows (id int)" \
	-c "CREATE TABLE bare (id int)" -c "INSERT INTO bare SELECT generate_series(1, 10)" \
	-c "CREATE TABLE parent (id int PRIMARY KEY)" -c "INSERT INTO parent SELECT generate_series(1, 100)" \
	-c "CREATE TABLE keyed (id int PRIMARY KEY, parent int REFERENCES parent, note text)" \
	-c "CREATE INDEX ON keyed (note)" \
	-c "INSERT INTO keyed SELECT g, 1 + g % 100, 'n' || g FROM generate_series(1, 1000) g" \
	-c "CREATE TABLE target (id int)" -c "INSERT INTO target VALUES (1)" \
	-c "ANALYZE bare, parent, keyed, target"

declare -A statement=(
	[drop_bare]='DROP TABLE bare'
	[drop_keyed]='DROP TABLE keyed'
	[delete_all]='DELETE FROM target'
)
script() {
	local name=$1 line=$2
	for _ in $(seq "$per_client"); do echo "$line"; done >"$dir/$name.sql"
	as_root chown "$(os_user)" "$dir/$name.sql"
}
script insert 'INSERT INTO bench_rows VALUES (1);'
for s in "${!statement[@]}"; do
	script "refuse_$s" "${statement[$s]};"
	script "off_$s" "BEGIN\\; ${statement[$s]}\\; ROLLBACK;"
done

# milliseconds per statement for $clients concurrent psql sessions of agent
ms_per() {
	local clients=$1 file=$2 start end
	start=$(date +%s.%N)
	for _ in $(seq "$clients"); do
		psql_bench -d app -U agent -f "$dir/$file.sql" >/dev/null 2>&1 &
	done
	wait
	end=$(date +%s.%N)
	echo "($end - $start) * 1000 / ($clients * $per_client)" | bc -l
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
set_mode() {
	echo "tfguard.mode = '$1'" | run_unprivileged tee -a "$dir/data/postgresql.conf" >/dev/null
	run_unprivileged pg_ctl -D "$dir/data" reload >/dev/null
	sleep 1
}

echo "audited refusal cost: (refusal - same statement, mode off, BEGIN...ROLLBACK) / durable INSERT"
echo "($per_client statements per client, $rounds rounds, median of ms per statement)"
printf '%-8s %-11s %10s %10s %10s %8s\n' clients statement insert_ms refused_ms off_ms ratio
for clients in 1 8; do
	declare -A ins=() ref=() off=()
	for _ in $(seq "$rounds"); do
		ins[x]+="$(ms_per "$clients" insert) "
		for s in "${!statement[@]}"; do
			ref[$s]+="$(ms_per "$clients" "refuse_$s") "
		done
		set_mode off
		for s in "${!statement[@]}"; do
			off[$s]+="$(ms_per "$clients" "off_$s") "
		done
		set_mode enforce
	done
	i=$(printf '%s\n' ${ins[x]} | median)
	for s in drop_bare drop_keyed delete_all; do
		r=$(printf '%s\n' ${ref[$s]} | median)
		o=$(printf '%s\n' ${off[$s]} | median)
		printf '%-8s %-11s %10.3f %10.3f %10.3f %8.2f\n' "$clients" "$s" "$i" "$r" "$o" \
			"$(echo "($r - $o) / $i" | bc -l)"
	done
	unset ins ref off
done
rows=$(psql_bench -d postgres -At -c "SELECT count(*) FROM tfguard.audit_log")
commits=$(psql_bench -d postgres -At -c "SELECT count(DISTINCT xmin::text) FROM tfguard.audit_log")
echo "audit rows written: $rows, in $commits writer commits"
