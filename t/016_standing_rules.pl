# Standing rules, as a DBA sets them up for a job role and as the job and
# an agent run (one connection per command): who may make them, what they
# cover and do not, max_rows, expiry, the trail, restarts, rollbacks, and
# the routes around them (a table renamed, moved or attached into a rule's
# reach; a schema renamed into it; writes to the rules' table).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TfguardTest;

my $node = new_guarded_node('rules');
$node->safe_psql('postgres', q{
	CREATE ROLE dba LOGIN IN ROLE tfguard_admin;
	CREATE ROLE dba2 LOGIN IN ROLE tfguard_admin;
	CREATE ROLE job LOGIN;
	CREATE ROLE agent LOGIN;
	CREATE DATABASE app;
	CREATE DATABASE other;
});
for my $db ('app', 'other')
{
	$node->safe_psql($db, q{
		GRANT CREATE ON SCHEMA public TO job, agent;
		CREATE SCHEMA repack AUTHORIZATION job;
		SET ROLE job;
		CREATE TABLE public.logs (id int, at date) PARTITION BY RANGE (at);
		CREATE TABLE public.logs_p1 PARTITION OF public.logs
			FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
		CREATE TABLE public.logs_p2 PARTITION OF public.logs
			FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
		CREATE TABLE public.logs_p3 PARTITION OF public.logs
			FOR VALUES FROM ('2026-03-01') TO ('2026-04-01');
		INSERT INTO public.logs SELECT g, date '2026-01-01' + (g % 85) FROM generate_series(1, 850) g;
		CREATE TABLE public.jobdata (id int);
		INSERT INTO public.jobdata SELECT generate_series(1, 100);
		CREATE TABLE repack.log_1 (id int);
		INSERT INTO repack.log_1 SELECT generate_series(1, 10);
		SET ROLE agent;
		CREATE TABLE public.orders (id int, at date);
		INSERT INTO public.orders SELECT g, date '2026-05-15' FROM generate_series(1, 500) g;
	});
}

sub as_role
{
	my ($role, $db, $sql) = @_;
	my ($ret, $out, $err) =
	  $node->psql($db, $sql, extra_params => [ '-U', $role ]);
	return ($ret, $out, $err);
}
sub count_of
{
	my ($db, $table) = @_;
	return $node->safe_psql($db, "SELECT count(*) FROM $table");
}
sub last_audit
{
	return $node->safe_psql('postgres', q{
		SELECT operation || '|' || coalesce(object_name, '') || '|' || decision || '|' ||
			   coalesce(token_id, '') || '|' || coalesce(refers_to::text, '')
		  FROM tfguard.audit_log ORDER BY id DESC LIMIT 1});
}

# ---------- who may make a rule, and what a rule may say ----------

my ($ret, $out, $err) = as_role('agent', 'postgres',
	q{SELECT tfguard.add_rule('agent', ARRAY['drop_table'], ARRAY['public.orders'], reason => 'mine')});
like($err, qr/permission denied/, 'an agent cannot make a rule');
($ret, $out, $err) = as_role('dba', 'postgres',
	q{SELECT tfguard.add_rule('dba', ARRAY['drop_table'], ARRAY['public.logs'], reason => 'mine')});
like($err, qr/cannot add a standing rule for role "dba"/, 'nor an admin for their own role');
($ret, $out, $err) = as_role('dba', 'postgres',
	q{SELECT tfguard.add_rule('dba2', ARRAY['drop_table'], ARRAY['public.logs'], reason => 'x')});
like($err, qr/tfguard_admin or one of its members/, 'nor for another admin');
$node->safe_psql('postgres', 'GRANT job TO dba2');
($ret, $out, $err) = as_role('dba2', 'postgres',
	q{SELECT tfguard.add_rule('job', ARRAY['drop_table'], ARRAY['public.logs'], reason => 'x')});
