# The audit trail across sessions, databases, crashes and time: every
# attempt whose outcome reached a client is committed in tfguard.audit_log
# of the home database, also after an immediate stop or a kill -9; the
# guard fails closed while the trail cannot be written and recovers after.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TfguardTest;

my $node = new_guarded_node('audit', "listen_addresses = '127.0.0.1'",
	'restart_after_crash = on');
$node->append_conf('pg_hba.conf', 'host all all 127.0.0.1/32 trust');
$node->reload;

$node->safe_psql('postgres', q{
	CREATE ROLE agent LOGIN CREATEDB;
	CREATE DATABASE app OWNER agent;
});
$node->safe_psql('app', q{
	SET ROLE agent;
	CREATE TABLE t (id int);
	INSERT INTO t SELECT generate_series(1, 10);
});

sub audit_ids_in
{
	my ($text) = @_;
	return ($text =~ /audit id (\d+)/g);
}

sub audit_row
{
	my ($id) = @_;
	return $node->safe_psql('postgres',
		"SELECT database_name, session_role, \"current_role\", client_addr,"
		  . " application_name, operation, object_name, statement, decision"
		  . " FROM tfguard.audit_log WHERE id = $id");
}

sub writer_pid
{
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'tfguard audit writer'");
}

# ---- a refusal in another database, over TCP, is recorded in full ----
my ($ret, $out, $err) = $node->psql('app', 'DROP TABLE t',
	extra_params => [ '-h', '127.0.0.1', '-U', 'agent' ],
	connstr => 'dbname=app application_name=deployer');
my ($id) = audit_ids_in($err);
ok(defined $id, 'the refusal names its audit id');
is(audit_row($id),
	'app|agent|agent|127.0.0.1|deployer|drop_table|public.t|DROP TABLE t|blocked',
	'the row holds who, where, from which address, what and the decision');
ok($node->log_contains(
		qr/tfguard: id=$id logged_at="[^"]+" decision="blocked" operation="drop_table" object_name="public.t" database_name="app" session_role="agent"/),
	'the same event is one "tfguard:" line in the server log');

# DROP DATABASE issued from a third database, about a database that is
# neither the home one nor the current one.
$node->safe_psql('postgres', 'CREATE DATABASE other');
($ret, $out, $err) = $node->psql('other', 'DROP DATABASE app WITH (FORCE)',
	extra_params => [ '-U', 'agent' ]);
($id) = audit_ids_in($err);
like(audit_row($id), qr/^other\|agent\|agent\|\|[^|]*\|drop_database\|app\|/,
	'DROP DATABASE from another database is recorded in the home database');

# ---- fail closed while the writer is stuck, recover when it is back ----
$node->append_conf('postgresql.conf', 'tfguard.audit_timeout = 1s');
$node->reload;
my $writer = writer_pid();
kill 'STOP', $writer;
($ret, $out, $err) = $node->psql('app', 'TRUNCATE t',
	extra_params => [ '-U', 'agent' ]);
like($err, qr/ERROR:  tfguard refused truncate of table "public.t"/,
	'writer stuck: the guarded operation is refused');
like($err, qr/could not be recorded in the audit trail \(the audit writer did not commit the record within tfguard.audit_timeout/,
	'writer stuck: the refusal says the attempt could not be recorded');
is($node->safe_psql('app', 'INSERT INTO t VALUES (11) RETURNING id'), '11',
	'writer stuck: ordinary work goes on');
kill 'CONT', $writer;
($ret, $out, $err) = $node->psql('app', 'TRUNCATE t',
	extra_params => [ '-U', 'agent' ]);
ok(scalar(audit_ids_in($err)), 'writer back: refusals are recorded again');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM tfguard.audit_log WHERE operation = 'truncate'"),
	'2', 'the attempt made while the writer was stuck was recorded late');

# A terminated writer is restarted by the postmaster.
$node->safe_psql('postgres', "SELECT pg_terminate_backend($writer)");
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'tfguard audit writer' AND pid <> $writer")
  or die 'no new audit writer';
($ret, $out, $err) = $node->psql('app', 'DELETE FROM t',
	extra_params => [ '-U', 'agent' ]);
ok(scalar(audit_ids_in($err)), 'after the writer was terminated, a new one records');

# Without the extension in the home database there is no trail: fail closed.
$node->append_conf('postgresql.conf', "tfguard.mode = 'off'");
$node->reload;
$node->safe_psql('postgres', 'DROP EXTENSION tfguard');
$node->append_conf('postgresql.conf', "tfguard.mode = 'enforce'");
$node->reload;
($ret, $out, $err) = $node->psql('app', 'DELETE FROM t',
	extra_params => [ '-U', 'agent' ]);
like($err, qr/could not be recorded in the audit trail \(extension tfguard is not installed in database "postgres"\)/,
	'extension missing: refused, saying why');
is($node->safe_psql('app', 'SELECT count(*) FROM t'), '11',
	'extension missing: data intact, ordinary work goes on');
$node->safe_psql('postgres', 'CREATE EXTENSION tfguard');
($ret, $out, $err) = $node->psql('app', 'DELETE FROM t',
	extra_params => [ '-U', 'agent' ]);
ok(scalar(audit_ids_in($err)), 'extension back: recorded again');
$node->append_conf('postgresql.conf', 'tfguard.audit_timeout = 5s');
$node->reload;

