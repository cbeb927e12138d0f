# The tfguard command-line tool against a temporary cluster: each
# subcommand's happy path, --json everywhere, options anywhere, bad input
# (exit 2, also with no server), the ttl granted, control characters from
# the server shown as escapes, a non-admin, the wrong database, no server.
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
	CREATE TABLE scratch (id int); INSERT INTO scratch VALUES (1);
	ANALYZE orders, archive, scratch;
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

# The agent's session runs a statement tfguard refuses; returns its audit id.
sub refused
{
	my ($session, $sql) = @_;
	$session->{stderr} = '';
	$session->query($sql);
	my ($id) = $session->{stderr} =~ /audit id (\d+)/;
	return $id;
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
($code, $out, $err) = cli(['-?']);
is($code, 0, '-? exits 0');
like($out, qr/usage: tfguard /, '-? shows the usage');
for my $flag ('--version', '-V')
{
	($code, $out, $err) = cli([$flag]);
	is($code, 0, "$flag exits 0");
	like($out, qr/^tfguard \d+\.\d+/, "$flag prints the version");
}
($code, $out, $err) = cli([ 'approve', '--help' ]);
like($out, qr/^\s+--ttl=TTL\s.*\n\s+--reason=TEXT\s.*\n\s+--yes\s/m,
	'a command\'s --help documents each of its options');
like($out, qr/1h30m/, 'and the ttl format');
($code, $out, $err) = cli([ 'approve', '12', '--ttl', '10x' ]);
is($code, 2, '--ttl 10x exits 2');
like($err, qr/^tfguard: "10x" is not a duration for --ttl; .* \(see "tfguard approve --help"\)\n\z/,
	'and says why, on one line');
($code, $out, $err) = cli([ 'deny' ]);
is($code, 2, 'a missing argument exits 2');
is($err, qq{tfguard: missing AUDIT_ID (see "tfguard deny --help")\n}, 'and says so on one line');
($code, $out, $err) = cli([ 'audit', '--since' ]);
is($code, 2, 'an option without its value exits 2');
is($err, qq{tfguard: option "--since" needs a value (DURATION) (see "tfguard --help")\n},
	'and says so on one line');
($code, $out, $err) = cli([ 'audit', '--decision', 'maybe' ]);
is($code, 2, 'an unknown --decision exits 2');
($code, $out, $err) = cli([ 'status', '--ttl', '5m' ]);
is($code, 2, 'an option of another command exits 2');
like($err, qr/--ttl does not apply to "status"/, 'and says so');

# one usage text per command: the list, the command's --help and its usage errors agree
($code, my $help, $err) = cli(['--help']);
for my $command (qw(pending show approve deny issue revoke tokens audit status))
{
	my ($listed) = $help =~ /^\s+(tfguard \Q$command\E\b.*)$/m;
	($code, $out, $err) = cli([ $command, '--help' ]);
	is($code, 0, "$command --help exits 0");
	my ($own) = $out =~ /^usage: (.*)$/m;
	ok(defined $listed && defined $own && $listed eq $own, "$command: one usage text")
	  or diag("listed: " . ($listed // 'none') . "\nown: " . ($own // 'none'));
	like($out, qr/\n\n.+\n.+/, "$command --help has a description of its own");
	($code, $out, $err) = cli([ $command, '--frobnicate' ]);
	is($code, 2, "$command --frobnicate exits 2");
	is($err, qq{tfguard: unknown option "--frobnicate" (see "tfguard $command --help")\n},
		"$command: a usage error is one line, naming the command's help");
}

# ---- a refused agent session waits for a decision ----
my $agent = $node->background_psql('app', extra_params => [ '-U', 'agent' ], on_error_stop => 0);
$agent->query('DROP TABLE archive');
my ($request) = $agent->{stderr} =~ /audit id (\d+)/;
ok($request, 'the agent was refused');

($code, $out, $err) = cli(['pending']);
is($code, 0, 'pending');
like($out, qr/^\Q$request\E\s.*agent\s+app\s+drop_table\s+public\.archive/m, 'pending lists the request');
like($out, qr/^audit_id\s.*\simpact\s+statement$/m, 'pending has an impact column');
like($out, qr/drop_table\s+public\.archive\s+about \d+ rows/, 'pending shows the impact');
for my $args ([ '--json', 'pending' ], [ 'pending', '--json' ])
{
	($code, $out, $err) = cli($args);
	my $rows = decode_json($out);
	is($rows->[0]{audit_id}, $request, "@$args: a JSON array of the same rows");
}

($code, $out, $err) = cli([ 'show', $request ]);
like($out, qr/^impact\s+about 1 rows/m, 'show gives the impact');
like($out, qr/^statement\s+DROP TABLE archive/m, 'show gives the full statement');
like($out, qr/^status\s+pending/m, 'show says it is pending');
($code, $out, $err) = cli([ 'show', '999999' ]);
is($code, 1, 'show of an unknown id exits 1');
($code, $out, $err) = cli([ 'show', $request, '--json' ]);
my $shown = decode_json($out);
is($shown->{status}, 'pending', 'show --json: the row');
is_deeply($shown->{related}, [], 'show --json: no decision yet');

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

# show: the whole story of the request, and of the approval
($code, $out, $err) = cli([ 'show', $request ]);
like($out, qr/^status\s+approved \(used\)$/m, 'show: the request was approved, and the approval used');
like($out, qr/^client_addr\s+local \(Unix socket\)$/m, 'show: where the request came from');
like($out, qr/^application_name\s+011_cli\.pl$/m, 'show: from which client');
like($out, qr/^role\s+agent$/m, 'show: who asked');
like($out, qr/^database\s+app$/m, 'show: in which database');
like($out, qr/^decision:\n  approved\s+by human at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\S* \(audit id \d+\)$/m,
	'show: approved, by whom and when');
like($out, qr/^  reason\s+planned$/m, 'show: why');
like($out, qr/^  ttl granted\s+5m, until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/m, 'show: the ttl granted and until when');
like($out, qr/^  approval\s+[0-9a-f]{12}: used, 1 use$/m, 'show: the approval was used once');
my ($jcode, $json) = cli([ 'show', $request, '--json' ]);
$shown = decode_json($json);
is($shown->{human_decision}{decision}, 'approved', 'show --json: the decision');
is($shown->{human_decision}{decided_by}, 'human', 'show --json: by whom');
is($shown->{human_decision}{reason}, 'planned', 'show --json: why');
is($shown->{human_decision}{ttl_seconds}, 300, 'show --json: the ttl granted');
is($shown->{human_decision}{approval_state}, 'used', 'show --json: what became of the approval');
is($shown->{human_decision}{uses}, 1, 'show --json: its uses');
ok((grep { $_->{operation} eq 'drop_table' && $_->{decision} eq 'allowed' } @{ $shown->{related} }),
	'show --json: the use among the related rows');
like($out, qr/^\d+\s.*\shuman\s+approve\s+public\.archive\s+allowed\s.*reason=planned/m,
	'show: who approved it, and why');
like($out, qr/^\d+\s.*\sagent\s+drop_table\s+public\.archive\s+allowed\s/m,
	'show: the approval\'s use');
my ($approval_row) = $out =~ /^(\d+)\s.*\shuman\s+approve\s/m;
($code, $out, $err) = cli([ 'show', $approval_row ]);
like($out, qr/^refers_to\s+$request$/m, 'show of an approval names the request');
like($out, qr/^detail\s+approved for \d+ s; reason=planned/m, 'with its ttl and reason');
like($out, qr/^$request\s.*\sagent\s+drop_table\s+public\.archive\s+blocked/m,
	'and shows the request');

# deny, with --yes for the next one
$agent->query('DELETE FROM orders');
my ($second) = $agent->{stderr} =~ /audit id (\d+)/;
($code, $out, $err) = cli([ 'deny', $second, '--reason', 'no' ]);
is($code, 0, 'deny');
($code, $out, $err) = cli([ 'approve', $second, '--yes' ]);
is($code, 1, 'a denied request cannot be approved');
like($err, qr/was already denied/, 'the server\'s reason is shown');
($code, $out, $err) = cli([ 'show', $second ]);
like($out, qr/^status\s+denied/m, 'show: denied');
like($out, qr/^decision:\n  denied\s+by human at \S+ \S+ \(audit id \d+\)\n  reason\s+no\n/m,
	'show: the denial, by whom, when and why');
unlike($out, qr/ttl granted/, 'show: a denial grants no ttl');
like($out, qr/\shuman\s+deny\s.*reason=no$/m, 'show: who denied it, and why');

# options anywhere; a literal --help given as a value is that value
my $third = refused($agent, 'DELETE FROM orders');
($code, $out, $err) = cli([ '--reason', '--help', 'deny', '--json', $third ]);
is($code, 0, 'deny --reason --help: a reason, not a help request') or diag($err);
unlike($out, qr/usage:/, 'no help printed');
is(decode_json($out)->{audit_id}, $third, 'deny --json');
is($node->safe_psql('postgres', "SELECT detail FROM tfguard.audit_log WHERE refers_to = $third"),
	'reason=--help', 'the reason recorded is "--help"');
($code, $out, $err) = cli([ 'deny', '999999', '--reason', '--help' ]);
is($code, 1, 'an unknown id with --reason --help exits 1');
unlike($err, qr/connection pointer is NULL/, 'and never "connection pointer is NULL"');

# approve reports the ttl granted, not the one asked for (tfguard.max_ttl is 1h)
my $fourth = refused($agent, 'DELETE FROM orders');
($code, $out, $err) = cli([ 'approve', '--yes', '--ttl', '2h', $fourth, '--json' ]);
is($code, 0, 'approve --json, options before the id');
my $approved = decode_json($out);
is($approved->{ttl_seconds}, 3600, 'approve --json: the ttl granted');
like($approved->{approval_id}, qr/^[0-9a-f]{12}$/, 'approve --json: the approval id');
($code, $out, $err) = cli([ 'revoke', $approved->{approval_id} ]);
is($code, 0, 'revoke an approval');
($code, $out, $err) = cli([ 'show', $fourth ]);
like($out, qr/^status\s+approved \(revoked\)$/m, 'show: the approval was revoked');
like($out, qr/^  approval\s+$approved->{approval_id}: revoked, 0 uses$/m, 'show: revoked, never used');
like($out, qr/^\d+\s.*\shuman\s+revoke_token\s.*\s$approved->{approval_id}\s/m,
	'show: the revocation among the related rows');
my $fifth = refused($agent, 'DELETE FROM orders');
($code, $out, $err) = cli([ 'approve', $fifth, '--yes', '--ttl', '2h' ]);
like($out, qr/approved audit id $fifth \(approval [0-9a-f]{12}\) for 1h, until /,
	'approve: the ttl granted');
like($out, qr/tfguard\.max_ttl capped the 2h asked for/, 'and that it was capped');
($code, $out, $err) = cli([ '--json', 'tokens' ]);
is(scalar(grep { ($_->{approval_of} // 0) == $fifth } @{ decode_json($out) }), 1,
	'tokens: the approval pinned to the live session of the agent');
($code, $out, $err) = cli([ 'status', '--json' ]);
is(decode_json($out)->[0]{live_approvals}, 1, 'status: one live approval');
$agent->quit;
# the approval is pinned to that session: once it has ended, nothing can use it
$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE usename = 'agent'")
  or die 'the agent\'s session did not end';
($code, $out, $err) = cli([ '--json', 'tokens' ]);
is(scalar(grep { ($_->{approval_of} // 0) == $fifth } @{ decode_json($out) }), 0,
	'tokens: an approval pinned to a session that ended is not live');
($code, $out, $err) = cli([ 'status', '--json' ]);
is(decode_json($out)->[0]{live_approvals}, 0, 'status: nor counted as live');
($code, $out, $err) = cli([ 'show', $fifth ]);
like($out, qr/^  approval\s+[0-9a-f]{12}: ended unused \(its session ended\), 0 uses$/m,
	'show: the approval ended with its session, unused');

# ---- control characters from the server are shown as escapes ----
my $esc = "\e";
my $evil = "DROP TABLE scratch /*${esc}[3A${esc}[8m hidden \a bell \x7f del \x{9b}c1 ${esc}]0;title\a caf\x{e9} */";
my $evil_bytes = $evil;
utf8::encode($evil_bytes);
$agent = $node->background_psql('app', extra_params => [ '-U', 'agent' ], on_error_stop => 0);
my $forged = refused($agent, $evil_bytes);
ok($forged, 'a statement with terminal escapes is refused');
my $clean = sub {
	my ($text, $what) = @_;
	ok($text !~ /[\x00-\x09\x0b-\x1f\x7f]/ && $text !~ /\xc2[\x80-\x9f]/,
		"$what: no control character reaches the terminal");
};
($code, $out, $err) = cli([ 'show', $forged ]);
$clean->($out, 'show');
like($out, qr/^statement\s+DROP TABLE scratch \/\*\\x1b\[3A\\x1b\[8m hidden \\x07 bell \\x7f del \\xc2\\x9bc1 \\x1b\]0;title\\x07 caf\xc3\xa9 \*\/(\\n;)?$/m,
	'show: each control character as \\xNN, other characters as they are');
($code, $out, $err) = cli([ 'pending', '--wide' ]);
$clean->($out, 'pending');
like($out, qr/\\x1b\[3A/, 'pending: ESC as \\x1b');
($code, $out, $err) = cli([ 'audit', '--wide' ]);
$clean->($out, 'audit');
($code, $out, $err) = cli([ 'approve', $forged ], stdin => "public.scratch\n");
$clean->($out, 'the approve prompt');
like($out, qr/^statement\s+DROP TABLE scratch \/\*\\x1b\[3A/m, 'the approve prompt shows the escapes');
is($code, 0, 'typing the name still approves');
($code, $out, $err) = cli([ '--json', 'show', $forged ]);
is(substr(decode_json($out)->{statement}, 0, length($evil)), $evil,
	'show --json: valid JSON, the statement intact');
$agent->quit;

# audit cuts long statements with a visible ellipsis, or shows them whole with --wide
$node->psql('app', 'TRUNCATE orders /* ' . ('x' x 80) . ' end-of-statement */',
	extra_params => [ '-U', 'agent' ]);
($code, $out, $err) = cli([ 'audit', '--role', 'agent', '--decision', 'blocked' ]);
my ($cut) = $out =~ /^(.*truncate\s+public\.orders\s+blocked\s.*)$/m;
like($cut, qr/TRUNCATE orders \/\* x+(\.\.\.|\x{e2}\x{80}\x{a6})$/, 'audit: a long statement ends in an ellipsis');
unlike($cut, qr/end-of-statement/, 'audit: cut');
($code, $out, $err) = cli([ 'audit', '--wide', '--role', 'agent' ]);
like($out, qr/TRUNCATE orders \/\* x{80} end-of-statement \*\/$/m, 'audit --wide: the whole statement');

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
# a token presented by a session that then ended is pinned to it for good
($code, $out, $err) = cli([ 'issue', '--role', 'agent', '--op', 'drop_table', '--json' ]);
my $presented = decode_json($out);
$node->safe_psql('app', "SET tfguard.token = '$presented->{token}'", extra_params => [ '-U', 'agent' ]);
$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE usename = 'agent'")
  or die 'the agent\'s session did not end';
($code, $out, $err) = cli([ '--json', 'tokens' ]);
ok(!(grep { $_->{id} eq $presented->{token_id} } @{ decode_json($out) }),
	'tokens: a token pinned to a session that ended is not live');
is($node->safe_psql('postgres', "SELECT live FROM tfguard.tokens WHERE id = '$presented->{token_id}'"),
	'f', 'tfguard.tokens says it is not live');
for my $ttl ('2h', '1000 years')
{
	($code, $out, $err) = cli([ 'issue', '--role', 'agent', '--op', 'truncate', '--ttl', $ttl ]);
	is($code, 0, "issue --ttl '$ttl'") or diag($err);
	like($err, qr/^token [0-9a-f]{12} for role agent for 1h, until .* \(tfguard\.max_ttl capped the \S+ asked for\)/m,
		"issue --ttl '$ttl': reports the ttl granted, 1h");
	unlike($err, qr/valid for|for \Q$ttl\E/, "issue --ttl '$ttl': never the ttl asked for as granted");
}
($code, $out, $err) = cli([ 'issue', '--json', '--role', 'agent', '--op', 'truncate', '--op', 'delete_all',
	'--object', 'public.orders', '--ttl', '90s' ]);
my $issued = decode_json($out);
like($issued->{token}, qr/^tfg1_[0-9a-f]{40}$/, 'issue --json: the token');
like($issued->{token_id}, qr/^[0-9a-f]{12}$/, 'issue --json: its id');
is($issued->{ttl_seconds}, 90, 'issue --json: the ttl granted');
($code, $out, $err) = cli([ 'tokens', '--json' ]);
ok((grep { $_->{id} eq $issued->{token_id} } @{ decode_json($out) }), 'tokens --json lists it');
($code, $out, $err) = cli([ '--json', 'revoke', $issued->{token_id} ]);
is_deeply(decode_json($out), { token_id => $issued->{token_id}, revoked => JSON::PP::true },
	'revoke --json');
($code, $out, $err) = cli([ 'revoke', $token_id ]);
is($code, 0, 'revoke');
($code, $out, $err) = cli([ 'revoke', '000000000000' ]);
is($code, 1, 'revoke of an unknown id exits 1');

# ---- audit, status ----
($code, $out, $err) = cli([ 'audit', '--since', '1h', '--decision', 'blocked' ]);
like($out, qr/drop_table\s+public\.archive\s+blocked/, 'audit shows blocked rows');
unlike($out, qr/\sallowed\s/, 'audit --decision filters');
my $blocked = $out;
($code, $out, $err) = cli([ 'audit', '--since', '1h', '--decision', 'refused' ]);
is($out, $blocked, 'audit --decision refused is blocked');
($code, $out, $err) = cli([ 'audit', '--since', '1h', '--json' ]);
ok((grep { $_->{decision} eq 'allowed' } @{ decode_json($out) }), 'audit --json');
# refusals of ended sessions stay pending until decided or expired: close them
($code, $out, $err) = cli([ '--json', 'pending' ]);
cli([ 'deny', $_->{audit_id}, '--reason', 'nothing to approve' ]) for @{ decode_json($out) };
for my $args ([ '--json', 'status' ], [ 'status', '--json' ])
{
	($code, $out, $err) = cli($args);
	is($code, 0, "@$args: exit 0 while the writer runs");
	my $status = decode_json($out)->[0];
	is($status->{mode}, 'enforce', "@$args: mode");
	is($status->{writer}, 'running', "@$args: the writer runs");
	ok($status->{writer_alive}, "@$args: the writer is alive");
	cmp_ok($status->{writer_heartbeat_age_s}, '<', 3, "@$args: its heartbeat is recent");
	is($status->{pending}, 0, "@$args: nothing pending");
}
($code, $out, $err) = cli(['status']);
like($out, qr/^writer\s+running\n/m, 'status: the writer runs');
like($out, qr/^writer_heartbeat_age_s\s+\d+(\.\d)?\n/m, 'status: the age of its heartbeat');
like($out, qr/^queue_depth\s+0\n/m, 'status: nothing queued');

# a writer stopped with SIGSTOP keeps its pid: status says it is stuck
my $writer = $node->safe_psql('postgres', 'SELECT tfguard.writer_pid()');
ok($writer > 0, 'the writer has a pid');
kill 'STOP', $writer;
my ($aout, $aerr) = ('', '');
my $attempt = IPC::Run::start([ "$bindir/psql", '-X', '-h', $node->host, '-p', $node->port,
	'-U', 'agent', '-d', 'app', '-c', 'TRUNCATE orders' ], '>', \$aout, '2>', \$aerr);
my $stuck;
for (1 .. 100)
{
	($code, $out, $err) = cli([ 'status', '--json' ]);
	$stuck = decode_json($out)->[0];
	last if $stuck->{writer} eq 'stuck' && $stuck->{queue_depth} > 0;
	select(undef, undef, undef, 0.1);
}
is($stuck->{writer}, 'stuck', 'status --json: a stopped writer is stuck');
ok(!$stuck->{writer_alive}, 'status --json: and not alive');
is($stuck->{writer_pid}, $writer, 'status --json: though it has its pid');
cmp_ok($stuck->{writer_heartbeat_age_s}, '>', 3, 'status --json: no heartbeat for over 3 s');
is($stuck->{queue_depth}, 1, 'status --json: the refused attempt waits in the queue');
cmp_ok($stuck->{oldest_queued_age_s}, '>=', 0, 'status --json: for how long');
is($code, 1, 'status exits 1 when the writer is stuck');
like($err, qr/^tfguard: the audit writer \(pid $writer\) is stuck: no heartbeat for [\d.]+ s, and the oldest queued record has waited [\d.]+ s; guarded operations fail closed after tfguard\.audit_timeout \(5s\)/,
	'and says so plainly');
($code, $out, $err) = cli(['status']);
like($out, qr/^writer\s+stuck\n/m, 'status: stuck');
like($out, qr/^writer_alive\s+f\n/m, 'status: not writer_alive t');
kill 'CONT', $writer;
$attempt->finish;
like($aerr, qr/tfguard refused truncate/, 'the attempt was refused once the writer went on');
for (1 .. 100)
{
	($code, $out, $err) = cli([ 'status', '--json' ]);
	last if $code == 0;
	select(undef, undef, undef, 0.1);
}
is($code, 0, 'status exits 0 once the writer goes on');
is(decode_json($out)->[0]{writer}, 'running', 'status --json: running again');

# audit --follow prints new rows as they are committed
my ($fout, $ferr) = ('', '');
my $follow = IPC::Run::start([ "$bindir/tfguard", '-h', $node->host, '-p', $node->port,
	'-U', 'human', 'audit', '--follow', '--role', 'agent' ], '>', \$fout, '2>', \$ferr,
	IPC::Run::timeout(60));
sleep 1;
$node->psql('app', 'TRUNCATE orders', extra_params => [ '-U', 'agent' ]);
$follow->pump until $fout =~ /truncate\s+public\.orders\s+blocked/ || !$follow->pumpable;
like($fout, qr/truncate\s+public\.orders\s+blocked/, 'audit --follow shows the new refusal');
$node->psql('app', 'DROP TABLE orders', extra_params => [ '-U', 'agent' ]);
$follow->pump until $fout =~ /drop_table\s+public\.orders\s+blocked/ || !$follow->pumpable;
like($fout, qr/drop_table\s+public\.orders\s+blocked/, 'audit --follow shows the next one');
is(scalar(() = $fout =~ /^id\s+logged_at/mg), 1, 'audit --follow prints its header once');
$follow->kill_kill;

# ---- a non-admin, no server ----
($code, $out, $err) = cli(['pending'], user => 'agent');
is($code, 1, 'a non-admin is refused');
like($err, qr/permission denied/, 'with the server\'s reason');
like($err, qr/^tfguard: role "agent" must be a member of tfguard_admin/, 'and what is missing');
($code, $out, $err) = cli([ '-d', 'app', 'pending' ]);
is($code, 1, 'the wrong database fails');
is($err, qq{tfguard: database "app" is not tfguard's home database; connect to "postgres" (tfguard.database) with -d postgres\n},
	'and names the home database');
unlike($err, qr/does not exist/, 'not "relation does not exist"');
for my $args ([ 'status' ], [ 'approve', '1', '--yes' ], [ 'issue', '--role', 'agent', '--op', 'truncate' ])
{
	($code, $out, $err) = cli([ '-d', 'app', @$args ]);
	like($err, qr/^tfguard: database "app" is not tfguard's home database/, "@$args in the wrong database");
}
$node->stop;
($code, $out, $err) = cli(['pending']);
is($code, 3, 'no server: exit 3');
like($err, qr/could not connect/, 'and says so');
($code, $out, $err) = cli([ 'status', '--json' ]);
is($code, 3, 'no server: status --json is parsed, then fails to connect');
for my $bad ([ 'pending', '--bogus' ], [ 'approve', '1', '--ttl', '10x' ], [ 'show', 'abc' ],
	[ 'issue', '--op', 'truncate' ], [ 'deny' ], [ 'audit', '--since' ])
{
	($code, $out, $err) = cli($bad);
	is($code, 2, "no server: @$bad is still bad usage, exit 2");
}

done_testing();
