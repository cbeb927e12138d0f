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
like($err, qr/"10x" is not a duration/, 'and says why');
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
	like($err, qr/^usage: \Q$own\E$/m, "$command: a usage error shows the same usage");
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
like($out, qr/^status\s+approved/m, 'show: the request was approved');
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
my $fifth = refused($agent, 'DELETE FROM orders');
($code, $out, $err) = cli([ 'approve', $fifth, '--yes', '--ttl', '2h' ]);
like($out, qr/approved audit id $fifth \(approval [0-9a-f]{12}\) for 1h, until /,
	'approve: the ttl granted');
like($out, qr/tfguard\.max_ttl capped the 2h asked for/, 'and that it was capped');
$agent->quit;

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
	my $status = decode_json($out)->[0];
	is($status->{mode}, 'enforce', "@$args: mode");
	ok($status->{writer_alive}, "@$args: the writer is alive");
	is($status->{pending}, 0, "@$args: nothing pending");
}

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
like($err, qr/role "agent" needs to be a member of tfguard_admin/, 'and what is missing');
($code, $out, $err) = cli([ '-d', 'app', 'pending' ]);
is($code, 1, 'the wrong database fails');
like($err, qr/tfguard's extension is not in database "app"; connect to the home database .*"postgres".* with -d/,
	'and names the home database');
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
