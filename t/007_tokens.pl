# Unlock tokens across sessions: pinned to the first session that presents
# one, for good; presented through PGOPTIONS; revoked while in use; and
# never written to the server log, even with log_statement = 'all' and an
# error in the same statement.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TfguardTest;

my $node = new_guarded_node('tokens', "log_statement = 'all'",
	'log_min_error_statement = error', 'log_min_duration_statement = 0',
	'max_prepared_transactions = 2');
$node->safe_psql('postgres', q{
	CREATE ROLE agent LOGIN CREATEDB;
	CREATE DATABASE victim OWNER agent;
	CREATE DATABASE app OWNER agent;
});
$node->safe_psql('app', q{
	SET ROLE agent;
	CREATE TABLE t1 (id int); INSERT INTO t1 VALUES (1);
	CREATE TABLE t2 (id int); INSERT INTO t2 VALUES (1);
	CREATE TABLE t3 (id int); INSERT INTO t3 VALUES (1);
	CREATE TABLE orders (id int); INSERT INTO orders VALUES (1);
	CREATE TABLE big (id int); INSERT INTO big SELECT generate_series(1, 1000);
});
my @secrets;

sub issue
{
	my ($args) = @_;
	my $secret = $node->safe_psql('postgres', "SELECT tfguard.issue_token($args)");
	push @secrets, $secret;
	return $secret;
}

sub as_agent
{
	my ($sql, %params) = @_;
	my ($ret, $out, $err) = $node->psql('app', $sql,
		extra_params => [ '-U', 'agent' ], %params);
	return ($ret, $err);
}

# ---- pinned to the first session, for good ----
my $pinned = issue(q{'agent', ARRAY['delete_all'], ARRAY['public.t1']});
my $first = $node->background_psql('app', extra_params => [ '-U', 'agent' ]);
$first->query_safe("SET tfguard.token = '$pinned'");
my ($ret, $err) = as_agent("SET tfguard.token = '$pinned'");
like($err, qr/tfguard unlock token rejected/, 'a second live session cannot present a pinned token');
like($err, qr/already presented by another session/, 'and is told why');
my $first_pid = $first->query_safe('SELECT pg_backend_pid()');
is($node->safe_psql('postgres',
	"SELECT query !~ 'tfg1_[0-9a-f]' FROM pg_stat_activity WHERE pid = $first_pid"),
	't', 'pg_stat_activity does not show the presenting statement with its secret');
$first->query_safe('DELETE FROM t1');
is($node->safe_psql('app', 'SELECT count(*) FROM t1'), '0',
	'the first session uses its token');
$first->quit;
($ret, $err) = as_agent("SET tfguard.token = '$pinned'");
like($err, qr/already presented by another session/,
	'after the first session ended, nobody else can present it');

# ---- the connection's options (PGOPTIONS) ----
my $via_options = issue(q{'agent', ARRAY['drop_table'], ARRAY['public.t2']});
($ret, my $out, $err) = $node->psql('app', 'SHOW tfguard.token; DROP TABLE t2;',
	extra_params => [ '-U', 'agent' ],
	connstr => "dbname=app options='-c tfguard.token=$via_options'");
like($out, qr/^token [0-9a-f]{12} \(secret hidden\)$/, 'options: presented at connection, shown masked');
is($ret, 0, 'options: the token unlocks its operation');
is($node->safe_psql('app', "SELECT to_regclass('t2') IS NULL"), 't', 'options: the table was dropped');
push @secrets, 'tfg1_00000000000000000000000000000000000000ff';
($ret, $out, $err) = $node->psql('app', 'SELECT 1',
	extra_params => [ '-U', 'agent' ],
	connstr => "dbname=app options='-c tfguard.token=tfg1_00000000000000000000000000000000000000ff'");
like($err, qr/tfguard unlock token rejected/, 'options: a forged token fails the connection');

