# Clients that loop on a refusal, as agents and pg_repack do (a new
# connection per attempt): the role's repeats are slowed down, 0.1 s
# doubling up to 10 s, before its next statement and not while the refused
# statement holds its locks; a role flooding refusals on many objects is
# slowed too; other roles are not; repeats keep a short statement in the
# trail and none in the server log; tfguard.refusal_pace = off turns it off.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use TfguardTest;

my $node = new_guarded_node('pace', 'tfguard.refusal_pace = on');
$node->safe_psql('postgres', q{
	CREATE ROLE agent LOGIN;
	CREATE ROLE app LOGIN;
	CREATE SCHEMA shop AUTHORIZATION agent;
	SET ROLE agent;
	CREATE TABLE shop.orders (id int);
	INSERT INTO shop.orders SELECT generate_series(1, 100);
	GRANT USAGE ON SCHEMA shop TO app;
	GRANT SELECT, INSERT ON shop.orders TO app;
});
for my $i (1 .. 30)
{
	$node->safe_psql('postgres',
		"SET ROLE agent; CREATE TABLE shop.t$i (id int); INSERT INTO shop.t$i VALUES (1)");
}

sub timed
{
	my ($role, $sql) = @_;
	my $start = time();
	my ($ret, $out, $err) =
	  $node->psql('postgres', $sql, extra_params => [ '-U', $role ]);
	return (time() - $start, $err);
}
sub details
{
	return $node->safe_psql('postgres',
		q{SELECT coalesce(detail, '') FROM tfguard.audit_log ORDER BY id});
}

# the same refusal, again and again, each from a new connection
my $long = 'DROP TABLE shop.orders /* ' . ('x' x 3000) . ' */';
my @elapsed;
for my $attempt (1 .. 6)
{
	my ($elapsed, $err) = timed('agent', $long);
	like($err, qr/tfguard refused drop_table/, "attempt $attempt refused");
	push @elapsed, $elapsed;
}
# waits before attempts 3..6: 0.1, 0.2, 0.4, 0.8 s
cmp_ok($elapsed[1], '<', 0.5, 'the first repeat does not wait');
cmp_ok($elapsed[5], '>=', 0.6, 'the fifth repeat waited about 0.8 s');
cmp_ok($elapsed[2] + $elapsed[3] + $elapsed[4] + $elapsed[5], '>=', 1.2,
	'the waits double');
like(details(), qr/repeat 5 of the same refusal of the role/, 'the trail counts the repeats');
like(details(), qr/repeat 5 .*the session waited [3-9]\d\d ms before this statement/,
	'and says how long the session waited');
is($node->safe_psql('postgres',
	q{SELECT string_agg(length(statement)::text, ',' ORDER BY id) FROM tfguard.audit_log WHERE operation = 'drop_table'}),
	'3029,200,200,200,200,200', 'the first refusal keeps its statement whole, repeats their start only');
my $log = slurp_file($node->logfile);
my $statements = () = $log =~ /STATEMENT:  DROP TABLE shop\.orders/g;
is($statements, 1, 'the server log has the statement of the first refusal only');
is($node->safe_psql('postgres', 'SELECT count(*) FROM shop.orders'), '100', 'rows intact');

# while the agent waits, other roles run as usual, on the same table too
my $agent = $node->background_psql('postgres', extra_params => [ '-U', 'agent' ],
	on_error_stop => 0);
my ($elapsed, $err) = timed('app', 'INSERT INTO shop.orders VALUES (101); SELECT count(*) FROM shop.orders');
cmp_ok($elapsed, '<', 0.5, 'another role is not slowed');
$agent->quit;