like($err, qr/cannot add a standing rule for role "job"/, 'nor for a role the admin can act as');
$node->safe_psql('postgres', 'REVOKE job FROM dba2');
for my $case (
	[ q{ARRAY['reconfigure'], ARRAY['public.logs']}, qr/cannot allow reconfigure/, 'reconfigure' ],
	[ q{ARRAY['drop_database'], ARRAY['public.logs']}, qr/cannot allow drop_database/, 'drop_database' ],
	[ q{ARRAY['drop_tables'], ARRAY['public.logs']}, qr/"drop_tables" is not a guarded operation/, 'a misspelt operation' ],
	[ q{ARRAY[]::text[], ARRAY['public.logs']}, qr/at least one operation/, 'no operation' ],
	[ q{ARRAY['drop_table'], ARRAY['logs']}, qr/invalid object "logs"/, 'an unqualified table' ],
	[ q{ARRAY['drop_table'], ARRAY[]::text[]}, qr/at least one table or schema/, 'no object' ],
	[ q{ARRAY['drop_table'], ARRAY['tfguard.*']}, qr/cannot reach schema "tfguard"/, 'schema tfguard' ],
	[ q{ARRAY['drop_table'], ARRAY[NULL]::text[]}, qr/must not contain NULL/, 'a NULL object' ])
{
	($ret, $out, $err) = as_role('dba', 'postgres',
		"SELECT tfguard.add_rule('job', $case->[0], reason => 'x')");
	like($err, $case->[1], "refused: $case->[2]");
}
($ret, $out, $err) = as_role('dba', 'postgres',
	q{SELECT tfguard.add_rule('job', ARRAY['drop_table'], ARRAY['public.logs'])});
like($err, qr/needs a reason/, 'a rule needs a reason');
($ret, $out, $err) = as_role('dba', 'postgres',
	q{SELECT tfguard.add_rule('job', ARRAY['drop_table'], ARRAY['public.logs'], expires => now() - interval '1 s', reason => 'x')});
like($err, qr/expires must be a time in the future/, 'expiry in the past refused');
($ret, $out, $err) = as_role('dba', 'postgres',
	q{SELECT tfguard.add_rule('job', ARRAY['drop_table'], ARRAY['public.logs'], max_rows => -1, reason => 'x')});
like($err, qr/max_rows must not be negative/, 'negative max_rows refused');
($ret, $out, $err) = as_role('dba', 'postgres',
	q{SELECT tfguard.add_rule('job', ARRAY['drop_table'], ARRAY['public.logs'], database => 'nosuch', reason => 'x')});
like($err, qr/database "nosuch" does not exist/, 'a database that does not exist');
is($node->safe_psql('postgres', 'SELECT count(*) FROM tfguard.rules'), '0',
	'no rule came of any of those');

# ---------- a rule for pg_partman-like retention in database app ----------

my $rule = $node->safe_psql('postgres', q{
	SET ROLE dba;
	SELECT tfguard.add_rule('job', ARRAY['drop_table', 'truncate'], ARRAY['public.logs'],
							database => 'app', reason => 'retention of public.logs')});
like($rule, qr/^\d+$/, 'add_rule returns the id');
is($node->safe_psql('postgres',
	"SELECT operation || '|' || object_name || '|' || decision FROM tfguard.audit_log WHERE id = $rule"),
	'add_rule|job|allowed', 'the rule\'s id is the audit row of its making');
like($node->safe_psql('postgres', "SELECT detail FROM tfguard.audit_log WHERE id = $rule"),
	qr/role job may drop_table,truncate on public\.logs in database app; reason: retention/,
	'the trail says what the rule allows');
is($node->safe_psql('postgres',
	"SELECT role || '|' || database || '|' || array_to_string(operations, ',') || '|' || array_to_string(objects, ',') || '|' || live FROM tfguard.rules"),
	'job|app|drop_table,truncate|public.logs|true', 'tfguard.rules shows it');
($ret, $out, $err) = as_role('agent', 'postgres', 'SELECT * FROM tfguard.rules');
like($err, qr/permission denied/, 'an agent cannot read the rules');

($ret, $out, $err) = as_role('job', 'app', 'DROP TABLE public.logs_p1');
is($ret, 0, 'the job drops a partition of public.logs');
is(last_audit(), "drop_table|public.logs_p1|allowed|rule:$rule|$rule",
	'recorded as allowed, with the rule');
