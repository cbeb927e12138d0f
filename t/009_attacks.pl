# The attack suite: every route an agent (a restricted role that owns its
# data) or a careless superuser might take to destroy data, turn the guard
# off or reconfigure it, mint or stretch an unlock, or edit the trail.
# Each attempt must be refused with its SQLSTATE, leave the data intact,
# and (when tfguard refused it) leave a row in the audit trail.  Every new
# route found later becomes a line here.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TfguardTest;

my $node = new_guarded_node('attacks');
$node->safe_psql('postgres', q{
	CREATE ROLE agent LOGIN CREATEDB;
	CREATE DATABASE app OWNER agent;
});
$node->safe_psql('app', q{
	SET ROLE agent;
	CREATE TABLE customers (id int PRIMARY KEY);
	CREATE TABLE orders (id int PRIMARY KEY, customer int REFERENCES customers);
	INSERT INTO customers SELECT generate_series(1, 10);
	INSERT INTO orders SELECT g, 1 + g % 10 FROM generate_series(1, 100) g;
	CREATE TABLE events (at date, what text) PARTITION BY RANGE (at);
	CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
	INSERT INTO events VALUES ('2025-05-05', 'x');
	CREATE TYPE addr AS (street text);
	CREATE TABLE addresses OF addr;
	INSERT INTO addresses VALUES ('Main St');
	CREATE FUNCTION bucket(int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT $1 % 2';
	CREATE TABLE readings (k int) PARTITION BY LIST (bucket(k));
	CREATE TABLE readings_0 PARTITION OF readings FOR VALUES IN (0);
	INSERT INTO readings VALUES (2);
	CREATE TABLE log (msg text);
	CREATE TABLE sales (id int, customer int);
	INSERT INTO sales SELECT g, 1 + g % 10 FROM generate_series(1, 100) g;
	CREATE VIEW order_source AS SELECT * FROM sales;
	CREATE MATERIALIZED VIEW order_totals AS SELECT customer, count(*) AS n FROM order_source GROUP BY customer;
	CREATE UNIQUE INDEX ON order_totals (customer);
	CREATE MATERIALIZED VIEW sales_copy AS SELECT * FROM order_source;
});

my $intact_sql = q{SELECT (SELECT count(*) FROM customers) || '/' || (SELECT count(*) FROM orders)
	|| '/' || (SELECT count(*) FROM events) || '/' || (SELECT count(*) FROM addresses)
	|| '/' || (SELECT count(*) FROM readings) || '/' || (SELECT count(*) FROM order_totals)
	|| '/' || (SELECT count(*) FROM sales_copy)};
my $intact = $node->safe_psql('app', $intact_sql);
is($intact, '10/100/1/1/1/10/100', 'the data the attacks aim at');

sub audit_rows
{
	return $node->safe_psql('postgres', 'SELECT count(*) FROM tfguard.audit_log');
}

# who => agent|super, db => app|postgres, sql, code => expected SQLSTATE,
# audited => whether tfguard itself refused (and so recorded) it.  Each runs
# inside a transaction that is never committed, so that what an attempt
# sets up (a rule, a view, a detached partition) does not outlive it;
# notx marks the statements that cannot run in a transaction block.
my @attacks = (
	# destroy data, as the owner
	[ agent => app => 'DROP TABLE orders' ],
	[ agent => app => 'DROP TABLE IF EXISTS orders, customers CASCADE' ],
	[ agent => app => 'DROP SCHEMA public CASCADE' ],
	[ agent => app => 'DROP OWNED BY agent' ],
	[ agent => app => 'DROP TABLE events' ],
	[ agent => app => 'DROP TYPE addr CASCADE' ],
	[ agent => app => 'DROP FUNCTION bucket(int) CASCADE' ],
	[ agent => app => 'ALTER TABLE events DETACH PARTITION events_2025; DROP TABLE events_2025' ],
	[ agent => app => 'TRUNCATE orders' ],
	[ agent => app => 'TRUNCATE customers CASCADE' ],
	[ agent => app => 'TRUNCATE ONLY events_2025' ],
	[ agent => app => 'DELETE FROM orders' ],
	[ agent => app => 'DELETE FROM orders WHERE true' ],
	[ agent => app => 'DELETE FROM orders WHERE 1 = 1 OR id IS NULL AND false' ],
	[ agent => app => 'DELETE FROM orders USING customers' ],
	[ agent => app => 'DELETE FROM orders USING customers LEFT JOIN log ON false' ],
	[ agent => app => 'DELETE FROM events' ],
	[ agent => app => 'WITH gone AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM gone' ],
	[ agent => app => 'MERGE INTO orders USING customers ON true WHEN MATCHED THEN DELETE' ],
	[ agent => app => 'COPY (DELETE FROM orders RETURNING id) TO STDOUT' ],
	[ agent => app => 'EXPLAIN ANALYZE DELETE FROM orders' ],
	[ agent => app => q{DO $$ BEGIN EXECUTE 'DROP TABLE orders'; END $$} ],
	[ agent => app => q{DO $$ BEGIN EXECUTE format('TRUNCATE %I', 'orders'); END $$} ],
	[ agent => app => q{CREATE FUNCTION wipe() RETURNS void LANGUAGE sql AS 'DELETE FROM orders'; SELECT wipe()} ],
	[ agent => app => q{CREATE FUNCTION wipe_definer() RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN TRUNCATE orders; END $$; SELECT wipe_definer()} ],
	[ agent => app => 'PREPARE p AS DELETE FROM orders; EXECUTE p' ],
	[ agent => app => 'SET plan_cache_mode = force_generic_plan; PREPARE q(bool) AS DELETE FROM orders WHERE $1; EXECUTE q(true)' ],
	[ agent => app => 'CREATE RULE r AS ON INSERT TO log DO ALSO DELETE FROM orders; INSERT INTO log VALUES (1)' ],
	[ agent => app => q{CREATE FUNCTION tw() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN TRUNCATE orders CASCADE; RETURN NULL; END $$; CREATE TRIGGER tw AFTER INSERT ON log FOR EACH STATEMENT EXECUTE FUNCTION tw(); INSERT INTO log VALUES (1)} ],
	[ agent => app => 'CREATE VIEW all_orders AS SELECT * FROM orders; DELETE FROM all_orders' ],
	[ agent => app => 'ALTER TABLE orders RENAME TO scratch; DROP TABLE scratch' ],
	[ agent => app => 'CREATE SCHEMA trash; ALTER TABLE orders SET SCHEMA trash; DROP SCHEMA trash CASCADE' ],
	[ agent => app => 'CREATE TEMP TABLE orders (id int); SET search_path = pg_temp, public; DROP TABLE public.orders' ],
	[ agent => app => 'CREATE TABLE sink PARTITION OF events DEFAULT; UPDATE events SET at = date \'2030-01-01\'; DROP TABLE sink' ],
	[ agent => postgres => 'DROP DATABASE app WITH (FORCE)', notx => 1 ],
	# turn the guard off or weaken it, as the agent
	[ agent => app => q{SET tfguard.mode = 'off'}, code => '55P02', audited => 0 ],
	[ agent => app => q{SELECT set_config('tfguard.mode', 'off', false)}, code => '55P02', audited => 0 ],
	[ agent => app => q{UPDATE pg_settings SET setting = 'off' WHERE name = 'tfguard.mode'}, code => '55P02', audited => 0 ],
	[ agent => app => q{ALTER ROLE agent SET tfguard.mode = 'off'}, code => '55P02', audited => 0 ],
	[ agent => app => q{ALTER SYSTEM SET tfguard.mode = 'off'}, notx => 1 ],
	[ agent => app => q{SET tfguard.anything = 'x'}, code => '42602', audited => 0 ],
	# mint or stretch an unlock, as the agent
	[ agent => app => q{SET tfguard.token = 'tfg1_0123456789abcdef0123456789abcdef01234567'} ],
	[ agent => app => q{ALTER ROLE agent SET tfguard.token = 'tfg1_0123456789abcdef0123456789abcdef01234567'}, code => '22023', audited => 0 ],
	[ agent => postgres => q{SELECT tfguard.issue_token('agent', ARRAY['drop_table'])}, audited => 0 ],
	[ agent => postgres => q{SELECT tfguard.approve(1)}, audited => 0 ],
	# edit the trail, as the agent
	[ agent => postgres => 'DELETE FROM tfguard.audit_log', audited => 0 ],
	[ agent => postgres => 'TRUNCATE tfguard.audit_log', audited => 0 ],
	# the superuser's accidents
	[ super => app => 'DROP TABLE orders CASCADE' ],
	[ super => app => 'TRUNCATE orders, customers' ],
	[ super => app => 'SET session_replication_role = replica; DELETE FROM orders' ],
	[ super => app => q{CREATE FUNCTION ew() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN DROP TABLE orders CASCADE; END $$; CREATE EVENT TRIGGER ew ON ddl_command_end WHEN TAG IN ('CREATE SEQUENCE') EXECUTE FUNCTION ew(); CREATE SEQUENCE s} ],
	[ super => postgres => 'DROP DATABASE app', notx => 1 ],
	[ super => app => 'DROP DATABASE postgres', notx => 1 ],
	[ super => postgres => q{ALTER SYSTEM SET tfguard.mode = 'off'}, notx => 1 ],
	[ super => postgres => q{ALTER SYSTEM SET shared_preload_libraries = ''}, notx => 1 ],
	[ super => postgres => 'ALTER SYSTEM RESET ALL', notx => 1 ],
	[ super => postgres => 'DROP EXTENSION tfguard CASCADE' ],
	[ super => postgres => 'ALTER EXTENSION tfguard UPDATE' ],
	[ super => postgres => 'DROP SCHEMA tfguard CASCADE' ],
	[ super => postgres => q{CREATE OR REPLACE FUNCTION tfguard.live_sessions(OUT pid int, OUT backend_start timestamptz) RETURNS SETOF record LANGUAGE sql AS 'SELECT NULL::int, NULL::timestamptz'} ],
	[ super => postgres => q{CREATE OR REPLACE VIEW tfguard.pending AS SELECT * FROM tfguard.audit_log WHERE false} ],
	[ super => postgres => 'DROP FUNCTION tfguard.approve(bigint, interval, text)' ],
	[ super => postgres => 'ALTER FUNCTION tfguard.deny(bigint, text) SECURITY DEFINER' ],
	[ super => postgres => 'ALTER FUNCTION tfguard.approve(bigint, interval, text) RENAME TO approve_old' ],
	[ super => postgres => 'ALTER FUNCTION tfguard.deny(bigint, text) SET SCHEMA public' ],
	[ super => postgres => 'ALTER VIEW tfguard.pending RENAME TO pending_old' ],
	[ super => postgres => 'ALTER VIEW tfguard.tokens SET SCHEMA public' ],
	[ super => postgres => q{UPDATE tfguard.audit_log SET decision = 'allowed'} ],
	[ super => postgres => 'DELETE FROM tfguard.audit_log WHERE id > 0' ],
	[ super => postgres => 'TRUNCATE tfguard.audit_log' ],
	[ super => postgres => q{COPY tfguard.audit_log (logged_at, database_name, session_role, "current_role", backend_pid, operation, decision) FROM '/dev/null'} ],
	[ super => postgres => 'ALTER TABLE tfguard.audit_log RENAME TO old_log' ],
	[ super => postgres => 'CREATE TABLE forged () INHERITS (tfguard.audit_log)' ],
	# found by the first attack review (see also t/012_identity_attacks.pl)
	[ super => postgres => q{ALTER SYSTEM SET "TFGUARD.MODE" = 'off'}, notx => 1 ],
	[ super => postgres => q{ALTER SYSTEM SET "Shared_Preload_Libraries" = ''}, notx => 1 ],
	[ super => postgres => q{ALTER SYSTEM RESET "Tfguard.Mode"}, notx => 1 ],
	[ super => postgres => q{ALTER SYSTEM SET dynamic_library_path = '/tmp:$libdir'}, notx => 1 ],
	[ super => postgres => q{ALTER SYSTEM SET max_worker_processes = 0}, notx => 1 ],
	[ super => app => 'ALTER DATABASE postgres RENAME TO trail', notx => 1 ],
	[ agent => postgres => 'ALTER DATABASE app RENAME TO postgres', notx => 1 ],
	[ super => app => 'ALTER DATABASE postgres ALLOW_CONNECTIONS false' ],
	[ super => app => 'ALTER DATABASE postgres CONNECTION LIMIT 0' ],
	[ super => app => 'ALTER DATABASE postgres OWNER TO agent' ],
	[ super => postgres => q{SELECT setval('tfguard.audit_log_id_seq', 5)}, code => '42P01', audited => 0 ],
	[ super => postgres => 'REINDEX TABLE tfguard.audit_log' ],
	[ super => postgres => 'REINDEX SCHEMA tfguard', notx => 1 ],
	[ super => postgres => 'CLUSTER tfguard.audit_log USING audit_log_pkey' ],
	[ super => postgres => 'VACUUM FULL tfguard.audit_log', notx => 1 ],
	[ super => postgres => 'LOCK TABLE tfguard.pending' ],
	[ super => postgres => 'ALTER TABLE tfguard.audit_log OWNER TO agent' ],
	[ super => postgres => 'ALTER VIEW tfguard.pending OWNER TO agent' ],
	[ super => postgres => 'ALTER FUNCTION tfguard.approve(bigint, interval, text) OWNER TO agent' ],
	[ super => postgres => 'ALTER SCHEMA tfguard OWNER TO agent' ],
	[ super => postgres => 'GRANT ALL ON tfguard.audit_log TO agent' ],
	[ super => postgres => 'GRANT USAGE ON SCHEMA tfguard TO agent' ],
	[ super => postgres => 'GRANT ALL ON ALL TABLES IN SCHEMA tfguard TO agent' ],
	[ super => postgres => 'GRANT EXECUTE ON FUNCTION tfguard.issue_token(name, text[], text[], interval, name, text) TO agent' ],
	[ super => postgres => 'REVOKE SELECT ON tfguard.audit_log FROM tfguard_admin' ],
	[ super => postgres => q{CREATE OR REPLACE RULE "_RETURN" AS ON SELECT TO tfguard.pending DO INSTEAD SELECT * FROM tfguard.pending WHERE false} ],
	[ super => postgres => 'SET search_path = public, tfguard; ALTER FUNCTION approve(bigint, interval, text) RENAME TO approve_old' ],
	[ super => postgres => 'SET search_path = public, tfguard; ALTER FUNCTION deny(bigint, text) SECURITY DEFINER' ],
	[ super => postgres => 'SET search_path = public, tfguard; ALTER FUNCTION deny(bigint, text) SET SCHEMA public' ],
	[ super => postgres => 'SET search_path = tfguard; DROP VIEW pending' ],
	[ super => postgres => 'SET search_path = tfguard; ALTER VIEW tokens RENAME TO t' ],
	[ super => postgres => q{CREATE FUNCTION public.evil() RETURNS int LANGUAGE sql AS 'SELECT 1'; ALTER FUNCTION public.evil() SET SCHEMA tfguard} ],
	[ super => postgres => 'CREATE TABLE tfguard.extra (id int)' ],
	[ agent => app => q{CREATE TABLE sink PARTITION OF events DEFAULT; WITH u AS (UPDATE events SET at = '2030-01-01' RETURNING 1) SELECT count(*) FROM u; DROP TABLE sink} ],
	[ agent => app => q{CREATE TABLE sink PARTITION OF events DEFAULT; WITH u AS (UPDATE events SET at = '2030-01-01' RETURNING 1) INSERT INTO log SELECT 'moved' FROM u; DROP TABLE sink} ],
	[ agent => app => q{CREATE TABLE sink PARTITION OF events DEFAULT; WITH u AS (UPDATE events SET at = '2030-01-01' RETURNING 1), d AS (DELETE FROM log WHERE msg = 'none' RETURNING 1) SELECT count(*) FROM u; DROP TABLE sink} ],
	[ agent => app => q{CREATE TABLE sink (at date, what text) PARTITION BY RANGE (at); CREATE TABLE sink_all PARTITION OF sink FOR VALUES FROM (MINVALUE) TO (MAXVALUE); ALTER TABLE events ATTACH PARTITION sink DEFAULT; WITH u AS (UPDATE events SET at = '2030-01-01' RETURNING 1) SELECT count(*) FROM u; DROP TABLE sink} ],
	# found by the review of those fixes
	[ super => postgres => 'CREATE TABLE public.fk (x bigint REFERENCES tfguard.audit_log (id))' ],
	[ super => postgres => 'CREATE TABLE public.fk2 (x bigint); ALTER TABLE public.fk2 ADD FOREIGN KEY (x) REFERENCES tfguard.audit_log (id)' ],
	[ super => postgres => 'CREATE POLICY p2 ON tfguard.audit_log USING (true)' ],
	[ super => postgres => 'CREATE VIEW public.v_audit AS SELECT * FROM tfguard.audit_log; LOCK TABLE public.v_audit IN ACCESS EXCLUSIVE MODE' ],
	[ super => postgres => 'CREATE VIEW public.v_audit AS SELECT * FROM tfguard.audit_log; CREATE VIEW public.v_audit2 AS SELECT * FROM public.v_audit; LOCK TABLE public.v_audit2' ],
	[ super => postgres => 'ALTER TABLE ALL IN TABLESPACE pg_default SET TABLESPACE pg_default' ],
	[ super => postgres => 'CREATE SEQUENCE tfguard.s1' ],
	[ super => postgres => 'CREATE TABLE tfguard.ctas AS SELECT 1 AS a' ],
	[ super => postgres => 'CREATE MATERIALIZED VIEW tfguard.mv1 AS SELECT 1 AS a' ],
	[ super => postgres => 'SELECT 1 AS a INTO tfguard.selinto' ],
	[ super => postgres => 'CREATE TYPE tfguard.t1 AS (a int)' ],
	[ super => postgres => 'CREATE DOMAIN tfguard.d1 int' ],
	[ super => postgres => 'CREATE STATISTICS tfguard.st1 ON id, logged_at FROM tfguard.audit_log' ],
	[ super => postgres => q{COMMENT ON TABLE tfguard.audit_log IS 'nothing to see'} ],
	[ super => postgres => q{COMMENT ON FUNCTION tfguard.approve(bigint, interval, text) IS 'x'} ],
	[ super => postgres => 'ALTER DEFAULT PRIVILEGES IN SCHEMA tfguard GRANT ALL ON TABLES TO agent' ],
	[ super => postgres => 'ALTER FUNCTION tfguard.approve(bigint, interval, text) DEPENDS ON EXTENSION plpgsql' ],
	[ super => postgres => 'DROP OWNED BY tfguard_admin' ],
	[ super => postgres => 'REASSIGN OWNED BY CURRENT_USER TO agent' ],
	[ super => postgres => q{CREATE SUBSCRIPTION s CONNECTION 'dbname=app' PUBLICATION p WITH (connect = false)}, notx => 1 ],
	[ agent => app => 'CREATE OR REPLACE VIEW order_source AS SELECT * FROM sales LIMIT 1; REFRESH MATERIALIZED VIEW sales_copy' ],
	[ agent => app => 'REFRESH MATERIALIZED VIEW order_totals WITH NO DATA' ],
	[ agent => app => q{CREATE OR REPLACE VIEW order_source AS SELECT * FROM sales WHERE false; REFRESH MATERIALIZED VIEW order_totals} ],
	[ agent => app => q{CREATE OR REPLACE VIEW order_source AS SELECT * FROM sales WHERE false; REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals} ],
	[ super => postgres => q{SELECT tfguard.issue_token(current_user, ARRAY['drop_table'])}, audited => 0 ],
);
cmp_ok(scalar(@attacks), '>=', 50, scalar(@attacks) . ' distinct attempts');

for my $attack (@attacks)
{
	my ($who, $db, $sql, %expect) = @$attack;
	my $code = $expect{code} // '42501';
	my $audited = $expect{audited} // 1;
	my $before = audit_rows();
	my ($ret, $out, $err) = $node->psql($db, $expect{notx} ? $sql : "BEGIN; $sql",
		extra_params => [ '-U', $who eq 'agent' ? 'agent' : $node->{_user} // 'postgres',
						  '-v', 'VERBOSITY=verbose', '-v', 'ON_ERROR_STOP=1' ]);
	my $label = "$who in $db: $sql";
	like($err, qr/ERROR:  $code:/, "refused with $code: $label");
	if ($audited)
	{
		cmp_ok(audit_rows(), '>', $before, "recorded: $label");
	}
	is($node->safe_psql('app', $intact_sql), $intact, "data intact: $label");
}

# the guard is still on and still itself
is($node->safe_psql('postgres', 'SHOW tfguard.mode'), 'enforce', 'tfguard.mode is still enforce');
$node->restart;
is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'), 'tfguard',
	'after a restart tfguard is still preloaded');
is($node->safe_psql('app', $intact_sql), $intact, 'after a restart the data is intact');
my ($ret, $out, $err) = $node->psql('app', 'DROP TABLE orders', extra_params => [ '-U', 'agent' ]);
like($err, qr/tfguard refused/, 'and the guard still refuses');

$node->stop;
done_testing();