# ---- revoked while in use ----
my $revoked = issue(q{'agent', ARRAY['delete_all', 'truncate']});
my $session = $node->background_psql('app', extra_params => [ '-U', 'agent' ],
	on_error_stop => 0);
$session->query_safe("SET tfguard.token = '$revoked'");
$node->safe_psql('postgres',
	"SELECT tfguard.revoke_token(id) FROM tfguard.tokens WHERE operations = 'truncate,delete_all'");
$session->query('TRUNCATE t3');
like($session->{stderr}, qr/tfguard refused truncate of table "public.t3"/,
	'revoked while in use: the next use is refused');
is($node->safe_psql('app', 'SELECT count(*) FROM t3'), '1', 'revoked: data intact');
$session->quit;

# ---- DROP DATABASE from another database, with a token for exactly it ----
my $dropdb = issue(q{'agent', ARRAY['drop_database'], ARRAY['victim']});
($ret, $out, $err) = $node->psql('postgres',
	"SET tfguard.token = '$dropdb'; DROP DATABASE app;",
	extra_params => [ '-U', 'agent' ]);
like($err, qr/tfguard refused drop_database of database "app"/, 'the token does not cover another database');
($ret, $out, $err) = $node->psql('postgres',
	"SET tfguard.token = '$dropdb'",
	extra_params => [ '-U', 'agent' ]);
like($err, qr/already presented by another session/, 'one session per token, also for DROP DATABASE');
my $dropdb2 = issue(q{'agent', ARRAY['drop_database'], ARRAY['victim']});
($ret, $out, $err) = $node->psql('postgres', "SET tfguard.token = '$dropdb2'; DROP DATABASE victim;",
	extra_params => [ '-U', 'agent' ]);
is($ret, 0, 'DROP DATABASE of exactly the unlocked database goes through');
is($node->safe_psql('postgres',
	"SELECT decision || ' ' || (token_id IS NOT NULL) FROM tfguard.audit_log WHERE operation = 'drop_database' AND object_name = 'victim'"),
	'allowed true', 'and is recorded as allowed with the token id');

# ---- a token names an object; another table given that name is not it ----
my $named = issue(q{'agent', ARRAY['drop_table'], ARRAY['public.t3']});
($ret, $err) = as_agent("SET tfguard.token = '$named';"
	  . ' BEGIN; ALTER TABLE t3 RENAME TO t3_keep; ALTER TABLE orders RENAME TO t3;'
	  . ' DROP TABLE t3; COMMIT;');
like($err, qr/was renamed, moved or altered after the token was issued/,
	'rename another table to the token\'s name: refused');
is($node->safe_psql('app', 'SELECT count(*) FROM orders'), '1', 'rename trick: orders intact');
my $schema_trick = issue(q{'agent', ARRAY['drop_table'], ARRAY['public.t3']});
$node->safe_psql('app', 'CREATE SCHEMA other AUTHORIZATION agent');
($ret, $err) = as_agent("SET tfguard.token = '$schema_trick';"
	  . ' ALTER TABLE orders SET SCHEMA other; DROP TABLE other.orders;');
like($err, qr/tfguard refused drop_table of table "other.orders"/, 'moving a table elsewhere does not help');

# ---- RESET ends a token from the connection's options too ----
my $reset = issue(q{'agent', ARRAY['truncate'], ARRAY['public.t3']});
for my $ending ('RESET tfguard.token', 'RESET ALL', 'DISCARD ALL')
{
	my $tok = issue(q{'agent', ARRAY['truncate'], ARRAY['public.big']});
	($ret, $out, $err) = $node->psql('app', "$ending; TRUNCATE big;",
		extra_params => [ '-U', 'agent' ],
		connstr => "dbname=app options='-c tfguard.token=$tok'");
	like($err, qr/tfguard refused truncate of table "public.big"/, "$ending ends a token presented at connection");
}

