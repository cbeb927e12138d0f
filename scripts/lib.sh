# Shared by scripts/demo.sh and scripts/test.sh: install what tfguard needs
# on Debian 12, build and install it, and run commands as an unprivileged
# OS user (PostgreSQL refuses to run as root).
#
# Honours PG_CONFIG (default: PostgreSQL 15's pg_config) and TFGUARD_OS_USER
# (default: postgres when run as root, yourself otherwise).

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
TFGUARD_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Install the Debian packages that are missing; skip apt entirely when
# everything is there already.
ensure_packages() {
	local missing=() pkg
	for pkg in "$@"; do
		[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" = 'install ok installed' ] ||
			missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "tfguard: installing Debian packages: ${missing[*]}"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_build_dependencies() {
	ensure_packages make gcc libc6-dev postgresql-15 postgresql-server-dev-15 postgresql-client-15
}

# Build warning-free and install into the PostgreSQL that PG_CONFIG names,
# from DIR (default: this tree).
build_and_install() {
	local dir=${1:-$TFGUARD_ROOT}
	echo "tfguard: building and installing with $PG_CONFIG"
	make -s -C "$dir" PG_CONFIG="$PG_CONFIG" >/dev/null
	as_root make -s -C "$dir" PG_CONFIG="$PG_CONFIG" install >/dev/null
}

os_user() {
	if [ -n "${TFGUARD_OS_USER:-}" ]; then
		echo "$TFGUARD_OS_USER"
	elif [ "$(id -u)" = 0 ]; then
		echo postgres
	else
		id -un
	fi
}

# Run a command as the unprivileged OS user, with PostgreSQL's bindir first
# in PATH.
run_unprivileged() {
	local user bindir
	user=$(os_user)
	bindir=$("$PG_CONFIG" --bindir)
	if [ "$(id -un)" = "$user" ]; then
		env PATH="$bindir:$PATH" "$@"
	else
		as_root runuser -u "$user" -- env PATH="$bindir:$PATH" "$@"
	fi
}

# A copy of the source tree the unprivileged user can read and write, in
# DEST (default: a new directory), without build products, so that it
# builds afresh for any PostgreSQL version.
copy_tree_for_unprivileged_user() {
	local dest=${1:-}
	if [ -z "$dest" ]; then
		dest=$(mktemp -d /tmp/tfguard-XXXXXX)
	else
		mkdir -p "$dest"
	fi
	tar -C "$TFGUARD_ROOT" --exclude=.git --exclude='tmp_check' --exclude='results' \
		--exclude='*.o' --exclude='*.so' --exclude='*.bc' --exclude=cli/tfguard \
		--exclude=node_modules -cf - . | tar -C "$dest" -xf -
	as_root chown -R "$(os_user)" "$dest"
	echo "$dest"
}

# A fresh throwaway cluster in DIR, owned by the unprivileged user, on a
# Unix socket in DIR and PORT, started; further arguments are extra lines
# for postgresql.conf.  Stops and removes what a previous run left there.
start_cluster() {
	local dir=$1 port=$2
	shift 2
	if [ -f "$dir/data/postmaster.pid" ]; then
		run_unprivileged pg_ctl -D "$dir/data" -m fast -w stop >/dev/null || true
	fi
	as_root rm -rf "$dir"
	as_root install -d -o "$(os_user)" "$dir"
	run_unprivileged initdb -D "$dir/data" -A trust -U postgres >/dev/null
	{
		echo "port = $port"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$dir'"
		printf '%s\n' "$@"
	} | run_unprivileged tee -a "$dir/data/postgresql.conf" >/dev/null
	run_unprivileged pg_ctl -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
}

# PostgreSQL 18 for the version matrix: Debian 12 ships only 15, so it is
# built from source into a cached prefix, contrib and the TAP framework
# included.  The build runs once: the prefix is reused for as long as the
# source tarball's sha256 matches the stamp written after a complete
# install.  The tarball is $TFGUARD_PG18_TARBALL, or the newest
# postgresql-18.*.tar.bz2 in ../shared/postgresql beside this tree (or
# beside the tree it was cloned from).
PG18_PREFIX=${TFGUARD_PG18_PREFIX:-/var/cache/tfguard/postgresql-18}

find_postgresql_18_source() {
	local origin dir
	if [ -n "${TFGUARD_PG18_TARBALL:-}" ]; then
		echo "$TFGUARD_PG18_TARBALL"
		return
	fi
	origin=$(git -C "$TFGUARD_ROOT" remote get-url origin 2>/dev/null || true)
	# No pipe into head(1): under pipefail, a writer cut off by SIGPIPE
	# would fail the whole script at random.
	for dir in "$TFGUARD_ROOT/../shared/postgresql" ${origin:+"$origin/../shared/postgresql"}; do
		local found
		found=$(ls "$dir"/postgresql-18.*.tar.bz2 2>/dev/null | sort -V | tail -n 1 || true)
		if [ -n "$found" ] && [ -f "$found" ]; then
			echo "$found"
			return
		fi
	done
}

ensure_postgresql_18() {
	local stamp=$PG18_PREFIX/.tfguard-source-sha256 tarball sum build status=0
	tarball=$(find_postgresql_18_source)
	if [ -z "$tarball" ] || [ ! -f "$tarball" ]; then
		echo "tfguard: PostgreSQL 18 source not found: set TFGUARD_PG18_TARBALL, or put postgresql-18.*.tar.bz2 in ../shared/postgresql" >&2
		return 1
	fi
	sum=$(sha256sum "$tarball" | cut -d' ' -f1)
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
		echo "tfguard: PostgreSQL 18 from the cache in $PG18_PREFIX (built from $(basename "$tarball"))"
		return 0
	fi
	if [ -f "$(dirname "$tarball")/SHA256SUMS" ] &&
		! grep -q "^$sum  $(basename "$tarball")\$" "$(dirname "$tarball")/SHA256SUMS"; then
		echo "tfguard: $tarball does not match the checksum in $(dirname "$tarball")/SHA256SUMS" >&2
		return 1
	fi
	ensure_packages make gcc libc6-dev bison flex libreadline-dev zlib1g-dev libipc-run-perl
	echo "tfguard: building PostgreSQL 18 from $(basename "$tarball") into $PG18_PREFIX (once; a few minutes)"
	build=$(mktemp -d /tmp/tfguard-pg18-build-XXXXXX)
	# the install is staged, so that an interrupted build never leaves a
	# prefix that looks complete
	tar -xjf "$tarball" -C "$build" --strip-components=1 &&
		(cd "$build" &&
			./configure --prefix="$PG18_PREFIX" --without-icu --without-llvm \
				--enable-tap-tests >configure.log 2>&1 &&
			make -s -j"$(nproc)" world-bin >make.log 2>&1 &&
			make -s DESTDIR="$build/stage" install-world-bin >install.log 2>&1) ||
		status=$?
	if [ "$status" -ne 0 ]; then
		echo "tfguard: building PostgreSQL 18 failed; logs (configure.log, make.log, install.log) are in $build" >&2
		return 1
	fi
	as_root rm -rf "$PG18_PREFIX"
	as_root mkdir -p "$(dirname "$PG18_PREFIX")"
	as_root mv "$build/stage$PG18_PREFIX" "$PG18_PREFIX"
	as_root chmod -R a+rX "$(dirname "$PG18_PREFIX")"
	echo "$sum" | as_root tee "$stamp" >/dev/null
	as_root rm -rf "$build"
}

# Point PG_CONFIG at PostgreSQL VERSION, installing it first: 15 from
# Debian's packages, 18 built from source (ensure_postgresql_18).
use_postgresql() {
	case $1 in
		15)
			ensure_build_dependencies
			PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
			;;
		18)
			ensure_packages make gcc libc6-dev
			ensure_postgresql_18
			PG_CONFIG=$PG18_PREFIX/bin/pg_config
			;;
		*)
			echo "tfguard: PostgreSQL $1 is not a version tfguard is tested on (15, 18)" >&2
			return 1
			;;
	esac
}
