# What standbys and backups recover from (break_recovery): ALTER SYSTEM of
# the archiving, WAL and durability settings and the functions that drop
# or advance a replication slot are refused and recorded, by every route,
# and unlocked only by another administrator's token naming them.  And two
# routes of the second attack review: a logical replica emptied through a
# TRUNCATE of a table the publisher created in the same transaction (the
# rename trick), and postgres_fdw looping back into the same cluster.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TfguardTest;

my $node = new_guarded_node('pub', 'wal_level = logical', 'max_wal_senders = 10',
	'max_replication_slots = 10');
$node->safe_psql('postgres', q{
	CREATE ROLE dba LOGIN IN ROLE tfguard_admin;
	CREATE ROLE replicator LOGIN REPLICATION;
	CREATE ROLE agent LOGIN;
	SELECT pg_create_physical_replication_slot('standby1');
	SELECT pg_create_physical_replication_slot('backup1', true);
	SELECT pg_create_logical_replication_slot('cdc', 'test_decoding');
});
my $backup_lsn = $node->safe_psql('postgres',
	q{SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = 'backup1'});
$node->safe_psql('postgres', 'CREATE TABLE wal_filler AS SELECT generate_series(1, 10000) AS x');
my $auto_conf = slurp_file($node->data_dir . '/postgresql.auto.conf');

sub as_role
{
	my ($role, $db, $sql) = @_;
	my ($ret, $out, $err) =
	  $node->psql($db, $sql, extra_params => [ '-U', $role ], on_error_stop => 0);
	return ($ret, $out, $err);
}
sub slots
{
	return $node->safe_psql('postgres',
		q{SELECT string_agg(slot_name, ',' ORDER BY slot_name) FROM pg_replication_slots});
}

# ---------- the settings ----------

for my $setting (
	[ 'archive_mode', 'off' ], [ 'archive_command', q{'/bin/true'} ],
	[ 'archive_library', q{''} ], [ 'wal_level', 'minimal' ],
	[ 'max_wal_senders', '0' ], [ 'max_replication_slots', '0' ],
	[ 'wal_keep_size', '0' ], [ 'max_slot_wal_keep_size', '1' ],
	[ 'fsync', 'off' ], [ 'full_page_writes', 'off' ],
	[ 'idle_replication_slot_timeout', q{'1s'} ],
	[ 'basic_archive.archive_directory', q{'/tmp'} ])
{
	my ($name, $value) = @$setting;
	my ($ret, $out, $err) = as_role('postgres', 'postgres', "ALTER SYSTEM SET $name = $value");
	like($err, qr/tfguard refused break_recovery of setting "$name"/, "ALTER SYSTEM SET $name refused");
	($ret, $out, $err) = as_role('postgres', 'postgres', "ALTER SYSTEM RESET \U$name");
	like($err, qr/tfguard refused break_recovery of setting "$name"/, "ALTER SYSTEM RESET of it, in capitals, too");
}
is(slurp_file($node->data_dir . '/postgresql.auto.conf'), $auto_conf, 'postgresql.auto.conf unchanged');
my ($ret, $out, $err) = as_role('postgres', 'postgres', q{SELECT pg_replication_origin_create('orig1')});
for my $route (
	[ 'a second name for the drop (LANGUAGE internal)', q{CREATE FUNCTION public.my_drop(name) RETURNS void LANGUAGE internal STRICT AS 'pg_drop_replication_slot'} ],
	[ 'a second name for the advance', q{CREATE OR REPLACE FUNCTION public.my_adv(name, pg_lsn) RETURNS record LANGUAGE internal STRICT AS 'pg_replication_slot_advance'} ],
	[ 'an origin advanced by its transaction', q{SELECT pg_replication_origin_session_setup('orig1'); SELECT pg_replication_origin_xact_setup('FF/FFFFFFFF', now())} ],
	[ 'an origin dropped', q{SELECT pg_replication_origin_drop('orig1')} ])
{
	($ret, $out, $err) = as_role('postgres', 'postgres', $route->[1]);
	like($err, qr/tfguard refused break_recovery by function "pg_\w+"/, "$route->[0]: refused");
}
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_proc WHERE proname IN ('my_drop', 'my_adv')}), '0',
	'no second name was made');
