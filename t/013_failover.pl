# Streaming replication and failover, as Patroni or CloudNativePG run it:
# a primary with tfguard preloaded, a synchronous streaming standby, and a
# cascading standby behind that one.
#  - an audit record is on the standby once the client heard the refusal;
#    with synchronous replication it was there before: a failover right
#    after the refusal keeps it, even with the standby's replay paused;
#  - on a standby tfguard logs nothing alarming, no audit writer starts
#    (none crash-loops), and tfguard.pending, tfguard.tokens and the
#    `tfguard` tool's read-only commands work;
#  - after promotion the writer starts, new records are numbered after the
#    old ones, and the unlocks of the old primary (tokens, approvals: shared
#    memory) are gone: the token is rejected with its reason, the approved
#    statement is refused again;
#  - the cascading standby follows the promoted one and keeps replaying
#    the trail.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TfguardTest;

# What a DBA would take for trouble from tfguard in a server log: a
# tfguard message at WARNING or above that is not the answer to one of
# this test's statements (those are refusals the test asked for), and the
# audit writer exiting (a crash loop shows up as one line per restart).
my $client = qr/\] \Q$ENV{PGAPPNAME}\E (?:ERROR|STATEMENT|DETAIL|HINT)/;

sub alarming_lines
{
	my ($node, $from) = @_;
	my $log = substr(slurp_file($node->logfile), $from);
	return join("\n",
		grep { (/tfguard/ && /\b(?:WARNING|ERROR|FATAL|PANIC):/ && !/$client/)
			  || /background worker "tfguard audit writer"/ }
		  split /\n/, $log);
}

# A standby has replayed what its upstream standby replayed (15's
# wait_for_catchup would ask a standby for pg_current_wal_lsn())
sub caught_up_with_standby
{
	my ($upstream, $node) = @_;
	$upstream->wait_for_catchup($node, 'replay', $upstream->lsn('replay'));
}

sub writer_pid
{
	my ($node) = @_;
	return $node->safe_psql('postgres', 'SELECT tfguard.writer_pid()');
}

sub audit_row
{
	my ($node, $id) = @_;
	return $node->safe_psql('postgres',
		"SELECT operation || ':' || object_name || ':' || decision FROM tfguard.audit_log WHERE id = $id");
}

# The agent's refused statement in a new session; returns the audit id.
sub refused_id
{
	my ($node, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('app', $sql, extra_params => [ '-U', 'agent' ]);
	like($err, qr/tfguard refused/, "refused on " . $node->name . ": $sql");
	my ($id) = $err =~ /audit id (\d+)/;
	return $id;
}

# The primary: streaming allowed, tfguard preloaded, the extension created
# once, in the home database.
my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'tfguard'");
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION tfguard;
	CREATE ROLE agent LOGIN;
	CREATE ROLE human LOGIN IN ROLE tfguard_admin;
	CREATE DATABASE app OWNER agent;
});
$primary->safe_psql('app', q{
	SET ROLE agent;
	CREATE TABLE orders (id int PRIMARY KEY);
	INSERT INTO orders SELECT generate_series(1, 100);
});

# The standbys: the primary's configuration comes with the base backup, so
# tfguard is preloaded on them too, as it must be on every node.  A standby
# cannot record, so the little it refuses itself should not make its
# clients wait long.
$primary->backup('primary_backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'primary_backup', has_streaming => 1);
$standby->append_conf('postgresql.conf', "tfguard.audit_timeout = '1s'");
$standby->start;
$standby->backup('standby_backup');
my $cascade = PostgreSQL::Test::Cluster->new('cascade');
$cascade->init_from_backup($standby, 'standby_backup', has_streaming => 1);
$cascade->append_conf('postgresql.conf', "tfguard.audit_timeout = '1s'");
$cascade->start;
$primary->wait_for_catchup($standby, 'replay');
caught_up_with_standby($standby, $cascade);

# ---- asynchronous: the record is on both standbys once the client heard ----
my $async_id = refused_id($primary, 'DROP TABLE orders');
$primary->wait_for_catchup($standby, 'replay');
caught_up_with_standby($standby, $cascade);
is(audit_row($standby, $async_id), 'drop_table:public.orders:blocked',
	'the refusal\'s record is on the standby');
is(audit_row($cascade, $async_id), 'drop_table:public.orders:blocked',
	'and on the cascading standby');

# ---- on a standby: quiet, no writer, read-only views and the tool ----
for my $node ($standby, $cascade)
{
	my $name = $node->name;
	is(alarming_lines($node, 0), '', "$name: tfguard logged nothing alarming");
	is(writer_pid($node), '0', "$name: no audit writer runs during recovery");
	is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'tfguard audit writer'"),
		'0', "$name: none in pg_stat_activity either");
	my ($ret, $out, $err) = $node->psql('postgres',
		'SELECT count(*) FROM tfguard.pending; SELECT count(*) FROM tfguard.tokens',
		extra_params => [ '-U', 'human' ]);
	is($ret, 0, "$name: tfguard.pending and tfguard.tokens can be read") or diag($err);
}

