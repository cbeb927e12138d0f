# Judged by consequence, as an agent runs it (one connection per command):
# what the statistics say does not change the verdict on "every row",
# "all but one" or "90%"; deferred triggers are judged at commit;
# track_counts off fails closed; tfguard.guarded, max_share and min_rows
# come from the configuration file and a reload only, and reconfigure
# can never be left out.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TfguardTest;

my $node = new_guarded_node('blast');
$node->safe_psql('postgres', q{
	CREATE ROLE agent LOGIN;
	CREATE SCHEMA app AUTHORIZATION agent;
	SET ROLE agent;
	CREATE TABLE app.orders (id int PRIMARY KEY, amount int);
	INSERT INTO app.orders SELECT g, g FROM generate_series(1, 2000) g;
});

# one-shot connections, as agents run commands
sub agent
{
	my ($sql) = @_;
	my ($ret, $out, $err) =
	  $node->psql('postgres', $sql, extra_params => [ '-U', 'agent' ]);
	return ($ret, $err);
}
sub rows
{
	return $node->safe_psql('postgres', 'SELECT count(*) FROM app.orders');
}
sub audited
{
	my ($operation) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM tfguard.audit_log WHERE operation = '$operation'");
}

my ($ret, $err) = agent('DELETE FROM app.orders WHERE id > 0');
like($err, qr/tfguard refused mass_delete of table "app.orders"/,
	'one-shot: DELETE ... WHERE id > 0 refused');
like($err, qr/remove or overwrite 2000 of the 2000 rows/, 'the refusal gives exact counts');
is(rows(), 2000, 'rows intact');

# Statistics that agree, that are missing, and that were reset: the same
# verdicts.
$node->safe_psql('postgres',
	'ANALYZE app.orders; SELECT pg_stat_force_next_flush()');
for my $stats ('flushed statistics', 'reset statistics')
{
	for my $case ([ 'every row', 'id > 0' ], [ 'all but one', 'id > 1' ],
		[ '90%', 'id > 200' ])
	{
		($ret, $err) = agent("DELETE FROM app.orders WHERE $case->[1]");
		like($err, qr/refused mass_delete/, "$stats: $case->[0] refused");
	}
	($ret, $err) = agent('DELETE FROM app.orders WHERE id > 1800');
	is($ret, 0, "$stats: 10% goes through");
	$node->safe_psql('postgres',
		'INSERT INTO app.orders SELECT g, g FROM generate_series(1801, 2000) g');
	$node->safe_psql('postgres',
		q{SELECT pg_stat_reset_single_table_counters('app.orders'::regclass)});
}
is(rows(), 2000, 'rows intact after every refusal');

# Statistics that say the table is ten times larger than it is: "every
# row" and "all but one" are still refused (a look at the table itself).
$node->safe_psql('postgres', q{
	CREATE TABLE app.bloated (id int) WITH (autovacuum_enabled = off);
	ALTER TABLE app.bloated OWNER TO agent;
	INSERT INTO app.bloated SELECT generate_series(1, 20000);
	SELECT pg_stat_force_next_flush();
});
# the agent's role removes 18000 rows with the guard's blessing: a token
($ret, my $out, $err) = $node->psql('postgres', q{
	SELECT tfguard.issue_token('agent', ARRAY['mass_delete'], ARRAY['app.bloated'], '5 min')
});
my ($secret) = $out =~ /(tfg1_\S+)/;
$node->safe_psql('postgres', "SET tfguard.token = '$secret'; DELETE FROM app.bloated WHERE id > 2000",
	extra_params => [ '-U', 'agent' ]);
$node->safe_psql('postgres', 'SELECT pg_stat_force_next_flush()');
($ret, $err) = agent('DELETE FROM app.bloated WHERE id > 0');
like($err, qr/refused mass_delete/, 'statistics behind: every row refused');
($ret, $err) = agent('DELETE FROM app.bloated WHERE id > 1');
like($err, qr/refused mass_delete/, 'statistics behind: all but one refused');
is($node->safe_psql('postgres', 'SELECT count(*) FROM app.bloated'), 2000,
	'rows intact');

