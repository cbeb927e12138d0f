# Approvals: the agent is refused, a human approves the refused attempt by
# its audit id, and the same session runs its statement again; nobody else
# gains anything.  Also: tfguard.pending with the impact, NOTIFY on
# tfguard_pending, deny, self-approval, ended sessions, expiry.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TfguardTest;

my $node = new_guarded_node('approvals');
$node->safe_psql('postgres', q{
	CREATE ROLE agent LOGIN;
	CREATE ROLE human LOGIN IN ROLE tfguard_admin;
	CREATE DATABASE app OWNER agent;
});
$node->safe_psql('app', q{
	SET ROLE agent;
	CREATE TABLE orders (id int PRIMARY KEY);
	INSERT INTO orders SELECT generate_series(1, 1000);
	CREATE TABLE customers (id int);
	INSERT INTO customers VALUES (1);
	CREATE VIEW recent_orders AS SELECT * FROM orders WHERE id > 900;
	ANALYZE orders, customers;
});

sub agent_session
{
	return session_as($node, 'app', 'agent');
}

sub as_human
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql,
		extra_params => [ '-U', 'human' ]);
	return ($ret, $out, $err);
}

# A human's tool listens for new requests.
my $listener = $node->background_psql('postgres', extra_params => [ '-U', 'human' ]);
$listener->query_safe('LISTEN tfguard_pending');

# ---- refused, pending with its impact, approved, run again ----
my $agent = agent_session();
my $err = try_in($agent, 'DROP TABLE orders CASCADE');
like($err, qr/tfguard refused drop_table of table "public.orders"/, 'the agent is refused');
my ($request) = $err =~ /audit id (\d+)/;
like($err, qr/HINT:  .*SELECT tfguard\.approve\($request\); in database "postgres"/,
	'the hint tells the agent what to relay to its human');

my $notified = $listener->query_safe('SELECT 1');
like($listener->{stdout} . $notified, qr/tfguard_pending.*payload "$request"|$request/,
	'a NOTIFY on tfguard_pending carries the audit id');

my (undef, $pending) = as_human(
	'SELECT audit_id, role, database_name, operation, object_name, impact FROM tfguard.pending');
like($pending, qr/^$request\|agent\|app\|drop_table\|public\.orders\|about 1000 rows, \d+ kB; the statement was also removing: view recent_orders/m,
	'pending shows the request with the rows, size and what a CASCADE takes');

my ($ret, $out);
($ret, $out, $err) = as_human("SELECT tfguard.approve($request, '10 minutes', 'planned cleanup')");
is($ret, 0, 'the human approves it') or diag($err);
(undef, $pending) = as_human('SELECT count(*) FROM tfguard.pending');
is($pending, '0', 'the request leaves pending');

# another session of the same role gains nothing
my $other = agent_session();
$err = try_in($other, 'DROP TABLE orders CASCADE');
like($err, qr/tfguard refused drop_table/, 'another session of the same role is still refused');
# the approved session: another object, another operation stay refused
$err = try_in($agent, 'DROP TABLE customers');
like($err, qr/tfguard refused drop_table of table "public.customers"/, 'another object stays refused');
$err = try_in($agent, 'TRUNCATE orders');
like($err, qr/tfguard refused truncate of table "public.orders"/, 'another operation stays refused');
$err = try_in($agent, 'DROP TABLE orders CASCADE');
unlike($err, qr/ERROR/, 'the approved session runs its statement again');
is($node->safe_psql('app', "SELECT to_regclass('orders') IS NULL"), 't', 'the table is gone');
is($node->safe_psql('postgres',
	"SELECT string_agg(operation || ':' || decision || ':' || (refers_to = $request), ',' ORDER BY id)"
	  . " FROM tfguard.audit_log WHERE refers_to = $request"),
	'approve:allowed:true,drop_table:allowed:true',
	'the approval and its use are in the trail, both referring to the request');
$other->quit;

# ---- one approval per request; deny ends a live one ----
$err = try_in($agent, 'TRUNCATE customers');
my ($twice) = $err =~ /audit id (\d+)/;
($ret, $out, $err) = as_human("SELECT tfguard.approve($twice), tfguard.approve($twice)");
like($err, qr/was already approved/, 'the same request cannot be approved twice at once');
as_human("SELECT tfguard.approve($twice)");
as_human("SELECT tfguard.deny($twice, 'changed my mind')");
$err = try_in($agent, 'TRUNCATE customers');
like($err, qr/tfguard refused truncate/, 'deny ends an approval not used yet');

