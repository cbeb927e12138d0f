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
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
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

# Build warning-free and install into the PostgreSQL that PG_CONFIG names.
build_and_install() {
	echo "tfguard: building and installing with $PG_CONFIG"
	make -s -C "$TFGUARD_ROOT" PG_CONFIG="$PG_CONFIG" >/dev/null
	as_root make -s -C "$TFGUARD_ROOT" PG_CONFIG="$PG_CONFIG" install >/dev/null
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

# A copy of the source tree the unprivileged user can read and write.
copy_tree_for_unprivileged_user() {
	local dest
	dest=$(mktemp -d /tmp/tfguard-XXXXXX)
	tar -C "$TFGUARD_ROOT" --exclude=.git --exclude='tmp_check' --exclude='results' -cf - . | tar -C "$dest" -xf -
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