# A deferred constraint trigger that empties the table at commit.
$node->safe_psql('postgres', q{
	SET ROLE agent;
	CREATE TABLE app.marks (id int);
	CREATE FUNCTION app.wipe() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN DELETE FROM app.orders WHERE id > 0; RETURN NULL; END $$;
	CREATE CONSTRAINT TRIGGER wipe AFTER INSERT ON app.marks
		DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION app.wipe();
});
($ret, $err) = agent('BEGIN; INSERT INTO app.marks VALUES (1); COMMIT;');
like($err, qr/refused mass_delete/, 'a deferred trigger is judged before commit');
is(rows(), 2000, 'rows intact');
$node->safe_psql('postgres', 'DROP TRIGGER wipe ON app.marks');

# track_counts off: nothing can be counted, every change of a guarded
# table is refused.
($ret, $out, $err) = $node->psql('postgres',
	'SET track_counts = off; DELETE FROM app.orders WHERE id = 1');
like($err, qr/because track_counts is off/, 'track_counts off: fails closed');
is(rows(), 2000, 'rows intact');

# A superuser's trigger that turns the counters off and on within the
# statement unlinks them from the table: still judged.
$node->safe_psql('postgres', q{
	CREATE FUNCTION app.unlink() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		PERFORM set_config('track_counts', 'off', true);
		PERFORM 1 FROM app.orders LIMIT 1;
		PERFORM set_config('track_counts', 'on', true);
		RETURN NULL;
	END $$;
	CREATE TRIGGER unlink AFTER DELETE ON app.orders
		FOR EACH STATEMENT EXECUTE FUNCTION app.unlink();
});
($ret, $out, $err) = $node->psql('postgres', 'DELETE FROM app.orders WHERE id > 0');
like($err, qr/refused mass_delete/, 'counters unlinked mid-statement: still judged');
is(rows(), 2000, 'rows intact');
# ... and one that turns them off for the rest of the statement
$node->safe_psql('postgres', q{
	CREATE OR REPLACE FUNCTION app.unlink() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		PERFORM set_config('track_counts', 'off', true);
		RETURN NULL;
	END $$;
	DROP TRIGGER unlink ON app.orders;
	CREATE TRIGGER unlink BEFORE DELETE ON app.orders
		FOR EACH STATEMENT EXECUTE FUNCTION app.unlink();
});
($ret, $out, $err) = $node->psql('postgres', 'DELETE FROM app.orders WHERE id > 0');
like($err, qr/because track_counts is off/, 'counters turned off mid-statement: fails closed');
is(rows(), 2000, 'rows intact');
$node->safe_psql('postgres', 'DROP TRIGGER unlink ON app.orders');

# DROP COLUMN in a repeatable-read transaction older than the table's rows
$node->safe_psql('postgres', q{
	SET ROLE agent;
	CREATE TABLE app.late (id int, secret text);
});
my $old = session_as($node, 'postgres', 'agent');
$old->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1');
$node->safe_psql('postgres',
	q{INSERT INTO app.late SELECT g, 's' FROM generate_series(1, 200) g});
$err = try_in($old, 'ALTER TABLE app.late DROP COLUMN secret');
like($err, qr/refused drop_column/, 'a snapshot older than the rows does not hide them');
$old->quit;
is($node->safe_psql('postgres', q{SELECT count(secret) FROM app.late}), 200,
	'the column is intact');