my $bindir = $standby->config_data('--bindir');
sub cli
{
	my ($node, @args) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ "$bindir/tfguard", '-h', $node->host, '-p', $node->port,
		'-U', 'human', @args ], '<', \'', '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}
my ($code, $out, $err) = cli($standby, 'status', '--json');
is($code, 0, 'tfguard status works on the standby') or diag($err);
like($out, qr/"mode"\s*:\s*"enforce".*"writer_alive"\s*:\s*false/s,
	'and shows the mode and no writer');
like($out, qr/"writer"\s*:\s*"standby"/, 'and says why: a standby, where no writer runs');
($code, $out, $err) = cli($standby, 'audit', '--since', '1h');
is($code, 0, 'tfguard audit works on the standby') or diag($err);
like($out, qr/^\s*$async_id\b.*drop_table.*public\.orders/m, 'and lists the primary\'s refusal');
($code, $out, $err) = cli($standby, 'pending');
is($code, 0, 'tfguard pending works on the standby') or diag($err);
($code, $out, $err) = cli($standby, 'show', $async_id);
is($code, 0, 'tfguard show works on the standby') or diag($err);

# On a standby PostgreSQL refuses every write itself; what tfguard sees
# first (a DELETE's plan, ALTER SYSTEM, which a hot standby allows) it
# cannot record, so it refuses that.
my $log_offset = -s $standby->logfile;
my ($ret);
($ret, $out, $err) = $standby->psql('app', 'DELETE FROM orders', extra_params => [ '-U', 'agent' ]);
isnt($ret, 0, 'a DELETE without WHERE is refused on the standby');
like($err, qr/read-only transaction|standby|recovery/,
	'the refusal says the server is a standby, not that the audit writer is down');
($ret, $out, $err) = $standby->psql('postgres', q{ALTER SYSTEM SET tfguard.mode = 'off'});
isnt($ret, 0, 'ALTER SYSTEM of tfguard.mode is refused on the standby');
unlike(slurp_file($standby->data_dir . '/postgresql.auto.conf'), qr/tfguard/,
	'and postgresql.auto.conf is unchanged: the standby is not promoted into mode off');
($ret, $out, $err) = $standby->psql('postgres',
	"SELECT tfguard.issue_token('agent', ARRAY['drop_table'])", extra_params => [ '-U', 'human' ]);
isnt($ret, 0, 'no token is issued on a standby');
unlike(slurp_file($standby->logfile, $log_offset), qr/background worker "tfguard audit writer"/,
	'no audit writer was started for them');

# ---- unlocks granted on the old primary ----
my $token = $primary->safe_psql('postgres',
	"SELECT tfguard.issue_token('agent', ARRAY['drop_table'], ARRAY['public.orders'], '1 hour')",
	extra_params => [ '-U', 'human' ]);
like($token, qr/^tfg1_/, 'a token is issued on the primary');
my $agent = session_as($primary, 'app', 'agent');
my $approved_err = try_in($agent, 'DELETE FROM orders');
my ($approved_id) = $approved_err =~ /audit id (\d+)/;
ok($approved_id, 'the agent is refused on the primary');
$primary->safe_psql('postgres', "SELECT tfguard.approve($approved_id, '1 hour')",
	extra_params => [ '-U', 'human' ]);

# ---- synchronous: the record is on the standby before the client hears ----
$primary->append_conf('postgresql.conf', "synchronous_standby_names = 'standby'");
$primary->reload;
$primary->poll_query_until('postgres',
	"SELECT sync_state = 'sync' FROM pg_stat_replication WHERE application_name = 'standby'")
  or die 'the standby did not become synchronous';
