# Real clients do what agents do: a psql "reset" script, dropdb, pg_restore
# --clean into the live database, an ORM (SQLAlchemy) and a Node.js client
# (pg, extended protocol).  Each runs as a restricted role against data it
# owns: the tool must fail, the data stay, the refusal be in the trail;
# then, with a token for exactly that operation, the same tool succeeds
# and the use is recorded.  pg_dump is not affected.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TfguardTest;

my $node = new_guarded_node('clients');
$node->safe_psql('postgres', q{
	CREATE ROLE agent LOGIN CREATEDB;
	CREATE DATABASE app OWNER agent;
	CREATE DATABASE scratch OWNER agent;
});

my $schema = q{
	CREATE TABLE customers (id int PRIMARY KEY, name text);
	CREATE TABLE orders (id int PRIMARY KEY, customer int REFERENCES customers);
};
# (Re)create the agent's tables with data; tfguard is switched off for it,
# as a DBA would, since it drops what is there.
sub seed
{
	$node->append_conf('postgresql.conf', "tfguard.mode = 'off'");
	$node->reload;
	$node->safe_psql('app', "SET ROLE agent; DROP TABLE IF EXISTS orders, customers; $schema"
		  . q{ INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 10) g;
			   INSERT INTO orders SELECT g, 1 + g % 10 FROM generate_series(1, 100) g;});
	$node->append_conf('postgresql.conf', "tfguard.mode = 'enforce'");
	$node->reload;
}
seed();

sub counts
{
	return $node->safe_psql('app',
		'SELECT (SELECT count(*) FROM customers) || \'/\' || (SELECT count(*) FROM orders)');
}

sub token
{
	my ($args) = @_;
	return $node->safe_psql('postgres', "SELECT tfguard.issue_token('agent', $args)");
}

sub refusals_of
{
	my ($operation) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM tfguard.audit_log WHERE session_role = 'agent' AND operation = '$operation' AND decision = 'blocked'");
}

sub allowed_of
{
	my ($operation) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM tfguard.audit_log WHERE session_role = 'agent' AND operation = '$operation' AND decision = 'allowed' AND token_id IS NOT NULL");
}

# Run a client program as the agent; returns (exit ok, stdout, stderr).
sub run_client
{
	my ($cmd, %env) = @_;
	local $ENV{PGHOST} = $node->host;
	local $ENV{PGPORT} = $node->port;
	local $ENV{PGUSER} = 'agent';
	local $ENV{PGDATABASE} = 'app';
	local $ENV{PGOPTIONS} = $env{token} ? "-c tfguard.token=$env{token}" : undef;
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run($cmd, '>', \$out, '2>', \$err);
	return ($ok, $out, $err);
}

my $workdir = $node->basedir;
is(counts(), '10/100', 'the agent\'s data');