# One decision per statement: DROP SCHEMA ... CASCADE over 30 tables is
# refused once, with all of them; one approval lets exactly those go, and
# a table added since is refused again.
$node->safe_psql('postgres', q{
	CREATE ROLE dba LOGIN IN ROLE tfguard_admin;
	CREATE SCHEMA shop AUTHORIZATION agent;
	SET ROLE agent;
	SELECT format('CREATE TABLE shop.t%s (id int); INSERT INTO shop.t%s VALUES (1)', g, g)
	  FROM generate_series(1, 30) g \gexec
});
my $blocked_before = $node->safe_psql('postgres',
	q{SELECT count(*) FROM tfguard.audit_log WHERE decision = 'blocked'});
my $shop = session_as($node, 'postgres', 'agent');
$err = try_in($shop, 'DROP SCHEMA shop CASCADE');
like($err, qr/would also destroy 29 more: .* and 19 more\. The attempt was recorded as audit id (\d+)/,
	'one refusal names the 30 tables (10 by name, the rest counted)');
my ($request) = $err =~ /audit id (\d+)/;
is($node->safe_psql('postgres', q{SELECT count(*) FROM tfguard.pending WHERE object_name LIKE 'shop.%'}), 1,
	'one request awaits a decision');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM tfguard.audit_log WHERE refers_to = $request AND decision = 'blocked'"),
	29, 'the other 29 are recorded as part of it');
($ret, $out, $err) = $node->psql('postgres',
	'SELECT tfguard.approve(' . ($request + 1) . ')', extra_params => [ '-U', 'dba' ]);
like($err, qr/is part of the statement refused as audit id $request/,
	'a part cannot be decided on by itself');
$node->safe_psql('postgres', q{SET ROLE agent; CREATE TABLE shop.late (id int); INSERT INTO shop.late VALUES (1)});
$node->safe_psql('postgres', "SELECT tfguard.approve($request)", extra_params => [ '-U', 'dba' ]);
$err = try_in($shop, 'DROP SCHEMA shop CASCADE');
like($err, qr/refused drop_table of table "shop.late"/,
	'the approval does not reach a table added since it was given');
unlike($err, qr/more:/, 'and that table alone is refused');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_tables WHERE schemaname = 'shop'}), 31,
	'nothing was dropped');
($request) = $err =~ /audit id (\d+)/;
$node->safe_psql('postgres', "SELECT tfguard.approve($request)", extra_params => [ '-U', 'dba' ]);
$err = try_in($shop, 'DROP SCHEMA shop CASCADE');
unlike($err, qr/ERROR/, 'with both approvals the statement goes through');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_namespace WHERE nspname = 'shop'}), 0,
	'the schema is gone');
$shop->quit;

# tfguard.window: autocommit batches of a role, from several sessions, add
# up; the batch that crosses the limit is refused, those before it stay
# done.  A queue whose worker inserts and deletes all day is never refused.
$node->safe_psql('postgres', q{
	SET ROLE agent;
	CREATE TABLE app.batches (id int PRIMARY KEY);
	INSERT INTO app.batches SELECT generate_series(1, 1000);
	CREATE TABLE app.queue (id serial PRIMARY KEY, job text);
	INSERT INTO app.queue (job) SELECT 'j' FROM generate_series(1, 200);
});
($ret, $err) = agent('DELETE FROM app.batches WHERE id <= 200');
is($ret, 0, 'window: a first batch of 20% goes through');
($ret, $err) = agent('DELETE FROM app.batches WHERE id > 200 AND id <= 400');
is($ret, 0, 'a second batch, from another session, goes through (40%)');
($ret, $err) = agent('DELETE FROM app.batches WHERE id > 400 AND id <= 600');
like($err, qr/refused mass_delete.*remove or overwrite 600 of the 1000 rows.*Of those, 400 were removed by earlier transactions/s,
	'the third, crossing 50% with the earlier ones, is refused and says so');
is($node->safe_psql('postgres', 'SELECT count(*) FROM app.batches'), 600,
	'the batches before it stay done');