($ret, $out, $err) = as_role('job', 'app', 'TRUNCATE public.logs_p2');
is($ret, 0, 'the job truncates a partition');
($ret, $out, $err) = as_role('job', 'app', 'CREATE TABLE public.logs_p9 PARTITION OF public.logs FOR VALUES FROM (\'2026-09-01\') TO (\'2026-10-01\')');
is($ret, 0, 'the job creates a partition later');
$node->safe_psql('app', "INSERT INTO public.logs VALUES (1, '2026-09-02')");
($ret, $out, $err) = as_role('job', 'app', 'DROP TABLE public.logs_p9');
is($ret, 0, 'a partition created after the rule is covered');

($ret, $out, $err) = as_role('postgres', 'app', 'DROP TABLE public.logs_p3');
like($err, qr/tfguard refused drop_table of table "public.logs_p3"/, 'the rule is not another role\'s, a superuser\'s included');
($ret, $out, $err) = as_role('job', 'other', 'DROP TABLE public.logs_p1');
like($err, qr/tfguard refused drop_table/, 'nor for the same names in another database');
($ret, $out, $err) = as_role('job', 'app', 'DROP TABLE public.jobdata');
like($err, qr/tfguard refused drop_table of table "public.jobdata"/, 'nor for another table of the job');
($ret, $out, $err) = as_role('job', 'app', 'DELETE FROM public.logs_p3');
like($err, qr/tfguard refused delete_all/, 'nor for an operation it does not name');
is(count_of('app', 'public.logs_p3'), '260', 'rows intact');

# ---------- routes into a rule's reach ----------

# ATTACH PARTITION of a table holding rows: refused as what the rule
# would allow, recorded, and the table is not attached
$node->safe_psql('app', 'ALTER TABLE public.orders OWNER TO job');
($ret, $out, $err) = as_role('job', 'app', q{
	ALTER TABLE public.logs ATTACH PARTITION public.orders FOR VALUES FROM ('2026-05-01') TO ('2026-06-01')});
like($err, qr/tfguard refused bringing table "public.orders" into the reach of a standing rule/,
	'ATTACH PARTITION of a table holding rows refused');
like($err, qr/Standing rule $rule lets role job run drop_table on table "public.orders"/,
	'the DETAIL names the rule');
is($node->safe_psql('app', q{SELECT count(*) FROM pg_inherits WHERE inhrelid = 'public.orders'::regclass}),
	'0', 'not attached');
like(last_audit(), qr/^drop_table\|public\.orders\|blocked/, 'recorded as a refused drop_table');
($ret, $out, $err) = as_role('job', 'app', 'DROP TABLE public.orders');
like($err, qr/tfguard refused drop_table/, 'so the job cannot drop it');

# renamed in: public.logs away, public.orders to public.logs
($ret, $out, $err) = as_role('job', 'app', q{
	BEGIN;
	ALTER TABLE public.logs RENAME TO logs_old;
	ALTER TABLE public.orders RENAME TO logs;
	COMMIT});
like($err, qr/tfguard refused bringing table "public.logs" into the reach/, 'a rename into a rule\'s name refused');
is($node->safe_psql('app', q{SELECT count(*) FROM public.logs}), '260', 'names unchanged');

# an empty table, and a table created in the same transaction, may enter
($ret, $out, $err) = as_role('job', 'app', q{
	CREATE TABLE public.logs_p5 (id int, at date);
	ALTER TABLE public.logs ATTACH PARTITION public.logs_p5 FOR VALUES FROM ('2026-05-01') TO ('2026-06-01')});
is($ret, 0, 'an empty table is attached');
($ret, $out, $err) = as_role('job', 'app', q{
	BEGIN;
	CREATE TABLE public.logs_p6 (id int, at date);
	INSERT INTO public.logs_p6 VALUES (1, '2026-06-02');
	ALTER TABLE public.logs ATTACH PARTITION public.logs_p6 FOR VALUES FROM ('2026-06-01') TO ('2026-07-01');
	COMMIT});
