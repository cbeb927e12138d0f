# The DBA tools production runs, the real ones from Debian (installed by
# scripts/test.sh): pg_repack and pg_partman's retention.  Without a
# standing rule each is refused cleanly (data intact, audited, pg_repack's
# retry loop paced instead of flooding the trail); with the rule README
# gives for it, pg_repack completes with rows, indexes and foreign key as
# they were, and pg_partman drops exactly the expired partitions.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use TfguardTest;

my $bindir = `$ENV{PG_CONFIG} --bindir`;
chomp $bindir;
my $sharedir = `$ENV{PG_CONFIG} --sharedir`;
chomp $sharedir;
plan skip_all => "pg_repack is not installed for this PostgreSQL (Debian: postgresql-NN-repack)"
  unless -x "$bindir/pg_repack";
plan skip_all => "pg_partman is not installed for this PostgreSQL (Debian: postgresql-NN-partman)"
  unless -f "$sharedir/extension/pg_partman.control";

my $node = new_guarded_node('tools', 'tfguard.refusal_pace = on');
$node->safe_psql('postgres', q{
	CREATE ROLE dba LOGIN IN ROLE tfguard_admin;
	CREATE ROLE repacker LOGIN SUPERUSER;
	CREATE ROLE partman_job LOGIN;
	CREATE DATABASE app;
});
$node->safe_psql('app', q{
	CREATE EXTENSION pg_repack;
	CREATE TABLE public.customers (id int PRIMARY KEY, name text);
	INSERT INTO public.customers SELECT g, 'customer ' || g FROM generate_series(1, 1000) g;
	CREATE TABLE public.orders (id int PRIMARY KEY, customer int REFERENCES public.customers, amount int);
	CREATE INDEX orders_amount ON public.orders (amount);
	INSERT INTO public.orders SELECT g, 1 + g % 1000, g FROM generate_series(1, 20000) g;
	SELECT pg_stat_force_next_flush();
});
# a third of the rows deleted in batches a guard lets through: bloat to repack
for my $batch (0 .. 19)
{
	my $from = $batch * 1000;
	$node->safe_psql('app',
		"DELETE FROM public.orders WHERE id > $from AND id <= $from + 1000 AND id % 3 = 0");
}

my $state_sql = q{
	SELECT count(*) || '/' || sum(amount) || '/' || md5(string_agg(id || ':' || customer || ':' || amount, ',' ORDER BY id))
	  FROM public.orders};
my $shape_sql = q{
	SELECT (SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'orders') || '|' ||
		   (SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint WHERE conrelid = 'public.orders'::regclass)};
my $state = $node->safe_psql('app', $state_sql);
my $shape = $node->safe_psql('app', $shape_sql);
my $filenode = $node->safe_psql('app', q{SELECT pg_relation_filenode('public.orders')});

sub audit_rows
{
	my ($where) = @_;
	return $node->safe_psql('postgres', "SELECT count(*) FROM tfguard.audit_log WHERE $where");
}

# ---------- pg_repack without a rule: refused, and its retries paced ----------

my @repack = ("$bindir/pg_repack", '-h', $node->host, '-p', $node->port,
	'-U', 'repacker', '-d', 'app', '-t', 'public.orders');
my ($out, $err) = ('', '');
# it never gives up: stopped after 20 s
eval { IPC::Run::run(\@repack, '>', \$out, '2>', \$err, IPC::Run::timeout(20)); };
like($err, qr/tfguard refused drop_table of table "repack\.log_\d+"/,
	'pg_repack without a rule: its last step is refused');
my $refusals = audit_rows(q{session_role = 'repacker' AND decision = 'blocked'});
cmp_ok($refusals, '<=', 20, "its retry loop is paced: $refusals refusals in about 20 s, not thousands");
cmp_ok($refusals, '>=', 3, 'and each retry is still recorded');
is($node->safe_psql('app', $state_sql), $state, 'rows intact');

# ---------- the rule README gives for pg_repack ----------

# pg_repack runs as a superuser: only another superuser gives it a rule
my $rule = $node->safe_psql('postgres', q{
	SELECT tfguard.add_rule('repacker', ARRAY['drop_table', 'delete_all', 'mass_delete'], ARRAY['repack.*'],
							database => 'app', reason => 'pg_repack: its own work tables in schema repack')});
# what the killed run left behind, cleaned up as pg_repack's documentation says
$node->safe_psql('app', 'DROP EXTENSION pg_repack CASCADE; CREATE EXTENSION pg_repack',
	extra_params => [ '-U', 'repacker' ]);
($out, $err) = ('', '');
my $ok = IPC::Run::run(\@repack, '>', \$out, '2>', \$err, IPC::Run::timeout(120));
ok($ok, 'pg_repack completes under its rule') or diag($err);
isnt($node->safe_psql('app', q{SELECT pg_relation_filenode('public.orders')}), $filenode,
	'the table was rewritten');
