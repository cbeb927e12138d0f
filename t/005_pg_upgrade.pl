# tfguard stands aside under pg_upgrade: with tfguard preloaded in both the
# old and the new cluster, pg_upgrade (which drops and truncates objects in
# the new cluster as part of its work) succeeds, and the guard is back in
# force once the new cluster runs normally.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TfguardTest;

my $old = new_guarded_node('old');
$old->safe_psql('postgres', q{
	CREATE TABLE kept (id int);
	INSERT INTO kept SELECT generate_series(1, 100);
	SELECT lo_from_bytea(0, 'large object');
});
$old->safe_psql('postgres', 'CREATE DATABASE app');
$old->safe_psql('app', 'CREATE TABLE t (id int); INSERT INTO t VALUES (1)');
$old->stop;

my $new = PostgreSQL::Test::Cluster->new('new');
$new->init;
$new->append_conf('postgresql.conf', "shared_preload_libraries = 'tfguard'");

my $bindir = $new->config_data('--bindir');
my $workdir = PostgreSQL::Test::Utils::tempdir;
chdir $workdir;
command_ok(
	[ 'pg_upgrade', '--no-sync',
	  '-b', $bindir, '-B', $bindir,
	  '-d', $old->data_dir, '-D', $new->data_dir,
	  '-p', $old->port, '-P', $new->port,
	  '-s', $new->host ],
	'pg_upgrade succeeds with tfguard preloaded in both clusters');

$new->start;
is($new->safe_psql('postgres', 'SELECT count(*) FROM kept'), '100',
	'data carried over');
is($new->safe_psql('app', 'SELECT count(*) FROM t'), '1',
	'other database carried over');
my ($ret, $out, $err) = $new->psql('app', 'DROP TABLE t');
like($err, qr/tfguard refused drop_table of table "public.t"/,
	'the guard is in force after the upgrade');
$new->stop;
done_testing();
