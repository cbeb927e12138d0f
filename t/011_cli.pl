# The tfguard command-line tool against a temporary cluster: each
# subcommand's happy path, --json, bad input, a non-admin, no server.
use strict;
use warnings;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TfguardTest;

my $node = new_guarded_node('cli');
$node->safe_psql('postgres', q{
	CREATE ROLE agent LOGIN;
	CREATE ROLE human LOGIN IN ROLE tfguard_admin;
	CREATE DATABASE app OWNER agent;
});
$node->safe_psql('app', q{
	SET ROLE agent;
	CREATE TABLE orders (id int); INSERT INTO orders SELECT generate_series(1, 50);
	CREATE TABLE archive (id int); INSERT INTO archive VALUES (1);
	ANALYZE orders, archive;
});

my $bindir = $node->config_data('--bindir');

# Run the tool as "human" (or another role); returns (exit code, stdout, stderr).
sub cli
{
	my ($args, %opts) = @_;
	my ($out, $err) = ('', '');
	my $stdin = $opts{stdin} // '';
	IPC::Run::run([ "$bindir/tfguard", '-h', $node->host, '-p', $node->port,
		'-U', $opts{user} // 'human', @$args ], '<', \$stdin, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# ---- help and bad usage need no server ----
my ($code, $out, $err) = cli(['--help']);
is($code, 0, '--help exits 0');
like($out, qr/usage: tfguard .*COMMAND/, '--help shows the usage');
like($out, qr/approve AUDIT_ID/, '--help lists the commands');
($code, $out, $err) = cli([ 'approve', '--help' ]);
like($out, qr/usage: tfguard approve AUDIT_ID/, 'each command has its --help');
($code, $out, $err) = cli(['frobnicate']);
is($code, 2, 'an unknown command exits 2');
like($err, qr/unknown command "frobnicate"/, 'and says so');
($code, $out, $err) = cli([ 'pending', '--bogus' ]);
is($code, 2, 'an unknown flag exits 2');
($code, $out, $err) = cli([ 'show', 'abc' ]);
is($code, 2, 'a bad audit id exits 2');
like($err, qr/"abc" is not an audit id/, 'and says why');

# ---- a refused agent session waits for a decision ----
my $agent = $node->background_psql('app', extra_params => [ '-U', 'agent' ], on_error_stop => 0);
$agent->query('DROP TABLE archive');
my ($request) = $agent->{stderr} =~ /audit id (\d+)/;
ok($request, 'the agent was refused');

($code, $out, $err) = cli(['pending']);
is($code, 0, 'pending');
like($out, qr/^\Q$request\E\s.*agent\s+app\s+drop_table\s+public\.archive/m, 'pending lists the request');
($code, $out, $err) = cli([ '--json', 'pending' ]);
my $rows = decode_json($out);
is($rows->[0]{audit_id}, $request, 'pending --json is a JSON array of the same rows');

($code, $out, $err) = cli([ 'show', $request ]);
like($out, qr/^impact\s+about 1 rows/m, 'show gives the impact');
like($out, qr/^statement\s+DROP TABLE archive/m, 'show gives the full statement');
like($out, qr/^status\s+pending/m, 'show says it is pending');
($code, $out, $err) = cli([ 'show', '999999' ]);
is($code, 1, 'show of an unknown id exits 1');

# approve asks for the object's name unless --yes
($code, $out, $err) = cli([ 'approve', $request ], stdin => "public.orders\n");
is($code, 1, 'approve: a wrong name approves nothing');
like($err, qr/the name did not match/, 'and says so');
($code, $out, $err) = cli([ 'approve', $request, '--ttl', '5m', '--reason', 'planned' ],
	stdin => "public.archive\n");
is($code, 0, 'approve: typing the name approves') or diag($err);
like($out, qr/approved audit id $request/, 'approve confirms');
$agent->{stderr} = '';
$agent->query('DROP TABLE archive');
is($agent->{stderr}, '', 'the agent\'s session runs the statement again');

# deny, with --yes for the next one
$agent->query('DELETE FROM orders');
my ($second) = $agent->{stderr} =~ /audit id (\d+)/;
($code, $out, $err) = cli([ 'deny', $second, '--reason', 'no' ]);
is($code, 0, 'deny');
($code, $out, $err) = cli([ 'approve', $second, '--yes' ]);
is($code, 1, 'a denied request cannot be approved');
like($err, qr/was already denied/, 'the server\'s reason is shown');
$agent->quit;

# ---- tokens ----
($code, $out, $err) = cli([ 'issue', '--role', 'agent', '--op', 'truncate', '--object', 'public.orders',
	'--ttl', '10m', '--reason', 'cleanup' ]);
is($code, 0, 'issue') or diag($err);
my @lines = split /\n/, $out;
like($lines[-1], qr/^tfg1_[0-9a-f]{40}$/, 'issue prints the token alone on the last line');
my $token = $lines[-1];
($code, $out, $err) = cli(['tokens']);
my ($token_id) = $out =~ /^([0-9a-f]{12})\s+agent\s+truncate\s+public\.orders/m;
ok($token_id, 'tokens lists it, without the secret');
unlike($out, qr/\Q$token\E/, 'tokens never shows a secret');
($code, $out, $err) = cli([ 'issue', '--role', 'agent' ]);
is($code, 2, 'issue without --op exits 2');
($code, $out, $err) = cli([ 'revoke', $token_id ]);
is($code, 0, 'revoke');
($code, $out, $err) = cli([ 'revoke', '000000000000' ]);
is($code, 1, 'revoke of an unknown id exits 1');

# ---- audit, status ----
($code, $out, $err) = cli([ 'audit', '--since', '1h', '--decision', 'blocked' ]);
like($out, qr/drop_table\s+public\.archive\s+blocked/, 'audit shows blocked rows');
unlike($out, qr/\sallowed\s/, 'audit --decision filters');
($code, $out, $err) = cli([ '--json', 'status' ]);
my $status = decode_json($out)->[0];
is($status->{mode}, 'enforce', 'status: mode');
ok($status->{writer_alive}, 'status: the writer is alive');
is($status->{pending}, 0, 'status: nothing pending');

# audit --follow prints new rows as they are committed
my ($fout, $ferr) = ('', '');
my $follow = IPC::Run::start([ "$bindir/tfguard", '-h', $node->host, '-p', $node->port,
	'-U', 'human', 'audit', '--follow', '--role', 'agent' ], '>', \$fout, '2>', \$ferr,
	IPC::Run::timeout(60));
sleep 1;
$node->psql('app', 'TRUNCATE orders', extra_params => [ '-U', 'agent' ]);
$follow->pump until $fout =~ /truncate\s+public\.orders\s+blocked/ || !$follow->pumpable;
like($fout, qr/truncate\s+public\.orders\s+blocked/, 'audit --follow shows the new refusal');
$follow->kill_kill;

# ---- a non-admin, no server ----
($code, $out, $err) = cli(['pending'], user => 'agent');
is($code, 1, 'a non-admin is refused');
like($err, qr/permission denied/, 'with the server\'s reason');
$node->stop;
($code, $out, $err) = cli(['pending']);
is($code, 3, 'no server: exit 3');
like($err, qr/could not connect/, 'and says so');

done_testing();