is($node->safe_psql('app', $state_sql), $state, 'the same rows, the same contents');
is($node->safe_psql('app', $shape_sql), $shape, 'the same indexes and constraints');
is($node->safe_psql('app', q{SELECT count(*) FROM public.orders o LEFT JOIN public.customers c ON c.id = o.customer WHERE c.id IS NULL}),
	'0', 'the foreign key holds');
cmp_ok(audit_rows("session_role = 'repacker' AND decision = 'allowed' AND token_id = 'rule:$rule'"), '>=', 2,
	'its drops are in the trail with the rule');
is(audit_rows("session_role = 'repacker' AND decision = 'blocked' AND id > $rule"), '0',
	'nothing of it refused');

# ---------- pg_partman retention ----------

$node->safe_psql('app', q{
	CREATE SCHEMA partman;
	CREATE EXTENSION pg_partman SCHEMA partman;
	GRANT ALL ON SCHEMA partman, public TO partman_job;
	GRANT ALL ON ALL TABLES IN SCHEMA partman TO partman_job;
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA partman TO partman_job;
	GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA partman TO partman_job;
	SET ROLE partman_job;
	CREATE TABLE public.logs (id bigint, created_at timestamptz NOT NULL, msg text)
		PARTITION BY RANGE (created_at);
	SELECT partman.create_parent('public.logs', 'created_at', 'native', 'daily',
								 p_start_partition := (now() - interval '10 days')::date::text);
	INSERT INTO public.logs SELECT g, now() - (g % 10) * interval '1 day', 'message ' || g
	  FROM generate_series(1, 5000) g;
	UPDATE partman.part_config SET retention = '3 days', retention_keep_table = false
	 WHERE parent_table = 'public.logs';
});
my $partitions_sql = q{
	SELECT string_agg(c.relname, ',' ORDER BY c.relname)
	  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	 WHERE i.inhparent = 'public.logs'::regclass};
# expired: a partition whose upper bound is older than the retention
my $kept_sql = q{
	SELECT string_agg(c.relname, ',' ORDER BY c.relname)
	  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	 WHERE i.inhparent = 'public.logs'::regclass
	   AND NOT coalesce((regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz
						< now() - interval '3 days', false)};
my $before = $node->safe_psql('app', $partitions_sql);
my $expected = $node->safe_psql('app', $kept_sql);
isnt($before, $expected, 'some partitions have expired');
my $rows_kept = $node->safe_psql('app', q{SELECT count(*) FROM public.logs WHERE created_at >= now() - interval '3 days' - interval '1 day'});

my $ret;
($ret, $out, $err) = $node->psql('app', 'CALL partman.run_maintenance_proc()',
	extra_params => [ '-U', 'partman_job' ]);
like($err, qr/tfguard refused drop_table of table "public\.logs_p\d{4}_\d\d_\d\d"/,
	'pg_partman retention without a rule: refused');
is($node->safe_psql('app', $partitions_sql), $before, 'every partition intact');
is(audit_rows(q{session_role = 'partman_job' AND decision = 'blocked'}), '1', 'audited');

my $rule2 = $node->safe_psql('postgres', q{
	SET ROLE dba;
	SELECT tfguard.add_rule('partman_job', ARRAY['drop_table'], ARRAY['public.logs'],
							max_rows => 1000, database => 'app',
							reason => 'pg_partman retention of public.logs')});
($ret, $out, $err) = $node->psql('app', 'CALL partman.run_maintenance_proc()',
	extra_params => [ '-U', 'partman_job' ]);
is($ret, 0, 'pg_partman retention runs under its rule') or diag($err);
is($node->safe_psql('app', $partitions_sql), $expected,
	'exactly the expired partitions are gone');
my @dropped = grep { my $p = $_; $expected !~ /\b$p\b/ } split /,/, $before;
is(audit_rows("session_role = 'partman_job' AND decision = 'allowed' AND token_id = 'rule:$rule2'"),
	scalar(@dropped), 'each drop is in the trail with the rule');
is($node->safe_psql('app', q{SELECT count(*) FROM public.logs WHERE created_at >= now() - interval '3 days' - interval '1 day'}),
	$rows_kept, 'the rows of the kept partitions are all there');
($ret, $out, $err) = $node->psql('app', 'DROP TABLE public.logs',
	extra_params => [ '-U', 'partman_job' ]);
like($err, qr/tfguard refused drop_table of partitioned table "public.logs".*more than the 1000 rows standing rule $rule2 allows/s,
	'max_rows keeps the rule to partitions: the whole table with its kept partitions is refused');

$node->stop;
done_testing();
