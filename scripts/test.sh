#!/usr/bin/env bash
# The whole tfguard test suite, on a fresh Debian 12 machine:
#   bash scripts/test.sh
# Installs what is missing (Debian packages), builds and installs tfguard,
# then, as an unprivileged OS user, runs the pg_regress suites (sql/,
# expected/) against a temporary instance with tfguard preloaded, and the
# TAP tests (t/).  Ends with prove's summary; exits non-zero on any failure.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_build_dependencies
ensure_packages perl libipc-run-perl python3-sqlalchemy python3-psycopg2
command -v npm >/dev/null || ensure_packages nodejs npm
build_and_install

work=$(copy_tree_for_unprivileged_user)
# the Node.js client for t/010_clients.pl, from the npm registry
if ! (cd "$work/t/clients" && npm install --no-audit --no-fund --silent >/dev/null 2>&1 ||
	  npm install --no-audit --no-fund --silent >/dev/null 2>&1); then
	echo "tfguard: WARNING: npm install of pg failed; t/010_clients.pl will skip the Node.js client" >&2
fi
as_root chown -R "$(os_user)" "$work"
pgxs_dir=$(dirname "$(dirname "$(dirname "$("$PG_CONFIG" --pgxs)")")")
bindir=$("$PG_CONFIG" --bindir)
echo "tfguard: running the tests in $work as OS user $(os_user)"

regress_status=0
run_unprivileged bash -c "cd '$work' && mkdir -p tmp_check && '$pgxs_dir/src/test/regress/pg_regress' \
	--temp-instance=tmp_check/regress --temp-config=test/tfguard.conf \
	--bindir='$bindir' --inputdir=. --outputdir=. --dbname=contrib_regression \
	--schedule=test/schedule" || regress_status=$?
if [ "$regress_status" -ne 0 ] && [ -f "$work/regression.diffs" ]; then
	cat "$work/regression.diffs"
fi

tap_status=0
run_unprivileged bash -c "cd '$work' && TESTDIR='$work' PG_CONFIG='$PG_CONFIG' \
	PG_REGRESS='$pgxs_dir/src/test/regress/pg_regress' \
	prove -I '$pgxs_dir/src/test/perl' -I t t/*.pl" || tap_status=$?

if [ "$regress_status" -eq 0 ] && [ "$tap_status" -eq 0 ]; then
	as_root rm -rf "$work"
	exit 0
fi
echo "tfguard: tests failed (pg_regress exit $regress_status, prove exit $tap_status); logs are in $work" >&2
exit 1