($ret, $out, $err) = as_role('postgres', 'postgres', q{ALTER SYSTEM SET work_mem = '8MB'});
is($ret, 0, 'other settings change as before');
as_role('postgres', 'postgres', 'ALTER SYSTEM RESET work_mem');
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM tfguard.audit_log WHERE operation = 'break_recovery' AND decision = 'blocked' AND session_role = 'postgres'}),
	'28', 'each refusal recorded (12 settings set and reset, 4 function routes)');

# ---------- the slots ----------

for my $route (
	[ 'a direct call', q{SELECT pg_drop_replication_slot('standby1')} ],
	[ 'PL/pgSQL', q{DO $$ BEGIN PERFORM pg_drop_replication_slot('standby1'); END $$} ],
	[ 'dynamic SQL', q{DO $$ BEGIN EXECUTE format('SELECT pg_drop_replication_slot(%L)', 'standby1'); END $$} ],
	[ 'a prepared statement', q{PREPARE d(name) AS SELECT pg_drop_replication_slot($1); EXECUTE d('standby1')} ],
	[ 'a SQL function', q{CREATE FUNCTION pg_temp.d(s name) RETURNS void LANGUAGE sql AS 'SELECT pg_drop_replication_slot(s)'; SELECT pg_temp.d('standby1')} ],
	[ 'every slot at once', q{SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots} ],
	[ 'advancing it', q{SELECT pg_replication_slot_advance('backup1', pg_current_wal_lsn())} ],
	[ 'consuming a logical slot', q{SELECT count(*) FROM pg_logical_slot_get_changes('cdc', NULL, NULL)} ],
	[ 'consuming it as binary', q{SELECT count(*) FROM pg_logical_slot_get_binary_changes('cdc', NULL, NULL)} ])
{
	($ret, $out, $err) = as_role('postgres', 'postgres', $route->[1]);
	like($err, qr/tfguard refused break_recovery by function "pg_(drop_replication_slot|replication_slot_advance|logical_slot_get_changes|logical_slot_get_binary_changes)"/,
		"slot: $route->[0] refused");
}
($ret, $out, $err) = as_role('replicator', 'postgres', q{SELECT pg_drop_replication_slot('backup1')});
like($err, qr/tfguard refused break_recovery/, 'a REPLICATION role refused too');
is(slots(), 'backup1,cdc,standby1', 'the slots are still there');
($ret, $out, $err) = as_role('postgres', 'postgres', q{SELECT count(*) > 0 FROM pg_logical_slot_peek_changes('cdc', NULL, NULL)});
is($out, 't', 'peeking at a logical slot is free, and its changes are all still there');
is($node->safe_psql('postgres', q{SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = 'backup1'}),
	$backup_lsn, 'and not advanced');

# not approvable from its refusal: another admin's token names it
my $request = $node->safe_psql('postgres',
	q{SELECT max(id) FROM tfguard.audit_log WHERE operation = 'break_recovery'});
($ret, $out, $err) = as_role('dba', 'postgres', "SELECT tfguard.approve($request)");
like($err, qr/cannot be approved from its refusal.*ARRAY\['break_recovery'\]/s,
	'approve() says a token is the way');
my $token = $node->safe_psql('postgres', q{
	SET ROLE dba;
	SELECT tfguard.issue_token('replicator', ARRAY['break_recovery'], ARRAY['pg_drop_replication_slot'], '5 min',
							   reason => 'retire standby1')});
# one session: the token is pinned to the first that presents it
($ret, $out, $err) = as_role('replicator', 'postgres', qq{
	SET tfguard.token = '$token';
	SELECT pg_replication_slot_advance('backup1', pg_current_wal_lsn());
	SELECT pg_drop_replication_slot('standby1');});