# ---- floods ----

# Start $clients psql sessions, each sending $statements refused DELETEs.
# Their output goes to files, so that no client blocks on a full pipe.
my $flood_no = 0;
sub start_flood
{
	my ($clients, $statements) = @_;
	my $script = $node->basedir . '/flood.sql';
	open my $fh, '>', $script or die $!;
	print $fh "DELETE FROM t;\n" x $statements;
	close $fh;
	my @flood;
	for (1 .. $clients)
	{
		my %c = (stderr => $node->basedir . '/flood_' . ++$flood_no . '.err');
		$c{harness} = IPC::Run::start(
			[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=0',
			  '-h', $node->host, '-p', $node->port, '-U', 'agent',
			  '-d', 'app', '-f', $script ],
			'>', '/dev/null', '2>', $c{stderr});
		push @flood, \%c;
	}
	return @flood;
}

# Wait for the flood to end; return the audit ids the clients were told.
sub finish_flood
{
	my @ids;
	for my $c (@_)
	{
		$c->{harness}->finish;
		push @ids, audit_ids_in(slurp_file($c->{stderr}));
	}
	return @ids;
}

# After a crash the server restarts on its own; psql started too early
# exits before reading its input, so ask pg_isready first.
sub wait_until_ready
{
	for (1 .. 600)
	{
		return
		  if IPC::Run::run([ 'pg_isready', '-q', '-h', $node->host, '-p', $node->port ]);
		select(undef, undef, undef, 0.1);
	}
	die 'the server did not come back';
}

sub missing_ids
{
	my @ids = @_;
	return 0 unless @ids;
	return $node->safe_psql('postgres',
		'SELECT count(*) FROM unnest(ARRAY[' . join(',', @ids) . ']) AS seen(id)'
		  . ' WHERE NOT EXISTS (SELECT 1 FROM tfguard.audit_log a WHERE a.id = seen.id)');
}

# Eight concurrent floods: every refusal recorded once, commits shared.
my $rows_before = $node->safe_psql('postgres', 'SELECT count(*) FROM tfguard.audit_log');
my @ids = finish_flood(start_flood(8, 100));
is(scalar(@ids), 800, 'concurrent floods: every client heard 100 refusals');
is(scalar(keys %{ { map { $_ => 1 } @ids } }), 800, 'each with its own audit id');
is(missing_ids(@ids), '0', 'every one of them is in the trail');
is($node->safe_psql('postgres', 'SELECT count(*) FROM tfguard.audit_log') - $rows_before,
	800, 'and nothing else was added');
my $writer_commits = $node->safe_psql('postgres',
	"SELECT count(DISTINCT xmin::text) FROM tfguard.audit_log WHERE id > (SELECT max(id) - 800 FROM tfguard.audit_log)");
note("800 refusals from 8 clients took $writer_commits commits of the audit writer");
cmp_ok($writer_commits, '<', 800, 'concurrent refusals shared commits');
is($node->safe_psql('app', 'SELECT count(*) FROM t'), '11', 'floods: data intact');
$rows_before = $node->safe_psql('postgres', 'SELECT count(*) FROM tfguard.audit_log');

# Immediate stop in the middle of a flood, then a kill -9 of the writer and
# of a flooding backend: whatever a client was told is in the trail.
for my $crash ('immediate stop', 'kill -9 of the writer', 'kill -9 of a backend')
{
	my @flood = start_flood(4, 3000);
	$node->poll_query_until('postgres',
		"SELECT count(*) >= $rows_before + 500 FROM tfguard.audit_log")
	  or die 'flood did not start';
	$rows_before = $node->safe_psql('postgres', 'SELECT count(*) FROM tfguard.audit_log');
	if ($crash eq 'immediate stop')
	{
		$node->stop('immediate');
	}
	elsif ($crash eq 'kill -9 of the writer')
	{
		kill 'KILL', writer_pid();
	}
	else
	{
		kill 'KILL', $node->safe_psql('postgres',
			"SELECT pid FROM pg_stat_activity WHERE datname = 'app' AND usename = 'agent' LIMIT 1");
	}
	@ids = finish_flood(@flood);
	$node->start if $crash eq 'immediate stop';
	wait_until_ready();
	ok(scalar(@ids) > 0 && scalar(@ids) < 12000,
		"$crash: the flood was cut short after " . scalar(@ids) . ' refusals');
	is(missing_ids(@ids), '0', "$crash: every refusal a client heard is in the trail");
	$rows_before = $node->safe_psql('postgres', 'SELECT count(*) FROM tfguard.audit_log');
}
is($node->safe_psql('app', 'SELECT count(*) FROM t'), '11', 'crashes: data intact');

$node->stop;

# Without its home database the writer cannot run at all: refusals come
# at once, not after the whole timeout, and say why.
my $homeless = new_guarded_node('homeless', "tfguard.database = 'nowhere'",
	'tfguard.audit_timeout = 60s');
$homeless->safe_psql('postgres', 'CREATE TABLE t (id int)');
my $started = time;
($ret, $out, $err) = $homeless->psql('postgres', 'DROP TABLE t');
like($err, qr/could not be recorded in the audit trail \(the tfguard audit writer is not running\)/,
	'home database missing: refused because the writer is not running');
cmp_ok(time - $started, '<', 30, 'home database missing: refused without waiting out the timeout');
$homeless->stop;

done_testing();