$primary->wait_for_catchup($standby, 'replay');
# replay paused: what the standby has then is only what it received before
# the client heard, and is replayed at promotion
$standby->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
$standby->poll_query_until('postgres', "SELECT pg_get_wal_replay_pause_state() = 'paused'")
  or die 'replay did not pause';
my $sync_id = refused_id($primary, 'TRUNCATE orders');
is($standby->safe_psql('postgres', "SELECT count(*) FROM tfguard.audit_log WHERE id = $sync_id"),
	'0', 'with replay paused the standby does not show it yet');

# ---- failover: the primary dies right after its client heard ----
$agent->{run}->kill_kill;
$primary->stop('immediate');
$log_offset = -s $standby->logfile;
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'the standby was not promoted';
is(audit_row($standby, $sync_id), 'truncate:public.orders:blocked',
	'with synchronous replication the record the client heard of survives the failover');

$standby->poll_query_until('postgres', 'SELECT tfguard.writer_pid() > 0')
  or die 'no audit writer after promotion';
pass('the audit writer starts after promotion');
my $after_id = refused_id($standby, 'DROP TABLE orders');
cmp_ok($after_id, '>', $sync_id, 'refusals after the failover are numbered after the old ones');
is(audit_row($standby, $after_id), 'drop_table:public.orders:blocked', 'and are recorded');

# the old primary's token: not in the new primary's shared memory
is($standby->safe_psql('postgres', 'SELECT count(*) FROM tfguard.tokens', extra_params => [ '-U', 'human' ]),
	'0', 'the new primary knows no token or approval of the old one');
($ret, $out, $err) = $standby->psql('app', "SET tfguard.token = '$token'; DROP TABLE orders",
	extra_params => [ '-U', 'agent' ], on_error_stop => 0);
like($err, qr/tfguard unlock token rejected.*\n.*DETAIL:  The token was not accepted because no such token was issued/,
	'a token issued on the old primary is rejected, with the reason');
like($err, qr/failover|promot/, 'the reason mentions a failover');
like($err, qr/tfguard refused drop_table/, 'and the drop is refused');
is($standby->safe_psql('postgres',
	"SELECT count(*) FROM tfguard.audit_log WHERE operation = 'present_token' AND decision = 'blocked' AND id > $after_id"),
	'1', 'the rejected token is recorded on the new primary');

# the approval lived in the old primary's memory, for a session that died with it
($ret, $out, $err) = $standby->psql('app', 'DELETE FROM orders', extra_params => [ '-U', 'agent' ]);
like($err, qr/tfguard refused delete_all/, 'the statement approved on the old primary is refused again');
my ($again_id) = $err =~ /audit id (\d+)/;
cmp_ok($again_id, '>', $after_id, 'as a new request');
($ret, $out, $err) = $standby->psql('postgres', "SELECT tfguard.approve($approved_id)",
	extra_params => [ '-U', 'human' ]);
isnt($ret, 0, 'the old request cannot be approved anew on the new primary');
is($standby->safe_psql('app', 'SELECT count(*) FROM orders'), '100', 'the data is intact');

# approvals work on the new primary as on the old one
$agent = session_as($standby, 'app', 'agent');
$err = try_in($agent, 'TRUNCATE orders');
my ($new_request) = $err =~ /audit id (\d+)/;
like($standby->safe_psql('postgres', 'SELECT audit_id FROM tfguard.pending', extra_params => [ '-U', 'human' ]),
	qr/^$new_request$/m, 'the new primary lists its own pending request');
$standby->safe_psql('postgres', "SELECT tfguard.approve($new_request)", extra_params => [ '-U', 'human' ]);
unlike(try_in($agent, 'TRUNCATE orders'), qr/ERROR/, 'and an approval granted there unlocks it');
$agent->quit;

is(alarming_lines($standby, $log_offset), '', 'the promoted node logged nothing alarming from tfguard');

# ---- the cascading standby follows the new timeline ----
$standby->wait_for_catchup($cascade, 'replay');
is(audit_row($cascade, $after_id), 'drop_table:public.orders:blocked',
	'the cascading standby replays the promoted node\'s records');
is(writer_pid($cascade), '0', 'and still runs no writer');
is(alarming_lines($cascade, 0), '', 'and logged nothing alarming');

done_testing();
