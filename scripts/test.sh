#!/usr/bin/env bash
# The whole tfguard test suite, on a fresh Debian 12 machine:
#   bash scripts/test.sh                   # on PostgreSQL 15 and 18
#   PG_VERSIONS=18 bash scripts/test.sh    # on the versions named
# Installs what is missing (Debian packages; PostgreSQL 18 is built once
# from ../shared/postgresql into a cache, see ensure_postgresql_18), builds
# and installs tfguard for each version, then, as an unprivileged OS user,
# runs on each the pg_regress suites (sql/, expected/) against a temporary
# instance with tfguard preloaded, and the TAP tests (t/).  Ends with
# pg_regress's and prove's summaries for each version; exits non-zero on
# any failure on any version.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_VERSIONS=${PG_VERSIONS:-"15 18"}

ensure_packages perl libipc-run-perl python3-sqlalchemy python3-psycopg2
command -v npm >/dev/null || ensure_packages nodejs npm
# the DBA tools t/018_maintenance_tools.pl runs under tfguard, as Debian
# ships them (for the Debian-packaged PostgreSQL; elsewhere the test skips)
case " $PG_VERSIONS " in
	*" 15 "*) ensure_packages postgresql-15-repack postgresql-15-partman ;;
esac

# Every version is built and installed before any test runs: the upgrade
# test of a later version needs tfguard installed in the earlier ones.
work=$(mktemp -d /tmp/tfguard-XXXXXX)
declare -A pg_config_of
for version in $PG_VERSIONS; do
	use_postgresql "$version"
	pg_config_of[$version]=$PG_CONFIG
	copy_tree_for_unprivileged_user "$work/pg$version" >/dev/null
	build_and_install "$work/pg$version"
done

# the Node.js client for t/010_clients.pl, from the npm registry, once
first=$(echo "$PG_VERSIONS" | awk '{ print $1 }')
if (cd "$work/pg$first/t/clients" && npm install --no-audit --no-fund --silent >/dev/null 2>&1 ||
	npm install --no-audit --no-fund --silent >/dev/null 2>&1); then
	for version in $PG_VERSIONS; do
		[ "$version" = "$first" ] || cp -a "$work/pg$first/t/clients/node_modules" "$work/pg$version/t/clients/"
	done
else
	echo "tfguard: WARNING: npm install of pg failed; t/010_clients.pl will skip the Node.js client" >&2
fi
as_root chown -R "$(os_user)" "$work"

# The older tested version this tree was just installed into, from which
# t/005_pg_upgrade_from_15.pl upgrades with the newer version's pg_upgrade.
upgrade_from=
case " $PG_VERSIONS " in
	*" 15 "*) upgrade_from=$("${pg_config_of[15]}" --bindir | xargs dirname) ;;
esac

failed=()
for version in $PG_VERSIONS; do
	PG_CONFIG=${pg_config_of[$version]}
	dir=$work/pg$version
	echo "tfguard: PostgreSQL $version: running the tests in $dir as OS user $(os_user)"

	# PGXS's own targets, as anyone who installed tfguard runs them (see
	# the Makefile): pg_regress alone first (TAP_TESTS emptied), then prove
	regress_status=0
	run_unprivileged bash -c "cd '$dir' && make -s installcheck PG_CONFIG='$PG_CONFIG' TAP_TESTS=" \
		2>&1 | tee "$dir/pg_regress.log" || regress_status=$?
	if [ "$regress_status" -ne 0 ] && [ -f "$dir/regression.diffs" ]; then
		cat "$dir/regression.diffs"
	fi

	tap_status=0
	from=
	[ "$version" = 15 ] || from=$upgrade_from
	run_unprivileged bash -c "cd '$dir' && PG_CONFIG='$PG_CONFIG' \
		TESTDATADIR='$dir/tmp_check' TESTLOGDIR='$dir/tmp_check/log' \
		TFGUARD_UPGRADE_FROM='$from' \
		make -s prove_installcheck PG_CONFIG='$PG_CONFIG'" 2>&1 | tee "$dir/prove.log" || tap_status=$?

	if [ "$regress_status" -ne 0 ] || [ "$tap_status" -ne 0 ]; then
		failed+=("PostgreSQL $version (pg_regress exit $regress_status, prove exit $tap_status; logs in $dir)")
	fi
done

# What failed first, then the runners' own summaries, version by version:
# pg_regress's from its count of passed or failed tests to the end, prove's
# from its report to the end.
if [ ${#failed[@]} -ne 0 ]; then
	echo
	printf 'tfguard: tests failed on %s\n' "${failed[@]}"
fi
for version in $PG_VERSIONS; do
	dir=$work/pg$version
	echo
	echo "tfguard: PostgreSQL $version: pg_regress"
	awk '{ lines[NR] = $0 }
		!from && /tests? (passed|failed)/ { from = (lines[NR - 1] ~ /^(=+|1\.\.[0-9]+)$/) ? NR - 1 : NR }
		END { if (!from) { print "(no summary: pg_regress did not finish)"; exit }
			  for (i = from; i <= NR; i++) print lines[i] }' "$dir/pg_regress.log"
	echo "tfguard: PostgreSQL $version: prove"
	awk '{ lines[NR] = $0 }
		!from && /^(All tests successful|Test Summary Report)/ { from = NR }
		END { if (!from) { print "(no summary: prove did not finish)"; exit }
			  for (i = from; i <= NR; i++) print lines[i] }' "$dir/prove.log"
done

[ ${#failed[@]} -eq 0 ] || exit 1
as_root rm -rf "$work"
