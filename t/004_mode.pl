# tfguard.mode: enforce (default), warn (allow with a WARNING), off; a
# server setting that only the configuration file and a reload change.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TfguardTest;

my $node = new_guarded_node('mode');
$node->safe_psql('postgres', q{
	CREATE ROLE agent LOGIN;
	CREATE SCHEMA app AUTHORIZATION agent;
	SET ROLE agent;
	CREATE TABLE app.a (id int); INSERT INTO app.a VALUES (1), (2);
	CREATE TABLE app.b (id int); INSERT INTO app.b VALUES (1), (2);
	CREATE TABLE app.c (id int); INSERT INTO app.c VALUES (1), (2);
});

is($node->safe_psql('postgres', 'SHOW tfguard.mode'), 'enforce',
	'enforce is the default');

# No session can change the mode, superuser or not.
for my $sql ("SET tfguard.mode = 'off'",
	"SELECT set_config('tfguard.mode', 'off', false)",
	"UPDATE pg_settings SET setting = 'off' WHERE name = 'tfguard.mode'")
{
	my ($ret, $out, $err) = $node->psql('postgres', $sql);
	like($err, qr/cannot be changed now/, "refused: $sql");
}
my ($ret, $out, $err) =
  $node->psql('postgres', "ALTER ROLE agent SET tfguard.mode = 'off'");
like($err, qr/cannot be changed now/, 'refused: ALTER ROLE ... SET tfguard.mode');
{
	local $ENV{PGOPTIONS} = '-c tfguard.mode=off';
	($ret, $out, $err) = $node->psql('postgres', 'SELECT 1');
	isnt($ret, 0, 'refused: PGOPTIONS=-c tfguard.mode=off');
}

# warn: the operation runs, with a WARNING that names it.
$node->append_conf('postgresql.conf', "tfguard.mode = 'warn'");
$node->reload;
($ret, $out, $err) = $node->psql('postgres', 'DELETE FROM app.a',
	extra_params => [ '-U', 'agent' ]);
is($ret, 0, 'warn: DELETE without WHERE runs');
like($err, qr/WARNING:  tfguard would refuse delete_all of table "app.a"/,
	'warn: WARNING names the operation and the table');
like($err, qr/DETAIL:  The operation was allowed because tfguard.mode is "warn"./,
	'warn: DETAIL says why it was allowed');
($ret, $out, $err) = $node->psql('postgres', 'TRUNCATE app.b',
	extra_params => [ '-U', 'agent' ]);
like($err, qr/WARNING:  tfguard would refuse truncate of table "app.b"/,
	'warn: TRUNCATE runs with a WARNING');
is($node->safe_psql('postgres',
	'SELECT (SELECT count(*) FROM app.a) + (SELECT count(*) FROM app.b)'),
	'0', 'warn: the operations took effect');
is($node->safe_psql('postgres',
	"SELECT string_agg(operation || ':' || decision, ',' ORDER BY id) FROM tfguard.audit_log"),
	'delete_all:warned,truncate:warned', 'warn: both recorded as warned');
($ret, $out, $err) = $node->psql('postgres', 'DELETE FROM tfguard.audit_log');
like($err, qr/ERROR:  tfguard refused reconfigure of audit table "tfguard.audit_log"/,
	'warn: the audit trail stays protected');

# off: nothing is looked at.
$node->append_conf('postgresql.conf', "tfguard.mode = 'off'");
$node->reload;
($ret, $out, $err) = $node->psql('postgres', 'DROP TABLE app.a',
	extra_params => [ '-U', 'agent' ]);
is($ret, 0, 'off: DROP TABLE runs');
is($err, '', 'off: without a warning');

# Back to enforce with a reload.
$node->append_conf('postgresql.conf', "tfguard.mode = 'enforce'");
$node->reload;
($ret, $out, $err) = $node->psql('postgres', 'DROP TABLE app.c',
	extra_params => [ '-U', 'agent' ]);
like($err, qr/ERROR:  tfguard refused drop_table of table "app.c"/,
	'enforce again after reload');
is($node->safe_psql('postgres', 'SELECT count(*) FROM app.c'), '2',
	'enforce: data intact');

# A bad value in the configuration is rejected and the mode stays.
$node->append_conf('postgresql.conf', "tfguard.mode = 'maybe'");
$node->reload;
is($node->safe_psql('postgres', 'SHOW tfguard.mode'), 'enforce',
	'an invalid mode in the configuration is ignored');
ok($node->log_contains(qr/invalid value for parameter "tfguard.mode": "maybe"/),
	'and reported in the server log');

$node->stop;
done_testing();