for my $round (1 .. 15)
{
	($ret, $err) = agent(q{INSERT INTO app.queue (job) SELECT 'j' FROM generate_series(1, 100)});
	($ret, $err) = agent(q{DELETE FROM app.queue WHERE id IN (SELECT id FROM app.queue ORDER BY id LIMIT 100)});
	last if $ret != 0;
}
is($ret, 0, 'a queue worker that inserts and deletes 1,500 jobs of a 200-row table is not refused')
  or diag($err);

# An approval covers what the human saw and no more: DELETE FROM customers
# approved (10 rows shown); the agent then makes orders follow customers
# with ON DELETE CASCADE; the approved DELETE would also empty orders.
$node->safe_psql('postgres', q{
	SET ROLE agent;
	CREATE TABLE app.customers (id int PRIMARY KEY);
	INSERT INTO app.customers SELECT generate_series(1, 10);
	CREATE TABLE app.corders (id int PRIMARY KEY, customer int
		CONSTRAINT follows REFERENCES app.customers);
	INSERT INTO app.corders SELECT g, 1 + g % 10 FROM generate_series(1, 100) g;
});
my $cust = session_as($node, 'postgres', 'agent');
$err = try_in($cust, 'DELETE FROM app.customers');
like($err, qr/refused delete_all of table "app.customers"/, 'DELETE FROM customers refused');
($request) = $err =~ /audit id (\d+)/;
$node->safe_psql('postgres', "SELECT tfguard.approve($request)", extra_params => [ '-U', 'dba' ]);
$err = try_in($cust, q{ALTER TABLE app.corders DROP CONSTRAINT follows,
		ADD CONSTRAINT follows FOREIGN KEY (customer) REFERENCES app.customers ON DELETE CASCADE});
is($err, '', 'the agent makes orders follow customers with ON DELETE CASCADE');
$err = try_in($cust, 'DELETE FROM app.customers');
like($err, qr/refused mass_delete of table "app.corders"/,
	'the approved DELETE that now cascades into orders is refused again');
is($node->safe_psql('postgres',
	'SELECT (SELECT count(*) FROM app.customers) || \'/\' || (SELECT count(*) FROM app.corders)'),
	'10/100', 'customers and orders intact');
$cust->quit;

# An approval of a mass removal covers the rows the human saw, and a tenth
# more: not 90% when 60% was approved.
$node->safe_psql('postgres', q{
	SET ROLE agent;
	CREATE TABLE app.counted (id int PRIMARY KEY);
	INSERT INTO app.counted SELECT generate_series(1, 1000);
});
my $counted = session_as($node, 'postgres', 'agent');
$err = try_in($counted, 'DELETE FROM app.counted WHERE id <= 600');
like($err, qr/remove or overwrite 600 of the 1000 rows/, '600 of 1000 refused');
($request) = $err =~ /audit id (\d+)/;
$node->safe_psql('postgres', "SELECT tfguard.approve($request)", extra_params => [ '-U', 'dba' ]);
$err = try_in($counted, 'DELETE FROM app.counted WHERE id <= 900');
like($err, qr/it approved removing or overwriting 600 rows of "app.counted", 660 with the tolerance, and the transaction reached 900/,
	'the approval does not stretch to 900');
$err = try_in($counted, 'DELETE FROM app.counted WHERE id <= 650');
is($err, '', 'and covers 650 (within a tenth more)');
is($node->safe_psql('postgres', 'SELECT count(*) FROM app.counted'), 350, 'exactly those went');
$counted->quit;