is($ret, 0, 'a table created and filled in the same transaction is attached (pg_partman)');

# a schema-wide rule (pg_repack's) and moves into the schema
my $rule2 = $node->safe_psql('postgres', q{
	SET ROLE dba;
	SELECT tfguard.add_rule('job', ARRAY['drop_table'], ARRAY['repack.*'], reason => 'pg_repack')});
($ret, $out, $err) = as_role('job', 'app', 'DROP TABLE repack.log_1');
is($ret, 0, 'schema rule: a table of the schema is dropped');
is(last_audit(), "drop_table|repack.log_1|allowed|rule:$rule2|$rule2", 'with the schema rule');
($ret, $out, $err) = as_role('job', 'app', 'ALTER TABLE public.jobdata SET SCHEMA repack');
like($err, qr/tfguard refused bringing table "repack.jobdata" into the reach/, 'SET SCHEMA into the reach refused');
is($node->safe_psql('app', q{SELECT to_regclass('public.jobdata') IS NOT NULL}), 't', 'not moved');
($ret, $out, $err) = as_role('postgres', 'app', q{
	ALTER SCHEMA repack RENAME TO repack_old;
	ALTER SCHEMA public RENAME TO repack});
like($err, qr/tfguard refused bringing table "repack\.\w+" into the reach/, 'a schema renamed into the reach refused');
is($node->safe_psql('app', q{SELECT count(*) FROM pg_namespace WHERE nspname = 'public'}), '1',
	'public keeps its name');
$node->safe_psql('app', 'ALTER SCHEMA repack_old RENAME TO repack');
($ret, $out, $err) = as_role('postgres', 'app', q{
	DO $$ BEGIN EXECUTE 'ALTER TABLE public.jobdata SET SCHEMA repack'; END $$});
like($err, qr/into the reach/, 'the same through dynamic SQL');

# found by the attack review: ALTER INDEX renames any relation
my $rule_slot = $node->safe_psql('postgres', q{
	SET ROLE dba;
	SELECT tfguard.add_rule('job', ARRAY['truncate'], ARRAY['public.victim_slot'], database => 'app',
							reason => 'a name no table has yet')});
$node->safe_psql('app', q{SET ROLE agent; CREATE TABLE public.agentdata (id int);
	INSERT INTO public.agentdata SELECT generate_series(1, 1000)});
($ret, $out, $err) = as_role('agent', 'app', 'ALTER INDEX public.agentdata RENAME TO victim_slot');
like($err, qr/tfguard refused bringing table "public.victim_slot" into the reach/,
	'ALTER INDEX ... RENAME of a table into a rule\'s name refused');
is($node->safe_psql('app', q{SELECT to_regclass('public.victim_slot') IS NULL}), 't', 'not renamed');

# a schema renamed into the reach brings a partitioned table's partitions,
# in whatever schema they are
$node->safe_psql('postgres', q{
	SET ROLE dba;
	SELECT tfguard.add_rule('job', ARRAY['truncate', 'drop_table'], ARRAY['x3.events'], database => 'app',
							reason => 'events retention')});
$node->safe_psql('app', q{
	CREATE SCHEMA a3 AUTHORIZATION agent;
	CREATE SCHEMA b3 AUTHORIZATION agent;
	SET ROLE agent;
	CREATE TABLE a3.events (id int) PARTITION BY RANGE (id);
	CREATE TABLE b3.events_1 PARTITION OF a3.events FOR VALUES FROM (0) TO (100000);
	INSERT INTO a3.events SELECT generate_series(1, 1000);
});
($ret, $out, $err) = as_role('postgres', 'app', 'ALTER SCHEMA a3 RENAME TO x3');
like($err, qr/tfguard refused bringing table "(x3\.events|b3\.events_1)" into the reach/,
	'a schema renamed into a rule\'s reach with a partitioned table refused');