# ---- psql -f of a "reset" script ----
my $reset = "$workdir/reset.sql";
open my $fh, '>', $reset or die $!;
print $fh "DROP TABLE IF EXISTS orders CASCADE;\nDROP TABLE IF EXISTS customers CASCADE;\n$schema";
close $fh;
my $before = refusals_of('drop_table');
my ($ok, $out, $err) = run_client([ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-f', $reset ]);
ok(!$ok, 'psql -f reset.sql exits non-zero');
like($err, qr/tfguard refused drop_table of table "public.orders"/, 'psql reports the refusal');
is(counts(), '10/100', 'psql -f: data intact');
cmp_ok(refusals_of('drop_table'), '>', $before, 'psql -f: the refusal is in the trail');
($ok, $out, $err) = run_client([ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-f', $reset ],
	token => token(q{ARRAY['drop_table'], ARRAY['public.orders', 'public.customers']}));
ok($ok, 'psql -f with a token for exactly those drops succeeds') or diag($err);
is(counts(), '0/0', 'the reset happened');
is(allowed_of('drop_table'), '2', 'and both drops are recorded as allowed with the token');
seed();

# ---- dropdb ----
($ok, $out, $err) = run_client([ 'dropdb', 'scratch' ]);
ok(!$ok, 'dropdb exits non-zero');
like($err, qr/tfguard refused drop_database of database "scratch"/, 'dropdb reports the refusal');
($ok, $out, $err) = run_client([ 'dropdb', 'scratch' ],
	token => token(q{ARRAY['drop_database'], ARRAY['scratch']}));
ok($ok, 'dropdb with a token for exactly that database succeeds') or diag($err);
is(allowed_of('drop_database'), '1', 'dropdb: the use is recorded');

# ---- pg_dump is not affected; pg_restore --clean into the live database ----
my $dump = "$workdir/app.dump";
($ok, $out, $err) = run_client([ 'pg_dump', '-Fc', '-f', $dump ]);
ok($ok, 'pg_dump is not affected') or diag($err);
$node->safe_psql('app', 'INSERT INTO customers VALUES (11, \'after the dump\')');

($ok, $out, $err) = run_client([ 'pg_restore', '--clean', '--if-exists', '--single-transaction',
	'-d', 'app', $dump ]);
ok(!$ok, 'pg_restore --clean --single-transaction exits non-zero');
like($err, qr/tfguard refused drop_table/, 'pg_restore reports the refusal');
is(counts(), '11/100', 'pg_restore --single-transaction: nothing changed, rows intact');

# Without --single-transaction pg_restore goes on after the error: the
# unguarded steps (dropping constraints and indexes) happen, the table
# drops are refused, and the data is reloaded on top of what is there.
($ok, $out, $err) = run_client([ 'pg_restore', '--clean', '--if-exists', '-d', 'app', $dump ]);
ok(!$ok, 'pg_restore --clean without --single-transaction exits non-zero');
cmp_ok($node->safe_psql('app', 'SELECT count(*) FROM orders'), '>=', 100,
	'without --single-transaction: no row was lost (some may be duplicated)');
is($node->safe_psql('app',
	"SELECT count(*) FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype = 'p'"),
	'0', 'without --single-transaction: the primary key is gone (documented)');

($ok, $out, $err) = run_client([ 'pg_restore', '--clean', '--if-exists', '--single-transaction',
	'-d', 'app', $dump ],
	token => token(q{ARRAY['drop_table'], ARRAY['public.orders', 'public.customers']}));
ok($ok, 'pg_restore with a token for exactly those tables succeeds') or diag($err);
is(counts(), '10/100', 'the restore brought the dump back');
is(allowed_of('drop_table'), '4', 'pg_restore: the drops are recorded as allowed');

# ---- SQLAlchemy (Debian's python3-sqlalchemy, python3-psycopg2) ----
my $dsn = 'postgresql+psycopg2://agent@/app?host=' . $node->host . '&port=' . $node->port;
for my $mode ('drop_all', 'delete_all')
{
	my $operation = $mode eq 'drop_all' ? 'drop_table' : 'delete_all';
	my @cmd = ('/usr/bin/python3', 't/clients/sqlalchemy_wipe.py', $mode, $dsn);
	$before = refusals_of($operation);
	($ok, $out, $err) = run_client(\@cmd);
	ok(!$ok, "SQLAlchemy $mode raises");
	like($err, qr/tfguard refused $operation/, "SQLAlchemy $mode: the refusal is what it raised");
	is(counts(), '10/100', "SQLAlchemy $mode: data intact");
	cmp_ok(refusals_of($operation), '>', $before, "SQLAlchemy $mode: in the trail");
}
($ok, $out, $err) = run_client([ '/usr/bin/python3', 't/clients/sqlalchemy_wipe.py', 'drop_all', $dsn ],
	token => token(q{ARRAY['drop_table'], ARRAY['public.orders', 'public.customers']}));
ok($ok, 'SQLAlchemy drop_all with a token for exactly those tables succeeds') or diag($err);
is($node->safe_psql('app', "SELECT to_regclass('orders') IS NULL AND to_regclass('customers') IS NULL"),
	't', 'drop_all dropped them');
is(allowed_of('drop_table'), '6', 'SQLAlchemy drop_all: the uses are recorded');
seed();
my $allowed = allowed_of('delete_all');
($ok, $out, $err) = run_client([ '/usr/bin/python3', 't/clients/sqlalchemy_wipe.py', 'delete_all', $dsn ],
	token => token(q{ARRAY['delete_all'], ARRAY['public.orders']}));
ok($ok, 'SQLAlchemy bulk delete with a token succeeds') or diag($err);
is(counts(), '10/0', 'the bulk delete happened');
is(allowed_of('delete_all'), $allowed + 1, 'SQLAlchemy: the use is recorded');
$node->safe_psql('app', 'INSERT INTO orders SELECT g, 1 + g % 10 FROM generate_series(1, 100) g');

# ---- Node.js, pg from npm, extended protocol ----
SKIP:
{
	skip 'the pg package from npm is not installed in t/clients (see scripts/test.sh)', 11
	  unless -d 't/clients/node_modules/pg';
	for my $mode ('delete', 'truncate')
	{
		my $operation = $mode eq 'delete' ? 'delete_all' : 'truncate';
		$before = refusals_of($operation);
		($ok, $out, $err) = run_client([ 'node', 't/clients/node_wipe.js', $mode ]);
		like($err, qr/^42501: tfguard refused $operation of table "public.orders"/m,
			"node pg $mode: rejected with 42501");
		is(counts(), '10/100', "node pg $mode: data intact");
		cmp_ok(refusals_of($operation), '>', $before, "node pg $mode: in the trail");
	}
	($ok, $out, $err) = run_client([ 'node', 't/clients/node_wipe.js', 'delete' ],
		token => token(q{ARRAY['delete_all'], ARRAY['public.orders']}));
	ok($ok, 'node pg DELETE ... WHERE $1 with a token succeeds') or diag($err);
	is(counts(), '10/0', 'node pg: the delete happened');
	$node->safe_psql('app', 'INSERT INTO orders SELECT g, 1 + g % 10 FROM generate_series(1, 100) g');
	($ok, $out, $err) = run_client([ 'node', 't/clients/node_wipe.js', 'truncate' ],
		token => token(q{ARRAY['truncate'], ARRAY['public.orders']}));
	ok($ok, 'node pg TRUNCATE with a token succeeds') or diag($err);
	is(counts(), '10/0', 'node pg: the truncate happened');
	is(allowed_of('truncate'), '1', 'node pg: the use is recorded');
}

$node->stop;
done_testing();
