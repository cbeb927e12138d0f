#!/usr/bin/env bash
# Instructions per ordinary statement, with and without tfguard and its
# peers, counted by valgrind's callgrind (deterministic, unlike timings).
# Each configuration runs a single-user backend (postgres --single) on a
# fresh copy of one data directory, once with an OLTP mix (point SELECT,
# UPDATE by key, INSERT) and once with an empty script; the difference
# divided by the number of statements is the cost per statement.
#   bash bench/instructions.sh [statements]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

statements=${1:-3000}
dir=/tmp/tfguard-bench-instructions

ensure_build_dependencies
ensure_packages bc
ensure_packages valgrind
build_and_install
# peers, where Debian packages them; a peer that cannot be installed is skipped
ensure_packages postgresql-15-pgaudit 2>/dev/null || echo "pgaudit could not be installed: skipped"
ensure_packages postgresql-15-set-user 2>/dev/null || echo "set_user could not be installed: skipped"
libdir=$("$PG_CONFIG" --pkglibdir)

as_root rm -rf "$dir"
as_root install -d -o "$(os_user)" "$dir"
run_unprivileged initdb -D "$dir/template" -A trust -U postgres >/dev/null
run_unprivileged pg_ctl -D "$dir/template" -o "-p 5436 -k $dir -c listen_addresses=" -l "$dir/init.log" -w start >/dev/null
run_unprivileged pgbench -i -s 1 -q -h "$dir" -p 5436 -U postgres postgres >/dev/null 2>&1
run_unprivileged psql -X -q -h "$dir" -p 5436 -U postgres -d postgres -c "VACUUM ANALYZE"
run_unprivileged pg_ctl -D "$dir/template" -w stop >/dev/null

# the OLTP mix, one statement per line as the single-user backend reads it
{
	for i in $(seq 1 $((statements / 3))); do
		aid=$(( (i * 7919) % 100000 + 1 ))
		echo "SELECT abalance FROM pgbench_accounts WHERE aid = $aid;"
		echo "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = $aid;"
		echo "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, $aid, 1, now());"
	done
} >"$dir/oltp.sql"
: >"$dir/empty.sql"
as_root chown "$(os_user)" "$dir/oltp.sql" "$dir/empty.sql"
mix_statements=$(wc -l <"$dir/oltp.sql")

# instructions for one run of a script under one configuration
count() {
	local script=$1
	shift
	as_root rm -rf "$dir/data"
	run_unprivileged cp -a "$dir/template" "$dir/data"
	run_unprivileged valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" \
		postgres --single -D "$dir/data" -c max_parallel_workers_per_gather=0 "$@" postgres \
		<"$dir/$script" >/dev/null 2>&1
	awk '/^summary:/ { print $2 }' "$dir/callgrind.out"
}

per_statement() {
	local oltp empty
	oltp=$(count oltp.sql "$@")
	empty=$(count empty.sql "$@")
	echo "($oltp - $empty) / $mix_statements" | bc -l
}

echo "instructions per ordinary statement (callgrind, $mix_statements statements: point SELECT, UPDATE by key, INSERT)"
base=$(per_statement -c shared_preload_libraries=)
printf '%-34s %12.0f %8s\n' "PostgreSQL without extensions" "$base" "1.0000"
row() {
	local label=$1 lib=$2
	shift 2
	if [ ! -f "$libdir/$lib.so" ]; then
		printf '%-34s %12s %8s\n' "$label" "-" "not installed"
		return
	fi
	local n
	n=$(per_statement -c "shared_preload_libraries=$lib" "$@")
	printf '%-34s %12.0f %8.4f\n' "$label" "$n" "$(echo "$n / $base" | bc -l)"
}
row "tfguard (enforce)" tfguard
row "pgaudit, pgaudit.log = 'ddl'" pgaudit -c pgaudit.log=ddl
row "pgaudit, pgaudit.log = 'write, ddl'" pgaudit -c "pgaudit.log=write, ddl"
row "set_user" set_user
as_root rm -rf "$dir"