# a superuser's ALTER EXTENSION ... SET SCHEMA moves its tables along
$node->safe_psql('app', q{
	CREATE SCHEMA ext_s;
	CREATE EXTENSION pg_trgm SCHEMA ext_s;
	CREATE TABLE ext_s.secret (id int);
	INSERT INTO ext_s.secret SELECT generate_series(1, 1000);
	ALTER EXTENSION pg_trgm ADD TABLE ext_s.secret;
});
($ret, $out, $err) = as_role('postgres', 'app', 'ALTER EXTENSION pg_trgm SET SCHEMA repack');
like($err, qr/tfguard refused bringing table "repack.secret" into the reach/,
	'ALTER EXTENSION ... SET SCHEMA moving a table into the reach refused');

# who a rule may be for: not a superuser, unless a superuser makes it;
# never the bootstrap superuser; no table literally named *
$node->safe_psql('postgres', 'CREATE ROLE su_job LOGIN SUPERUSER');
($ret, $out, $err) = as_role('dba', 'postgres',
	q{SELECT tfguard.add_rule('su_job', ARRAY['drop_table'], ARRAY['repack.*'], reason => 'x')});
like($err, qr/only another superuser may give it a standing rule/, 'an admin cannot give a superuser a rule');
($ret, $out, $err) = as_role('postgres', 'postgres',
	q{SELECT tfguard.add_rule('su_job', ARRAY['drop_table'], ARRAY['repack.*'], reason => 'pg_repack')});
is($ret, 0, 'a superuser can (pg_repack runs as one)');
my $bootstrap = $node->safe_psql('postgres', 'SELECT rolname FROM pg_roles WHERE oid = 10');
($ret, $out, $err) = as_role('postgres', 'postgres',
	qq{SELECT tfguard.add_rule('$bootstrap', ARRAY['drop_table'], ARRAY['repack.*'], reason => 'x')});
like($err, qr/(is the bootstrap superuser|a role they are or can act as)/, 'never the bootstrap superuser');
($ret, $out, $err) = as_role('dba', 'postgres',
	q{SELECT tfguard.add_rule('job', ARRAY['drop_table'], ARRAY['public."*"'], reason => 'x')});
like($err, qr/invalid object/, 'a quoted "*" is not taken for every table');

# max_rows caps the rows a DELETE takes over all the partitions it is
# judged on one by one
$node->safe_psql('postgres', q{
	SET ROLE dba;
	SELECT tfguard.add_rule('job', ARRAY['mass_delete', 'delete_all'], ARRAY['public.logs8'],
							max_rows => 150, database => 'app', reason => 'capped over partitions')});
$node->safe_psql('app', q{
	SET ROLE job;
	CREATE TABLE public.logs8 (k int) PARTITION BY RANGE (k);
	CREATE TABLE public.logs8_1 PARTITION OF public.logs8 FOR VALUES FROM (0) TO (200);
	CREATE TABLE public.logs8_2 PARTITION OF public.logs8 FOR VALUES FROM (200) TO (400);
	CREATE TABLE public.logs8_3 PARTITION OF public.logs8 FOR VALUES FROM (400) TO (600);
	CREATE TABLE public.logs8_4 PARTITION OF public.logs8 FOR VALUES FROM (600) TO (800);
	CREATE TABLE public.logs8_5 PARTITION OF public.logs8 FOR VALUES FROM (800) TO (1000);
	INSERT INTO public.logs8 SELECT g FROM generate_series(0, 999) g WHERE g % 200 < 120;
});
($ret, $out, $err) = as_role('job', 'app', 'DELETE FROM public.logs8 WHERE k >= 0');
like($err, qr/tfguard refused mass_delete.*more than the 150 rows standing rule/s,
	'a DELETE over five partitions of 120 rows each, max_rows 150: refused');
is($node->safe_psql('app', 'SELECT count(*) FROM public.logs8'), '600', 'rows intact');
($ret, $out, $err) = as_role('job', 'app', 'DELETE FROM public.logs8 WHERE k < 200 AND k > 10');
is($ret, 0, 'one partition\'s 109 rows pass');

# ---------- max_rows ----------