like($err, qr/does not cover "pg_replication_slot_advance"/, 'a token naming the drop does not advance');
unlike($err, qr/refused break_recovery by function "pg_drop_replication_slot"/,
	'with the token the slot is dropped');
is(slots(), 'backup1,cdc', 'standby1 is gone');
like($node->safe_psql('postgres',
	q{SELECT decision || ' ' || token_id FROM tfguard.audit_log WHERE operation = 'break_recovery' ORDER BY id DESC LIMIT 1}),
	qr/^allowed /, 'recorded as allowed with the token');

# tfguard.guarded can leave break_recovery out (the configuration file only)
$node->append_conf('postgresql.conf',
	q{tfguard.guarded = 'drop_database,drop_table,truncate,delete_all,update_all,mass_delete,mass_update,drop_column'});
$node->reload;
$node->poll_query_until('postgres', q{SELECT current_setting('tfguard.guarded') <> 'all'});
($ret, $out, $err) = as_role('postgres', 'postgres', q{ALTER SYSTEM SET archive_timeout = '5min'});
is($ret, 0, 'archive_timeout is not a recovery setting');
($ret, $out, $err) = as_role('postgres', 'postgres', q{SELECT pg_replication_slot_advance('backup1', pg_current_wal_lsn())});
is($ret, 0, 'left out of tfguard.guarded, break_recovery is not guarded');
$node->append_conf('postgresql.conf', q{tfguard.guarded = 'all'});
$node->reload;
$node->poll_query_until('postgres', q{SELECT current_setting('tfguard.guarded') = 'all'});

# ---------- logical replication: the replica emptied through a rename ----------

my $sub = new_guarded_node('sub');
for my $n ($node, $sub)
{
	$n->safe_psql('postgres', 'CREATE DATABASE appdb');
	$n->safe_psql('appdb', q{
		CREATE TABLE public.customers (id int PRIMARY KEY);
		CREATE TABLE public.orders (id int PRIMARY KEY, customer int REFERENCES public.customers);
	});
}
$node->safe_psql('appdb', q{
	INSERT INTO public.customers SELECT generate_series(1, 50);
	INSERT INTO public.orders SELECT g, 1 + g % 50 FROM generate_series(1, 5000) g;
	CREATE PUBLICATION everything FOR ALL TABLES;
	GRANT CREATE ON SCHEMA public TO agent;
	ALTER TABLE public.orders OWNER TO agent;
	ALTER TABLE public.customers OWNER TO agent;
});
my $connstr = $node->connstr . ' dbname=appdb';
$sub->safe_psql('appdb', "CREATE SUBSCRIPTION everything CONNECTION '$connstr' PUBLICATION everything");
$sub->wait_for_subscription_sync($node, 'everything');
is($sub->safe_psql('appdb', 'SELECT count(*) FROM public.orders'), '5000', 'the replica has the rows');

($ret, $out, $err) = as_role('agent', 'appdb', q{
	BEGIN;
	ALTER TABLE orders RENAME TO orders_keep;
	CREATE TABLE orders (LIKE orders_keep);
	TRUNCATE orders;
	DROP TABLE orders;
	ALTER TABLE orders_keep RENAME TO orders;
	COMMIT});
like($err, qr/tfguard refused truncate of table "public.orders"/,
	'rename trick: the published TRUNCATE of the new table is refused');
($ret, $out, $err) = as_role('agent', 'appdb', q{
	BEGIN;
	ALTER TABLE orders RENAME TO orders_keep;
	ALTER TABLE customers RENAME TO customers_keep;
	CREATE TABLE customers (LIKE customers_keep);
	CREATE TABLE orders (LIKE orders_keep);
	TRUNCATE customers, orders;
	DROP TABLE customers, orders;
	ALTER TABLE orders_keep RENAME TO orders;
	ALTER TABLE customers_keep RENAME TO customers;
	COMMIT});
like($err, qr/tfguard refused truncate of table "public.(customers|orders)".*1 more: "public.(customers|orders)"/s,
	'rename trick over two tables: both refused, in one decision');
