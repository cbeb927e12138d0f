#!/usr/bin/env bash
# The Debian package, built and checked on Debian 12:
#   bash scripts/package.sh
# Builds postgresql-<version>-tfguard (debian/, pg_buildext) with
# dpkg-buildpackage -us -uc -b from a copy of this tree, as the
# unprivileged OS user; shows lintian's findings; installs it with dpkg -i
# (over what make install put in the same places); then, on a throwaway
# cluster that preloads the installed library, checks CREATE EXTENSION, a
# refusal recorded in the trail and the tfguard tool; and runs the demo on
# the installed package.  Leaves the package installed and the .deb files
# in $TFGUARD_PACKAGE_DIR (default: a new directory under /tmp), and says
# where.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd /tmp
ensure_build_dependencies
ensure_packages dpkg-dev debhelper postgresql-server-dev-all libpq-dev lintian

version=$(cd "$TFGUARD_ROOT" && dpkg-parsechangelog -S Version)
# one version everywhere: the package, META.json (PGXN), the extension
meta_version=$(perl -MJSON::PP -e 'local $/; my $m = decode_json(<STDIN>);
	print "$m->{version} $m->{provides}{tfguard}{version} $m->{provides}{tfguard}{file}"' <"$TFGUARD_ROOT/META.json")
control_version=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$TFGUARD_ROOT/tfguard.control")
if [ "$meta_version" != "$version $version tfguard--$control_version.sql" ] ||
	[ "${version%.*}" != "$control_version" ] || [ ! -f "$TFGUARD_ROOT/tfguard--$control_version.sql" ]; then
	echo "tfguard: versions disagree: debian/changelog $version, META.json (version, provides) $meta_version, tfguard.control $control_version" >&2
	exit 1
fi
out=${TFGUARD_PACKAGE_DIR:-$(mktemp -d /tmp/tfguard-package-XXXXXX)}
as_root install -d -o "$(os_user)" "$out"
as_root rm -rf "$out/tfguard-$version"
copy_tree_for_unprivileged_user "$out/tfguard-$version" >/dev/null

echo "tfguard: building the Debian package $version in $out (dpkg-buildpackage -us -uc -b)"
if ! run_unprivileged bash -c "cd '$out/tfguard-$version' && dpkg-buildpackage -us -uc -b" \
	>"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log"
	echo "tfguard: the package build failed; the whole log is $out/build.log" >&2
	exit 1
fi
changes=$out/tfguard_${version}_$(dpkg --print-architecture).changes
packages=$(sed -n 's/^Binary: //p' "$changes" | tr ' ' '\n' | grep -v -- '-dbgsym$')
echo "tfguard: built $(echo $packages)"

echo "tfguard: lintian's findings (none if nothing follows):"
run_unprivileged lintian --pedantic "$changes" || true

# one package per PostgreSQL version it was built for; this check uses 15's
deb=$(ls "$out"/postgresql-15-tfguard_"$version"_*.deb)
echo "tfguard: installing $(basename "$deb")"
if ! as_root dpkg -i "$deb" >"$out/dpkg.log" 2>&1; then
	cat "$out/dpkg.log"
	exit 1
fi
[ "$(dpkg-query -W -f='${Status}' postgresql-15-tfguard)" = 'install ok installed' ]
# the files on disk are the package's, not an older make install's
# (dpkg --verify lists the files that differ, and exits 0 all the same)
mismatches=$(dpkg --verify postgresql-15-tfguard)
if [ -n "$mismatches" ]; then
	echo "$mismatches"
	echo "tfguard: the installed files differ from the package's" >&2
	exit 1
fi

PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
bindir=$("$PG_CONFIG" --bindir)
check_dir=$out/cluster
port=${TFGUARD_PACKAGE_PORT:-5434}
echo "tfguard: checking the installed package on a throwaway cluster in $check_dir (port $port)"
start_cluster "$check_dir" "$port" "shared_preload_libraries = 'tfguard'"
sql() {
	run_unprivileged psql -X -q -At -v ON_ERROR_STOP=1 -h "$check_dir" -p "$port" -U postgres "$@"
}
status=0
{
	sql -d postgres -c "CREATE EXTENSION tfguard" &&
		sql -d postgres -c "SELECT 'tfguard ' || extversion || ' created' FROM pg_extension WHERE extname = 'tfguard'" &&
		sql -d postgres -c "CREATE TABLE precious AS SELECT generate_series(1, 10) AS id" &&
		! sql -d postgres -c "DROP TABLE precious" 2>"$check_dir/refusal.txt" &&
		grep -q 'tfguard refused drop_table of table "public.precious"' "$check_dir/refusal.txt" &&
		[ "$(sql -d postgres -c "SELECT count(*) FROM precious")" = 10 ] &&
		[ "$(sql -d postgres -c "SELECT decision FROM tfguard.audit_log WHERE object_name = 'public.precious'")" = blocked ] &&
		run_unprivileged "$bindir/tfguard" -h "$check_dir" -p "$port" -U postgres status
} || status=$?
run_unprivileged pg_ctl -D "$check_dir/data" -m fast -w stop >/dev/null || true
if [ "$status" -ne 0 ]; then
	cat "$check_dir/refusal.txt" 2>/dev/null || true
	echo "tfguard: the installed package failed its check; the server log is $check_dir/server.log" >&2
	exit 1
fi
echo "tfguard: CREATE EXTENSION, a recorded refusal and the tfguard tool work from the package"

echo "tfguard: the demo on the installed package"
demo_dir=$out/demo
TFGUARD_DEMO_INSTALLED=1 TFGUARD_DEMO_DIR=$demo_dir TFGUARD_DEMO_PORT=$((port + 1)) \
	bash "$TFGUARD_ROOT/scripts/demo.sh" >"$out/demo.log" 2>&1 || status=$?
run_unprivileged pg_ctl -D "$demo_dir/data" -m fast -w stop >/dev/null 2>&1 || true
if [ "$status" -ne 0 ] || ! grep -q 'Try it yourself' "$out/demo.log"; then
	cat "$out/demo.log"
	echo "tfguard: the demo failed on the installed package" >&2
	exit 1
fi
echo "tfguard: the demo ran on the installed package (its output: $out/demo.log)"
echo "tfguard: postgresql-15-tfguard $version stays installed; the packages are in $out"