my $rule3 = $node->safe_psql('postgres', q{
	SET ROLE dba;
	SELECT tfguard.add_rule('agent', ARRAY['drop_table', 'mass_delete'], ARRAY['public.capped', 'public.capped2'],
							max_rows => 120, database => 'app', reason => 'capped')});
$node->safe_psql('app', q{
	SET ROLE agent;
	CREATE TABLE public.capped (id int);
	INSERT INTO public.capped SELECT generate_series(1, 200);
	CREATE TABLE public.capped2 (id int);
	INSERT INTO public.capped2 SELECT generate_series(1, 150);
});
($ret, $out, $err) = as_role('agent', 'app', 'DELETE FROM public.capped WHERE id > 180');
is($ret, 0, 'a small delete needs no rule');
($ret, $out, $err) = as_role('agent', 'app', 'DELETE FROM public.capped WHERE id > 20');
like($err, qr/tfguard refused mass_delete of table "public.capped"/, 'over max_rows: refused');
like($err, qr/does not allow it: it would destroy more than the 120 rows standing rule $rule3 allows/,
	'and told why');
like(last_audit(), qr/^mass_delete\|public\.capped\|blocked\|rule:$rule3\|$/,
	'recorded as blocked, naming the rule, and pending (no refers_to)');
($ret, $out, $err) = as_role('agent', 'app', 'DROP TABLE public.capped');
like($err, qr/tfguard refused drop_table of table "public.capped".*more than the 120 rows/s,
	'a drop of a table holding more than max_rows refused');
($ret, $out, $err) = as_role('agent', 'app', 'DELETE FROM public.capped2 WHERE id > 40');
is($ret, 0, 'within max_rows: a mass_delete of 110 rows allowed by the rule');
is(last_audit(), "mass_delete|public.capped2|allowed|rule:$rule3|$rule3", 'recorded with the rule');
($ret, $out, $err) = as_role('agent', 'app', 'DROP TABLE public.capped2');
is($ret, 0, 'a drop of 40 rows within max_rows');

# ---------- expiry, drop_rule, rollbacks, restarts ----------

$node->safe_psql('app', q{SET ROLE agent; CREATE TABLE public.scratch (id int);
	INSERT INTO public.scratch SELECT generate_series(1, 50)});
my $rule4 = $node->safe_psql('postgres', q{
	SET ROLE dba;
	SELECT tfguard.add_rule('agent', ARRAY['truncate'], ARRAY['public.scratch'],
							expires => clock_timestamp() + interval '2 s', database => 'app', reason => 'brief')});
sleep(3);
($ret, $out, $err) = as_role('agent', 'app', 'TRUNCATE public.scratch');
like($err, qr/tfguard refused truncate/, 'an expired rule covers nothing');
is($node->safe_psql('postgres', "SELECT live FROM tfguard.rules WHERE id = $rule4"), 'f', 'shown as not live');

$node->safe_psql('postgres', qq{SET ROLE dba; BEGIN; SELECT tfguard.drop_rule($rule); ROLLBACK;});
($ret, $out, $err) = as_role('job', 'app', 'DROP TABLE public.logs_p5');
is($ret, 0, 'a rolled-back drop_rule leaves the rule');
$node->safe_psql('postgres', qq{SET ROLE dba; BEGIN; SAVEPOINT a; SELECT tfguard.drop_rule($rule); ROLLBACK TO a; COMMIT;});
($ret, $out, $err) = as_role('job', 'app', 'DROP TABLE public.logs_p6');
is($ret, 0, 'so does one rolled back to a savepoint');
$node->safe_psql('postgres', q{SET ROLE dba; BEGIN;
	SELECT tfguard.add_rule('agent', ARRAY['drop_table'], ARRAY['public.scratch'], reason => 'no'); ROLLBACK;});
$node->safe_psql('postgres', q{SET ROLE dba; BEGIN; SAVEPOINT a;
	SELECT tfguard.add_rule('agent', ARRAY['drop_table'], ARRAY['public.scratch'], reason => 'no');
	ROLLBACK TO a; COMMIT;});