($ret, $out, $err) = as_role('agent', 'appdb', q{
	BEGIN;
	ALTER TABLE orders RENAME TO orders_keep;
	CREATE UNLOGGED TABLE orders (LIKE orders_keep INCLUDING ALL);
	INSERT INTO orders SELECT * FROM orders_keep;
	ALTER TABLE orders SET LOGGED;
	DELETE FROM orders;
	COMMIT});
like($err, qr/tfguard refused delete_all of table "public.orders"/,
	'rename trick with DELETE: the published DELETE of every row of the new table is refused');
($ret, $out, $err) = as_role('agent', 'appdb', q{
	BEGIN; CREATE TABLE scratch (id int); TRUNCATE scratch; COMMIT});
like($err, qr/tfguard refused truncate of table "public.scratch"/,
	'any TRUNCATE a publication publishes is guarded, new table or not');
($ret, $out, $err) = as_role('agent', 'appdb', q{
	BEGIN; CREATE TEMP TABLE scratch (id int); TRUNCATE scratch; COMMIT});
is($ret, 0, 'a temporary table is not published: its TRUNCATE is free');
$node->safe_psql('appdb', 'INSERT INTO public.customers VALUES (51)');
$node->wait_for_catchup('everything');
is($sub->safe_psql('appdb', 'SELECT count(*) FROM public.orders'), '5000', 'the replica keeps its rows');
is($sub->safe_psql('appdb', 'SELECT count(*) FROM public.customers'), '51', 'and replication goes on');
($ret, $out, $err) = $sub->psql('appdb', 'ALTER SUBSCRIPTION everything SKIP (lsn = \'0/1\')');
like($err, qr/tfguard refused break_recovery of subscription "everything"/, 'ALTER SUBSCRIPTION ... SKIP refused');
($ret, $out, $err) = $sub->psql('appdb', 'DROP SUBSCRIPTION everything');
like($err, qr/tfguard refused break_recovery of subscription "everything"/,
	'DROP SUBSCRIPTION (and its slot on the publisher) refused');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'everything'}),
	'1', 'the publisher keeps the slot');

# ---------- postgres_fdw into the same cluster ----------

$node->safe_psql('postgres', q{
	CREATE DATABASE shop;
});
$node->safe_psql('shop', q{
	CREATE TABLE public.items (id int PRIMARY KEY, name text);
	INSERT INTO public.items SELECT g, 'item ' || g FROM generate_series(1, 1000) g;
	ALTER TABLE public.items OWNER TO agent;
	CREATE EXTENSION postgres_fdw;
	CREATE SCHEMA f AUTHORIZATION agent;
});
my ($host, $port) = ($node->host, $node->port);
$node->safe_psql('shop', qq{
	CREATE SERVER loop FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$host', port '$port', dbname 'shop');
	CREATE USER MAPPING FOR agent SERVER loop OPTIONS (user 'agent', password_required 'false');
	GRANT USAGE ON FOREIGN SERVER loop TO agent;
	SET ROLE agent;
	IMPORT FOREIGN SCHEMA public LIMIT TO (items) FROM SERVER loop INTO f;
});
($ret, $out, $err) = as_role('agent', 'shop', 'DELETE FROM f.items WHERE random() >= 0');
like($err, qr/tfguard refused mass_delete of table "public.items"/,
	'postgres_fdw loopback, a row at a time (WHERE ctid = $1): refused on the receiving side');
($ret, $out, $err) = as_role('agent', 'shop', 'DELETE FROM f.items WHERE id > 0');
like($err, qr/tfguard refused mass_delete of table "public.items"/,
	'postgres_fdw loopback, pushed down: refused too');
is($node->safe_psql('shop', 'SELECT count(*) FROM public.items'), '1000', 'rows intact');
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM tfguard.audit_log WHERE operation = 'mass_delete' AND object_name = 'public.items' AND decision = 'blocked'}),
	'2', 'both recorded');

$sub->stop;
$node->stop;
done_testing();