# An agent that opens a connection per command: refused, approved by a
# human, and the approved statement runs once from a new connection that
# claims the approval, with no secret.
$node->safe_psql('postgres', q{
	SET ROLE agent;
	CREATE TABLE app.oneshot (id int); INSERT INTO app.oneshot VALUES (1);
	CREATE TABLE app.oneshot2 (id int); INSERT INTO app.oneshot2 VALUES (1);
});
($ret, $err) = agent('DROP TABLE app.oneshot');
like($err, qr/From a new connection, run SET tfguard.approval = (\d+) first/, 'one-shot: refused, with the claim to make');
($request) = $err =~ /approval = (\d+)/;
$node->safe_psql('postgres', "SELECT tfguard.approve($request)", extra_params => [ '-U', 'dba' ]);
{
	local $ENV{PGOPTIONS} = "-c tfguard.approval=$request";
	($ret, $err) = agent('DROP TABLE app.oneshot2');
	like($err, qr/refused drop_table of table "app.oneshot2"/, 'the claim covers the approved table only');
	($ret, $err) = agent('DROP TABLE app.oneshot');
	is($ret, 0, 'a new connection claiming it with PGOPTIONS runs the approved statement') or diag($err);
	($ret, $err) = agent('SELECT 1');
	like($err, qr/cannot be claimed because it has not been approved, or its approval was denied, used/,
		'used once: a later connection cannot claim it again');
}

# The third attack review's routes.
# An approval of 600 rows does not let the rest go in the same transaction.
$node->safe_psql('postgres', q{
	SET ROLE agent;
	CREATE TABLE app.rest (id int PRIMARY KEY);
	INSERT INTO app.rest SELECT generate_series(1, 1000);
});
my $rest = session_as($node, 'postgres', 'agent');
$err = try_in($rest, 'DELETE FROM app.rest WHERE id <= 600');
($request) = $err =~ /audit id (\d+)/;
$node->safe_psql('postgres', "SELECT tfguard.approve($request)", extra_params => [ '-U', 'dba' ]);
$err = try_in($rest, 'BEGIN; DELETE FROM app.rest WHERE id <= 600; DELETE FROM app.rest WHERE id > 605; COMMIT;');
like($err, qr/it approved removing or overwriting 600 rows/, 'the rest of the table in the same transaction is refused');
is($node->safe_psql('postgres', 'SELECT count(*) FROM app.rest'), 1000, 'rows intact');
$rest->quit;

# An approval of dropping one column does not drop another.
$node->safe_psql('postgres', q{
	SET ROLE agent;
	CREATE TABLE app.cols (id int, junk text, precious text);
	INSERT INTO app.cols VALUES (1, 'j', 'p');
});
($ret, $err) = agent('ALTER TABLE app.cols DROP COLUMN junk');
($request) = $err =~ /audit id (\d+)/;
$node->safe_psql('postgres', "SELECT tfguard.approve($request)", extra_params => [ '-U', 'dba' ]);
{
	local $ENV{PGOPTIONS} = "-c tfguard.approval=$request";
	($ret, $err) = agent('ALTER TABLE app.cols DROP COLUMN precious');
	like($err, qr/refused drop_column of table "app.cols"/, 'an approval of one column does not cover another');
	($ret, $err) = agent('ALTER TABLE app.cols DROP COLUMN junk');
	is($ret, 0, 'and covers the one approved') or diag($err);
}
is($node->safe_psql('postgres', 'SELECT precious FROM app.cols'), 'p', 'the other column is intact');

# A denial is kept for its time, whatever is approved or denied after it.
$node->safe_psql('postgres', q{SET ROLE agent;
	CREATE TABLE app.d1 (id int); CREATE TABLE app.d2 (id int);
	INSERT INTO app.d1 VALUES (1); INSERT INTO app.d2 VALUES (1)});
($ret, $err) = agent('DROP TABLE app.d1');
($request) = $err =~ /audit id (\d+)/;
$node->safe_psql('postgres', "SELECT tfguard.deny($request, 'the ledger')", extra_params => [ '-U', 'dba' ]);
($ret, $err) = agent('DROP TABLE app.d2');
my ($request2) = $err =~ /audit id (\d+)/;
$node->safe_psql('postgres', "SELECT tfguard.deny($request2, 'no')", extra_params => [ '-U', 'dba' ]);
$node->safe_psql('postgres', q{SELECT tfguard.issue_token('agent', ARRAY['truncate'], ttl => '1 minute')});
($ret, $err) = agent('DROP TABLE app.d1');
like($err, qr/A human denied this request before \(audit id $request\): the ledger/, 'the first denial is still told');