($ret, $out, $err) = as_role('agent', 'app', 'DROP TABLE public.scratch');
like($err, qr/tfguard refused drop_table/, 'a rolled-back add_rule covers nothing');

$node->restart;
$node->poll_query_until('postgres', 'SELECT tfguard.writer_pid() > 0');
($ret, $out, $err) = as_role('job', 'app', 'DROP TABLE public.logs_p2');
is($ret, 0, 'the rule survives a restart');
$node->safe_psql('postgres', qq{SET ROLE dba; SELECT tfguard.drop_rule($rule, 'retention moved')});
is(last_audit(), "drop_rule|job|allowed||$rule", 'drop_rule recorded, referring to the rule');
($ret, $out, $err) = as_role('job', 'app', 'DROP TABLE public.logs_p3');
like($err, qr/tfguard refused drop_table/, 'a dropped rule covers nothing at once');
$node->restart;
$node->poll_query_until('postgres', 'SELECT tfguard.writer_pid() > 0');
($ret, $out, $err) = as_role('job', 'app', 'DROP TABLE public.logs_p3');
like($err, qr/tfguard refused drop_table/, 'nor after a restart');
($ret, $out, $err) = as_role('dba', 'postgres', qq{SELECT tfguard.drop_rule($rule)});
like($err, qr/standing rule $rule does not exist/, 'dropping it again: a clear error');

# an add_rule left open does not hold up a writer that starts meanwhile
# (every guarded attempt waits for the writer)
$node->safe_psql('app', q{SET ROLE agent; CREATE TABLE public.scratch2 (id int);
	INSERT INTO public.scratch2 SELECT generate_series(1, 50)});
my $open = $node->background_psql('postgres', extra_params => [ '-U', 'dba' ],
	on_error_stop => 0);
$open->query_safe('BEGIN');
my $rule5 = $open->query_safe(q{SELECT tfguard.add_rule('agent', ARRAY['truncate'], ARRAY['public.scratch2'],
	database => 'app', reason => 'left open a while')});
my $writer = $node->safe_psql('postgres', 'SELECT tfguard.writer_pid()');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($writer)");
$node->poll_query_until('postgres', "SELECT tfguard.writer_pid() NOT IN (0, $writer)");
($ret, $out, $err) = as_role('agent', 'app', 'DROP TABLE public.capped');
like($err, qr/tfguard refused drop_table.*recorded as audit id/s,
	'a writer restarted while an add_rule is open records at once');
($ret, $out, $err) = as_role('agent', 'app', 'TRUNCATE public.scratch2');
like($err, qr/tfguard refused truncate/, 'the open rule covers nothing yet');
$open->query_safe('COMMIT');
$open->quit;
($ret, $out, $err) = as_role('agent', 'app', 'TRUNCATE public.scratch2');
is($ret, 0, 'committed, it covers (put in by its commit, after the writer read the table)');

# ---------- the rules' table itself ----------

for my $case (
	[ 'INSERT', q{INSERT INTO tfguard.rule_store SELECT * FROM tfguard.rule_store} ],
	[ 'UPDATE', q{UPDATE tfguard.rule_store SET expires = NULL} ],
	[ 'DELETE', q{DELETE FROM tfguard.rule_store} ],
	[ 'COPY FROM', q{COPY tfguard.rule_store FROM '/dev/null'} ],
	[ 'a writable CTE', q{WITH x AS (UPDATE tfguard.rule_store SET max_rows = NULL RETURNING 1) SELECT 1} ],
	[ 'ALTER TABLE', q{ALTER TABLE tfguard.rule_store ADD COLUMN x int} ],
	[ 'a trigger', q{CREATE TRIGGER t BEFORE INSERT ON tfguard.rule_store FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()} ])
{
	($ret, $out, $err) = as_role('postgres', 'postgres', $case->[1]);
	like($err, qr/tfguard refused reconfigure/, "superuser's $case->[0] on the rules' table refused");
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM tfguard.rule_store'),
	$node->safe_psql('postgres', 'SELECT count(*) FROM tfguard.rules'), 'the table as the functions left it');

$node->stop;
done_testing();