# ---- a transaction that held an xid when the approval was given ----
$err = try_in($agent, 'BEGIN; SELECT txid_current(); SAVEPOINT a; DROP TABLE customers;');
my ($held) = $err =~ /audit id (\d+)/;
try_in($agent, 'ROLLBACK TO a');
$node->safe_psql('app', 'SET ROLE agent; CREATE TABLE precious (id int); INSERT INTO precious VALUES (1)');
as_human("SELECT tfguard.approve($held)");
$err = try_in($agent, 'ALTER TABLE customers RENAME TO customers_keep;'
	  . ' ALTER TABLE precious RENAME TO customers; DROP TABLE customers;');
like($err, qr/tfguard refused drop_table of table "public.customers"/,
	'renames by a transaction older than the approval do not redirect it');
try_in($agent, 'ROLLBACK');
is($node->safe_psql('app', 'SELECT count(*) FROM precious'), '1', 'the other table is intact');

# ---- deny, self-approval, unknown ids, an ended session, expiry ----
$err = try_in($agent, 'DELETE FROM customers');
my ($denied) = $err =~ /audit id (\d+)/;
as_human("SELECT tfguard.deny($denied, 'not today')");
(undef, $out) = as_human("SELECT count(*) FROM tfguard.pending WHERE audit_id = $denied");
is($out, '0', 'a denied request leaves pending');
($ret, $out, $err) = as_human("SELECT tfguard.approve($denied)");
like($err, qr/was already denied/, 'and cannot be approved afterwards');
$err = try_in($agent, 'DELETE FROM customers');
like($err, qr/tfguard refused delete_all/, 'deny unlocks nothing');

($ret, $out, $err) = $node->psql('postgres', "SELECT tfguard.approve($denied)",
	extra_params => [ '-U', 'agent' ]);
like($err, qr/permission denied/, 'the agent cannot approve');
$node->safe_psql('postgres', 'GRANT tfguard_admin TO agent');
$err = try_in($agent, 'DELETE FROM customers');
my ($own) = $err =~ /audit id (\d+)/;
($ret, $out, $err) = $node->psql('postgres', "SELECT tfguard.approve($own)",
	extra_params => [ '-U', 'agent' ]);
like($err, qr/cannot decide on an attempt made by your own role/,
	'even a tfguard_admin member cannot approve its own attempt');
$node->safe_psql('postgres', 'REVOKE tfguard_admin FROM agent');
($ret, $out, $err) = as_human('SELECT tfguard.approve(999999)');
like($err, qr/audit id 999999 does not exist/, 'an unknown id is an error');

# a short approval runs out
$err = try_in($agent, 'DELETE FROM customers');
my ($short) = $err =~ /audit id (\d+)/;
as_human("SELECT tfguard.approve($short, '1 second')");
sleep 2;
$err = try_in($agent, 'DELETE FROM customers');
like($err, qr/tfguard refused delete_all/, 'an expired approval unlocks nothing');

# the session that was refused has ended
$err = try_in($agent, 'TRUNCATE customers');
my ($ended) = $err =~ /audit id (\d+)/;
$agent->quit;
$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE usename = 'agent'") or die;
(undef, $out) = as_human("SELECT session_live FROM tfguard.pending WHERE audit_id = $ended");
is($out, 'f', 'an ended session\'s request is still pending, marked so');
($ret, $out, $err) = as_human("SELECT tfguard.approve($ended)");
is($ret, 0, 'and can be approved, for a new session of the role to claim');
my $later = agent_session();
$err = try_in($later, 'TRUNCATE customers');
like($err, qr/tfguard refused truncate/, 'a new session of the agent that claims nothing gains nothing');
like($err, qr/From a new connection, run SET tfguard.approval = \d+ first/,
	'the refusal says how a new connection claims an approval');
$err = try_in($later, 'SET tfguard.approval = 999999');
like($err, qr/approval of audit id 999999 cannot be claimed/, 'an approval that does not exist cannot be claimed');
$err = try_in($later, "SET tfguard.approval = $ended; TRUNCATE customers");
is($err, '', 'claimed with SET tfguard.approval, the approved statement runs');
is($node->safe_psql('app', 'SELECT count(*) FROM customers'), '0', 'it ran');
$node->safe_psql('app', 'INSERT INTO customers VALUES (1)');
$err = try_in($later, 'TRUNCATE customers');
like($err, qr/tfguard refused truncate/, 'once: the committed use consumed the approval');
is($node->safe_psql('app', 'SELECT count(*) FROM customers'), '1', 'data intact');
(undef, $out) = as_human("SELECT count(*) FROM tfguard.audit_log WHERE operation = 'claim_approval' AND refers_to = $ended");
is($out, '1', 'the claim is in the trail');
$later->quit;
$listener->quit;

$node->stop;
done_testing();