# A claim in the connection's options ends with DISCARD ALL.
$node->safe_psql('postgres', q{SET ROLE agent; CREATE TABLE app.pooled (id int); INSERT INTO app.pooled VALUES (1)});
($ret, $err) = agent('DROP TABLE app.pooled');
($request) = $err =~ /audit id (\d+)/;
$node->safe_psql('postgres', "SELECT tfguard.approve($request)", extra_params => [ '-U', 'dba' ]);
{
	local $ENV{PGOPTIONS} = "-c tfguard.approval=$request";
	($ret, $err) = agent('DISCARD ALL; DROP TABLE app.pooled');
	like($err, qr/refused drop_table of table "app.pooled"/, 'DISCARD ALL ends a claim made in the connection options');
}

# A denied agent is told why, and can look its requests up.
$node->safe_psql('postgres', q{SET ROLE agent; CREATE TABLE app.live (id int); INSERT INTO app.live VALUES (1)});
($ret, $err) = agent('DROP TABLE app.live');
($request) = $err =~ /audit id (\d+)/;
$node->safe_psql('postgres', "SELECT tfguard.deny($request, 'live data; archive it first')",
	extra_params => [ '-U', 'dba' ]);
($ret, $err) = agent('DROP TABLE app.live');
like($err, qr/A human denied this request before \(audit id $request\): live data; archive it first\./,
	'the retry of a denied request says so, with the reason');
($ret, $out, $err) = $node->psql('postgres',
	"SELECT status, decided_by, decision_detail FROM tfguard.my_requests() WHERE audit_id = $request",
	extra_params => [ '-U', 'agent' ]);
is($out, 'denied|dba|reason=live data; archive it first', 'tfguard.my_requests() shows the agent its request and the answer');
($ret, $out, $err) = $node->psql('postgres',
	"SELECT count(*) FROM tfguard.my_requests() WHERE object_name = 'app.live' AND status = 'pending'",
	extra_params => [ '-U', 'agent' ]);
is($out, '1', 'and the retry, pending');
($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM tfguard.audit_log',
	extra_params => [ '-U', 'agent' ]);
like($err, qr/permission denied for table audit_log/, 'but not the trail itself');
($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM tfguard.my_requests()',
	extra_params => [ '-U', 'dba' ]);
is($out, '0', 'each role sees its own requests only');

# tfguard.guarded: update_all and mass_update left out by the DBA
my $before = audited('update_all');
$node->append_conf('postgresql.conf',
	"tfguard.guarded = 'drop_database, drop_table, truncate, delete_all, mass_delete, drop_column'");
$node->reload;
($ret, $err) = agent('UPDATE app.orders SET amount = 0');
is($ret, 0, 'guarded without update_all: UPDATE without WHERE runs');
is(audited('update_all'), $before, 'and is not recorded');
($ret, $err) = agent('DELETE FROM app.orders WHERE id > 0');
like($err, qr/refused mass_delete/, 'mass_delete still guarded');

# reconfigure cannot be left out
$node->append_conf('postgresql.conf', "tfguard.guarded = 'drop_table'");
$node->reload;
is($node->safe_psql('postgres', 'SHOW tfguard.guarded'), 'drop_table',
	'the list is what the file says');
($ret, $out, $err) = $node->psql('postgres', 'DELETE FROM tfguard.audit_log');
like($err, qr/refused reconfigure/, 'reconfigure is guarded whatever the list');
($ret, $err) = agent('DELETE FROM app.orders WHERE id > 0');
is($ret, 0, 'mass_delete left out: the DBA chose so');

# a bad list is refused at reload; the last good one stays
$node->append_conf('postgresql.conf', "tfguard.guarded = 'drop_tables'");
$node->reload;
is($node->safe_psql('postgres', 'SHOW tfguard.guarded'), 'drop_table',
	'a misspelt list leaves the last good one');
