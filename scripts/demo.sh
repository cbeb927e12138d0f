#!/usr/bin/env bash
# The tfguard demo, on a fresh Debian 12 machine:
#   bash scripts/demo.sh
# Installs what is missing, builds and installs tfguard, brings up a
# throwaway PostgreSQL cluster with tfguard preloaded (in /tmp/tfguard-demo,
# port 5433 unless TFGUARD_DEMO_PORT says otherwise), gives an "agent" role
# a database full of data, and replays the incident tfguard exists for: the
# agent's destructive statements are refused and the data stays.  The
# cluster keeps running so you can try it yourself; the script says how.
# TFGUARD_DEMO_INSTALLED=1 skips the build and uses the tfguard already
# installed (scripts/package.sh runs the demo on the Debian package so).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

demo_dir=${TFGUARD_DEMO_DIR:-/tmp/tfguard-demo}
port=${TFGUARD_DEMO_PORT:-5433}

# The servers and clients run as the unprivileged OS user, which may not
# be allowed into the directory this script was started from.
cd /tmp

step() {
	echo
	echo "== $*"
}

if [ "${TFGUARD_DEMO_INSTALLED:-0}" = 1 ]; then
	step "Using the tfguard installed in $("$PG_CONFIG" --pkglibdir)"
else
	step "Installing what is missing, building tfguard and installing it into PostgreSQL $("$PG_CONFIG" --version | awk '{ print $2 }')"
	ensure_build_dependencies
	build_and_install
fi

step "Starting a throwaway cluster in $demo_dir (port $port) with shared_preload_libraries = 'tfguard'"
start_cluster "$demo_dir" "$port" "shared_preload_libraries = 'tfguard'"

psql_as() {
	local role=$1 db=$2
	shift 2
	run_unprivileged psql -X -q -h "$demo_dir" -p "$port" -U "$role" -d "$db" "$@"
}

step "A DBA creates the extension and gives an automation agent, role agent, its own database shop: 2,000 customers, 90,000 orders"
psql_as postgres postgres <<'SQL'
CREATE EXTENSION tfguard;
CREATE ROLE agent LOGIN CREATEDB;
CREATE DATABASE shop OWNER agent;
SQL
psql_as agent shop <<'SQL'
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE orders (id int PRIMARY KEY, customer int REFERENCES customers,
                     placed date NOT NULL, total numeric NOT NULL);
INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 2000) g;
INSERT INTO orders SELECT g, 1 + g % 2000, date '2024-01-01' + g / 100, g % 500
  FROM generate_series(1, 90000) g;
CREATE TABLE orders_2019_archive AS SELECT * FROM orders WHERE id <= 5000;
ANALYZE customers, orders, orders_2019_archive;
SQL
psql_as agent shop -c "SELECT (SELECT count(*) FROM customers) AS customers,
  (SELECT count(*) FROM orders) AS orders,
  (SELECT min(placed) || ' .. ' || max(placed) FROM orders) AS history"

step "The agent, working from a stale state file, believes all of it is surplus: it tries to drop the database"
psql_as agent postgres -e <<'SQL'
DROP DATABASE shop WITH (FORCE);
SQL
step "Refused, it tries dropdb"
run_unprivileged dropdb -h "$demo_dir" -p "$port" -U agent shop || true
step "Refused again, it tries every other route to the same data"
psql_as agent shop -e <<'SQL'
\set VERBOSITY terse
\set SHOW_CONTEXT never
DROP SCHEMA public CASCADE;
DROP TABLE orders, customers CASCADE;
TRUNCATE customers CASCADE;
DELETE FROM orders;
DELETE FROM orders WHERE 1 = 1;
DO $$ BEGIN EXECUTE 'DELETE FROM orders WHERE true'; END $$;
SQL
step "Refused for DELETE FROM orders, it adds a WHERE that matches every row, then one that spares a few, then overwrites instead: tfguard judges what a statement destroys, not how it is written"
psql_as agent shop -e <<'SQL'
\set VERBOSITY terse
\set SHOW_CONTEXT never
DELETE FROM orders WHERE id > 0;
DELETE FROM orders WHERE id > 100;
UPDATE orders SET total = 0 WHERE id > 0;
ALTER TABLE orders DROP COLUMN total;
SQL

step "Every attempt was refused; counting the rows shows the data is intact"
psql_as agent shop -c "SELECT (SELECT count(*) FROM customers) AS customers,
  (SELECT count(*) FROM orders) AS orders"
step "Ordinary work goes on: the agent deletes one order with a WHERE, which destroys nothing worth a human's decision"
psql_as agent shop -e -c "DELETE FROM orders WHERE id = 42 RETURNING id, total"

step "The agent drops the archive table it was asked to remove, in a session it keeps open, and is refused"
# the agent keeps one session open, fed through a FIFO, as an agent would
fifo="$demo_dir/agent.fifo"
run_unprivileged mkfifo "$fifo"
run_unprivileged bash -c "psql -X -q -h '$demo_dir' -p $port -U agent -d shop -e \
	-v VERBOSITY=terse <'$fifo' >'$demo_dir/agent.out' 2>&1" &
agent_pid=$!
exec 3>"$fifo"
echo "DROP TABLE orders_2019_archive;" >&3
sleep 1
cat "$demo_dir/agent.out"
step "A human lists what awaits a decision in tfguard.pending"
psql_as postgres postgres -c "SELECT audit_id, role, operation, object_name, impact, session_live FROM tfguard.pending"
request=$(psql_as postgres postgres -At -c \
	"SELECT max(audit_id) FROM tfguard.pending WHERE object_name = 'public.orders_2019_archive' AND session_live")
step "The human approves the archive's drop, audit id $request, for that session and once, and denies the rest with a reason"
psql_as postgres postgres -e -c "SELECT tfguard.approve($request, '5 minutes', 'planned: archive exported') IS NOT NULL AS approved"
psql_as postgres postgres -e -c "SELECT count(tfguard.deny(audit_id, 'the state file is stale: nothing else here is surplus')) AS denied
  FROM tfguard.pending WHERE audit_id <> $request"
seen=$(wc -l <"$demo_dir/agent.out")
step "The agent's session drops the archive again, and then tries orders again: it is told why not"
echo "DROP TABLE orders_2019_archive;" >&3
echo "DROP TABLE orders;" >&3
exec 3>&-
wait "$agent_pid" || true
tail -n +"$((seen + 1))" "$demo_dir/agent.out"
step "The agent looks its requests up, and sees what was decided and why"
psql_as agent postgres -c "SELECT audit_id, operation, object_name, status, decision_detail
  FROM tfguard.my_requests() ORDER BY audit_id DESC LIMIT 4"

step "Every attempt is in the audit trail, committed although each refused transaction rolled back"
psql_as postgres postgres -c "SELECT id, database_name AS db, session_role AS role, operation,
  object_name, decision, refers_to, left(statement, 40) AS statement FROM tfguard.audit_log ORDER BY id"

cat <<MSG

== Try it yourself
  As the agent:      $( [ "$(id -u)" = 0 ] && echo "runuser -u $(os_user) -- " )$(dirname "$PG_CONFIG")/psql -h $demo_dir -p $port -U agent shop
  As the superuser:  $( [ "$(id -u)" = 0 ] && echo "runuser -u $(os_user) -- " )$(dirname "$PG_CONFIG")/psql -h $demo_dir -p $port -U postgres postgres
  Stop the cluster:  $( [ "$(id -u)" = 0 ] && echo "runuser -u $(os_user) -- " )$(dirname "$PG_CONFIG")/pg_ctl -D $demo_dir/data stop
MSG