# refusals inside a SECURITY DEFINER function count against its owner, not
# against the role that called it through a view: the agent waits, the
# caller does not
$node->safe_psql('postgres', q{SELECT pg_sleep(10.5)});	# the repeats' wait is over
$node->safe_psql('postgres', q{
	SET ROLE agent;
	CREATE TABLE shop.bait (id int);
	INSERT INTO shop.bait VALUES (1);
	CREATE FUNCTION shop.stats() RETURNS int LANGUAGE plpgsql SECURITY DEFINER AS $$
	BEGIN
	  FOR i IN 1 .. 5 LOOP
	    BEGIN TRUNCATE shop.bait; EXCEPTION WHEN OTHERS THEN NULL; END;
	  END LOOP;
	  RETURN 1;
	END $$;
	CREATE VIEW shop.dashboard AS SELECT shop.stats() AS ok;
	GRANT SELECT ON shop.dashboard TO app;
});
timed('app', 'SELECT * FROM shop.dashboard');
($elapsed, $err) = timed('app', 'SELECT 1');
cmp_ok($elapsed, '<', 0.5, 'the caller of an agent\'s SECURITY DEFINER function is not slowed');
($elapsed, $err) = timed('agent', 'SELECT 1');
cmp_ok($elapsed, '>=', 0.1, 'the function\'s owner is');

# inside an open transaction block, no wait: earlier statements may hold
# locks others wait for
$node->safe_psql('postgres', q{SELECT pg_sleep(10.5)});
$agent = $node->background_psql('postgres', extra_params => [ '-U', 'agent' ],
	on_error_stop => 0);
$agent->query_safe('BEGIN');
$agent->query_safe('INSERT INTO shop.bait VALUES (2)');
for (1 .. 5) { timed('agent', 'TRUNCATE shop.t2'); }	# the role's next waits 0.8 s
my $start = time();
$agent->query_safe('SELECT 1');
cmp_ok(time() - $start, '<', 0.3, 'a statement inside an open transaction does not wait');
$agent->query_safe('COMMIT');
$agent->quit;

# a flood of refusals over many objects: after 20 within 10 s, the role waits
$node->safe_psql('postgres', q{SELECT pg_sleep(10.5)});	# the repeat's wait is over
my $flood = 0;
for my $i (1 .. 30)
{
	my ($e, $err) = timed('agent', "DELETE FROM shop.t$i");
	$flood += $e if $i > 22;
	like($err, qr/tfguard refused delete_all/, "flood $i refused") if $i == 1 || $i == 30;
}
cmp_ok($flood, '>=', 0.5, 'past 20 refusals in 10 s the role waits before each statement');
like(details(), qr/2[1-9] refusals of the role in 10 s/, 'the trail says the role is paced');

# a loop inside one statement, catching each refusal, never reaches a next
# statement's wait: past 20 refusals the session ends
my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM tfguard.audit_log');
my ($ret, $out);
($ret, $out, $err) = $node->psql('postgres', q{
	DO $$ BEGIN
	  FOR i IN 1 .. 100000 LOOP
	    BEGIN DELETE FROM shop.t1; EXCEPTION WHEN OTHERS THEN NULL; END;
	  END LOOP;
	END $$}, extra_params => [ '-U', 'agent' ]);
like($err, qr/tfguard ended the session: one statement or transaction met more than 20 refusals/,
	'a refusal loop in one statement ends the session');
is($node->safe_psql('postgres', "SELECT count(*) FROM tfguard.audit_log WHERE id > $before"),
	'21', 'after 21 refusals, each recorded');
is($node->safe_psql('postgres', 'SELECT count(*) FROM shop.t1'), '1', 'rows intact');
$node->safe_psql('postgres', q{SELECT pg_sleep(10.5)});	# the role's wait is over

# tfguard.refusal_pace = off: no waits
$node->append_conf('postgresql.conf', 'tfguard.refusal_pace = off');
$node->reload;
$node->poll_query_until('postgres', q{SELECT current_setting('tfguard.refusal_pace') = 'off'});
my $total = 0;
for my $attempt (1 .. 5)
{
	my ($e, $err) = timed('agent', 'DROP TABLE shop.orders');
	$total += $e;
}
cmp_ok($total, '<', 2.5, 'off: repeats are not slowed');
($ret, $out, $err) = $node->psql('postgres', 'ALTER SYSTEM SET tfguard.refusal_pace = on');
like($err, qr/tfguard refused reconfigure of setting/, 'the setting is reconfigure through SQL');

$node->stop;
done_testing();