my $log = slurp_file($node->logfile);
like($log, qr/"drop_tables" is not a guarded operation/, 'and the log says why');

# max_share and min_rows
$node->append_conf('postgresql.conf',
	"tfguard.guarded = 'all'\ntfguard.max_share = 0.1\ntfguard.min_rows = 10");
$node->reload;
$node->safe_psql('postgres', q{
	SET ROLE agent;
	CREATE TABLE app.shares (id int);
	INSERT INTO app.shares SELECT generate_series(1, 100);
});
($ret, $err) = agent('DELETE FROM app.shares WHERE id > 85');
like($err, qr/remove or overwrite 15 of the 100 rows.*max_share \(10%\)/,
	'tfguard.max_share = 0.1: 15% refused');
($ret, $err) = agent('DELETE FROM app.shares WHERE id > 95');
is($ret, 0, 'and 5% goes through');

# An ALTER TABLE that commits part way (DETACH ... CONCURRENTLY) does not
# commit what it held: a superuser's event trigger drops a table first.
$node->safe_psql('postgres', q{
	CREATE TABLE app.kept (id int); INSERT INTO app.kept SELECT generate_series(1, 10);
	CREATE TABLE app.pp (a int) PARTITION BY LIST (a);
	CREATE TABLE app.pp1 PARTITION OF app.pp FOR VALUES IN (1);
	CREATE FUNCTION app.et() RETURNS event_trigger LANGUAGE plpgsql AS
		$$ BEGIN IF tg_tag = 'ALTER TABLE' THEN DROP TABLE app.kept; END IF; END $$;
	CREATE EVENT TRIGGER et ON ddl_command_start EXECUTE FUNCTION app.et();
});
($ret, $out, $err) = $node->psql('postgres', 'ALTER TABLE app.pp DETACH PARTITION app.pp1 CONCURRENTLY');
like($err, qr/refused drop_table of table "app.kept"/, 'a held refusal is raised before a commit inside the statement');
is($node->safe_psql('postgres', 'SELECT count(*) FROM app.kept'), 10, 'the table is intact');
$node->safe_psql('postgres', 'DROP EVENT TRIGGER et');

# An approval binds each object to the operation refused on it: losing a
# column of a table is not dropping it.
$node->safe_psql('postgres', q{
	SET ROLE agent;
	CREATE TYPE app.ty AS (x int);
	CREATE TABLE app.big (id int, extra app.ty);
	INSERT INTO app.big SELECT generate_series(1, 500);
	CREATE TABLE app.tiny OF app.ty; INSERT INTO app.tiny VALUES (1);
});
my $typed = session_as($node, 'postgres', 'agent');
$err = try_in($typed, 'DROP TYPE app.ty CASCADE');
like($err, qr/would also destroy 1 more: "app.big" \(drop_column\)/, 'one refusal: a table and a column');
($request) = $err =~ /audit id (\d+)/;
$node->safe_psql('postgres', "SELECT tfguard.approve($request)", extra_params => [ '-U', 'dba' ]);
$err = try_in($typed, 'DROP TABLE app.big');
like($err, qr/refused drop_table of table "app.big"/, 'the approval of its column does not drop the table');
$typed->quit;

# A transaction that adds rows, is then refused at commit and rolls back,
# earns no credit in the window.
$node->safe_psql('postgres', q{
	SET ROLE agent;
	CREATE TABLE app.ledger (id int PRIMARY KEY);
	INSERT INTO app.ledger SELECT generate_series(1, 1000);
	CREATE TABLE app.perm (id int); INSERT INTO app.perm VALUES (1);
});
($ret, $err) = agent('DELETE FROM app.ledger WHERE id = 1');
is($ret, 0, 'one row removed: the window counts the role');
($ret, $err) = agent(q{BEGIN;
	CREATE TEMP TABLE tt (x int) ON COMMIT DROP;
	ALTER TABLE app.perm ADD COLUMN c tt;
	INSERT INTO app.ledger SELECT generate_series(100001, 200000);
	COMMIT;});
