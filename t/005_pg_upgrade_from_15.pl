# tfguard across a major-version upgrade: pg_upgrade from a PostgreSQL 15
# cluster to one of the version under test (18), with tfguard preloaded in
# both, carries the audit trail over row for row; on the new cluster the
# guard is in force, the trail goes on numbering where it stopped and
# still cannot be changed.
#
# The old cluster runs from the install TFGUARD_UPGRADE_FROM names (its
# prefix, e.g. /usr/lib/postgresql/15), which must have tfguard installed;
# scripts/test.sh sets it in the PostgreSQL 18 run when PG_VERSIONS
# includes 15.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $old_install = $ENV{TFGUARD_UPGRADE_FROM} // '';
if ($old_install eq '')
{
	plan skip_all =>
	  'no older PostgreSQL to upgrade from: TFGUARD_UPGRADE_FROM names its install '
	  . '(scripts/test.sh sets it in the PostgreSQL 18 run when PG_VERSIONS includes 15)';
}

my $old = PostgreSQL::Test::Cluster->new('old', install_path => $old_install);
my $new = PostgreSQL::Test::Cluster->new('new');
ok($old->pg_version < $new->pg_version,
	"upgrading from PostgreSQL " . $old->pg_version . " to " . $new->pg_version);

# Data checksums are on by default from PostgreSQL 18 on, and pg_upgrade
# needs the same setting on both sides.
$old->init(extra => $old->pg_version < 18 && $new->pg_version >= 18 ? ['-k'] : []);
$old->append_conf('postgresql.conf', "shared_preload_libraries = 'tfguard'");
$old->start;
$old->safe_psql('postgres', q{
	CREATE EXTENSION tfguard;
	CREATE ROLE agent LOGIN CREATEDB;
	CREATE DATABASE app OWNER agent;
	CREATE DATABASE scratch OWNER agent;
});
$old->safe_psql('app', q{
	SET ROLE agent;
	CREATE TABLE orders (id int PRIMARY KEY, note text);
	INSERT INTO orders SELECT i, 'order ' || i FROM generate_series(1, 1000) i;
});

# refusals of every kind, in the home database and another one
for my $sql ('DROP TABLE orders', 'TRUNCATE orders', 'DELETE FROM orders',
	'DELETE FROM orders WHERE 1 = 1')
{
	my ($ret, $out, $err) = $old->psql('app', $sql, extra_params => [ '-U', 'agent' ]);
	like($err, qr/tfguard refused/, "15: \"$sql\" is refused");
}
my ($ret, $out, $err) = $old->psql('postgres', 'DROP DATABASE scratch',
	extra_params => [ '-U', 'agent' ]);
like($err, qr/tfguard refused drop_database/, '15: DROP DATABASE is refused');

my $trail_query = 'SELECT * FROM tfguard.audit_log ORDER BY id';
my $trail = $old->safe_psql('postgres', $trail_query);
my $rows = $old->safe_psql('postgres', 'SELECT count(*) FROM tfguard.audit_log');
my $last_id = $old->safe_psql('postgres', 'SELECT max(id) FROM tfguard.audit_log');
cmp_ok($rows, '>=', 5, "15: the trail holds the refusals ($rows rows)");
my $extversion = $old->safe_psql('postgres',
	"SELECT extversion FROM pg_extension WHERE extname = 'tfguard'");

# Debian's PostgreSQL 15.20 stamps every column it creates with an
# attribute option "pg_attver" that PostgreSQL 18.6 does not know, so
# pg_upgrade fails on any table, tfguard's or not (pg_restore: unrecognized
# parameter "pg_attver").  Clear that option from the user columns of every
# database first, as a DBA upgrading between these two releases must; the
# rows themselves are not touched.
for my $db (split /\n/,
	$old->safe_psql('postgres', 'SELECT datname FROM pg_database WHERE datallowconn'))
{
	my $cleared = $old->safe_psql($db, q{
		SET allow_system_table_mods = on;
		WITH cleared AS (
			UPDATE pg_attribute
			   SET attoptions = nullif(array(SELECT o FROM unnest(attoptions) o
											  WHERE o NOT LIKE 'pg_attver=%'), '{}')
			 WHERE attrelid >= 16384 AND attoptions::text LIKE '%pg_attver=%'
			RETURNING 1)
		SELECT count(*) FROM cleared;
	});
	note("$db: cleared pg_attver from $cleared columns") if $cleared;
}
$old->stop;

$new->init;
$new->append_conf('postgresql.conf', "shared_preload_libraries = 'tfguard'");

my $workdir = PostgreSQL::Test::Utils::tempdir;
chdir $workdir;
command_ok(
	[ 'pg_upgrade', '--no-sync',
	  '-b', $old->config_data('--bindir'), '-B', $new->config_data('--bindir'),
	  '-d', $old->data_dir, '-D', $new->data_dir,
	  '-p', $old->port, '-P', $new->port,
	  '-s', $new->host ],
	'pg_upgrade from 15 succeeds with tfguard preloaded in both clusters');

$new->start;
is($new->safe_psql('postgres', $trail_query), $trail,
	'the audit trail is carried over row for row');
is($new->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'tfguard'"),
	$extversion, 'the extension is carried over at its version');
is($new->safe_psql('app', 'SELECT count(*) FROM orders'), '1000',
	'the guarded table is carried over');

($ret, $out, $err) = $new->psql('app', 'DROP TABLE orders',
	extra_params => [ '-U', 'agent' ]);
like($err, qr/tfguard refused drop_table of table "public.orders"/,
	'the guard is in force after the upgrade');
my ($id) = $err =~ /audit id (\d+)/;
is($id, $last_id + 1, 'the trail numbers on where the old cluster stopped')
  or diag($err);

($ret, $out, $err) = $new->psql('postgres', 'DELETE FROM tfguard.audit_log');
like($err, qr/tfguard refused/, 'the carried-over trail still cannot be deleted');
is($new->safe_psql('postgres', "$trail_query LIMIT $rows"), $trail,
	'and is still intact');
$new->stop;
done_testing();