# RESET ends a token presented with SET for good: presenting it again fails
my $again = issue(q{'agent', ARRAY['truncate'], ARRAY['public.big']});
($ret, $err) = as_agent("SET tfguard.token = '$again'; RESET tfguard.token; SET tfguard.token = '$again';");
like($err, qr/ended it with RESET/, 'a token ended with RESET cannot be presented again');

# ---- time of check is time of use: a plan prepared while unlocked ----
my $prepared = issue(q{'agent', ARRAY['delete_all'], ARRAY['public.big']});
($ret, $err) = as_agent("SET tfguard.token = '$prepared';"
	  . ' PREPARE wipe AS DELETE FROM big; SET plan_cache_mode = force_generic_plan;'
	  . ' PREPARE wipe_generic AS DELETE FROM big WHERE true;'
	  . ' RESET tfguard.token; EXECUTE wipe;');
like($err, qr/tfguard refused delete_all of table "public.big"/,
	'a statement prepared while unlocked is refused once the unlock ended');
is($node->safe_psql('app', 'SELECT count(*) FROM big'), '1000', 'prepared while unlocked: rows intact');

# ---- parallel queries work in a session holding a token ----
my $parallel = issue(q{'agent', ARRAY['delete_all'], ARRAY['public.nothing']});
# force_parallel_mode was renamed debug_parallel_query in PostgreSQL 16
my $force_parallel = $node->pg_version >= 16 ? 'debug_parallel_query' : 'force_parallel_mode';
($ret, $out, $err) = $node->psql('app',
	"SET tfguard.token = '$parallel'; SET $force_parallel = on; SELECT count(*) FROM big;",
	extra_params => [ '-U', 'agent' ]);
is($ret, 0, 'a parallel query runs in a session holding a token') or diag($err);

# ---- a prepared transaction cannot carry an unlock past its end ----
my $twophase = issue(q{'agent', ARRAY['delete_all'], ARRAY['public.big']});
($ret, $out, $err) = $node->psql('app',
	"SET tfguard.token = '$twophase'; BEGIN; DELETE FROM big; PREPARE TRANSACTION 'later';",
	extra_params => [ '-U', 'agent' ]);
like($err, qr/cannot prepare a transaction that used a tfguard unlock/, 'PREPARE TRANSACTION refused');
is($node->safe_psql('app', 'SELECT count(*) FROM big'), '1000', '2PC: rows intact');

# ---- the secret never reaches the server log ----
my $logged = issue(q{'agent', ARRAY['truncate']});
as_agent("SET tfguard.token = '$logged'; SELECT 1/0;");
my $bad = 'tfg1_' . ('ab' x 20);
push @secrets, $bad;
as_agent("SELECT set_config('tfguard.token', '$bad', false)");
as_agent("SET tfguard.token = '$bad'");
# the same secret spelled without its prefix
my $spelled = issue(q{'agent', ARRAY['truncate']});
(my $hex = $spelled) =~ s/^tfg1_//;
as_agent("SET tfguard.token = E'\\x74fg1_$hex'");
as_agent("DO \$\$ BEGIN PERFORM set_config('tfguard.token', 'tfg1' || '_$hex', false); PERFORM 1/0; END \$\$");
my $log = slurp_file($node->logfile);
like($log, qr/statement: SET tfguard.token = 'tfg1_\[redacted\]'/,
	'log_statement = all: the statement is logged with the secret redacted');
my $leaks = grep { index($log, $_) >= 0 } @secrets;
is($leaks, 0, 'no secret, issued or forged, appears anywhere in the server log');
unlike($log, qr/tfg1_[0-9a-f]{8}|(?<![0-9a-f])[0-9a-f]{40}(?![0-9a-f])/,
	'nothing that looks like a secret does, whatever its spelling');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM tfguard.audit_log WHERE statement ~ 'tfg1_[0-9a-f]' OR detail ~ 'tfg1_[0-9a-f]'"),
	'0', 'nor does the audit trail');

$node->stop;
done_testing();