like($err, qr/refused drop_column of table "app.perm"/, 'the decoy transaction is refused at commit');
($ret, $err) = agent('DELETE FROM app.ledger WHERE id > 0');
like($err, qr/refused mass_delete/, 'and left no credit behind: every row is still refused');
is($node->safe_psql('postgres', 'SELECT count(*) FROM app.ledger'), 999, 'rows intact');

# The window slides: removals just before and just after the point where
# a window begun by the first removal would end still add up.
$node->append_conf('postgresql.conf',
	"tfguard.window = '12s'\ntfguard.max_share = 0.5\ntfguard.min_rows = 100");
$node->reload;
$node->safe_psql('postgres', q{
	SET ROLE agent;
	CREATE TABLE app.slide (id int PRIMARY KEY);
	INSERT INTO app.slide SELECT generate_series(1, 1000);
});
($ret, $err) = agent('DELETE FROM app.slide WHERE id = 1');
sleep 10;
($ret, $err) = agent('DELETE FROM app.slide WHERE id > 1 AND id <= 450');
is($ret, 0, 'a batch of 45% goes through');
sleep 3;
($ret, $err) = agent('DELETE FROM app.slide WHERE id > 450 AND id <= 900');
like($err, qr/refused mass_delete/, 'the next, seconds later but past a window begun at the first removal, is refused');
$node->append_conf('postgresql.conf', "tfguard.window = '1h'");
$node->reload;

# A full window refuses what it cannot count.
$node->append_conf('postgresql.conf',
	"tfguard.window_entries = 64\ntfguard.max_share = 0.5\ntfguard.min_rows = 100\n"
	  . "max_prepared_transactions = 2");
$node->restart;

# (first, with prepared transactions on) an approval used by the check
# before PREPARE TRANSACTION still refuses the PREPARE, and is not kept
$node->safe_psql('postgres', q{
	SET ROLE agent;
	CREATE TABLE app.prep (id int PRIMARY KEY);
	INSERT INTO app.prep SELECT generate_series(1, 1000);
});
($ret, $err) = agent('DELETE FROM app.prep WHERE id <= 600');
($request) = $err =~ /audit id (\d+)/;
$node->safe_psql('postgres', "SELECT tfguard.approve($request)", extra_params => [ '-U', 'dba' ]);
my $prep = session_as($node, 'postgres', 'agent');
$err = try_in($prep, "SET tfguard.approval = $request; BEGIN; DELETE FROM app.prep WHERE id <= 300;");
is($err, '', 'a third, under the limit, in an open transaction');
($ret, $err) = agent('DELETE FROM app.prep WHERE id > 700');
is($ret, 0, 'another session removes another third');
$err = try_in($prep, q{PREPARE TRANSACTION 'p1'});
like($err, qr/cannot prepare a transaction that used a tfguard unlock/,
	'the PREPARE that crosses the limit with the approval is refused');
$prep->quit;
is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_prepared_xacts'), 0, 'nothing prepared');
$node->safe_psql('postgres', q{
	SET ROLE agent;
	SELECT format('CREATE TABLE app.w%s (id int); INSERT INTO app.w%s SELECT generate_series(1, 10)', g, g)
	  FROM generate_series(1, 80) g \gexec
});
my $refused_at;
for my $n (1 .. 80)
{
	($ret, $err) = agent("DELETE FROM app.w$n WHERE id = 1");
	if ($ret != 0) { $refused_at = $n; last; }
}
ok(defined $refused_at && $refused_at > 50,
	"with every count in use, a removal is refused (at table " . ($refused_at // 'none') . ")");
like($err, qr/every one of its tfguard.window_entries counts is in use/, 'and says why');

done_testing();
