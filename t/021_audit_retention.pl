# Audit-trail retention: tfguard.prune_audit() removes rows older than a
# date only with another administrator's token for reconfigure naming
# tfguard.audit_log, never the rows of the last tfguard.max_ttl, and leaves
# a row saying what it removed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TfguardTest;

my $node = new_guarded_node('retention');
$node->safe_psql('postgres', q{
	CREATE ROLE dba LOGIN IN ROLE tfguard_admin;
	CREATE ROLE dba2 LOGIN IN ROLE tfguard_admin;
	CREATE ROLE agent LOGIN;
	CREATE TABLE public.t (id int);
	ALTER TABLE public.t OWNER TO agent;
	INSERT INTO public.t VALUES (1);
});
for (1 .. 5)
{
	$node->psql('postgres', 'DROP TABLE public.t', extra_params => [ '-U', 'agent' ]);
}
my $old_rows = $node->safe_psql('postgres', 'SELECT count(*) FROM tfguard.audit_log');
cmp_ok($old_rows, '>=', 5, "the trail has $old_rows rows");
sleep(2);
my $cutoff = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
sleep(1);

sub as_role
{
	my ($role, $sql) = @_;
	my ($ret, $out, $err) =
	  $node->psql('postgres', $sql, extra_params => [ '-U', $role ], on_error_stop => 0);
	return ($ret, $out, $err);
}

my ($ret, $out, $err) = as_role('agent', qq{SELECT tfguard.prune_audit('$cutoff', 'x')});
like($err, qr/permission denied/, 'an agent cannot prune');
($ret, $out, $err) = as_role('dba', qq{SELECT tfguard.prune_audit('$cutoff', 'archived')});
like($err, qr/rows of the audit trail logged after .* cannot be pruned/,
	'rows of the last tfguard.max_ttl are kept');
($ret, $out, $err) = as_role('dba', qq{SELECT tfguard.prune_audit(NULL, 'archived')});
like($err, qr/must not be NULL/, 'a NULL date is refused');

# the rest needs rows older than tfguard.max_ttl: lower it to a second
$node->append_conf('postgresql.conf', 'tfguard.max_ttl = 1');
$node->reload;
$node->poll_query_until('postgres', q{SELECT current_setting('tfguard.max_ttl') = '1s'});

($ret, $out, $err) = as_role('dba', qq{SELECT tfguard.prune_audit('$cutoff')});
like($err, qr/needs a reason/, 'a reason is required');
my $trail = $node->safe_psql('postgres', 'SELECT count(*) FROM tfguard.audit_log');
($ret, $out, $err) = as_role('dba', qq{SELECT tfguard.prune_audit('$cutoff', 'archived to /backup/2026.csv')});
like($err, qr/pruning the audit trail needs a token for reconfigure naming tfguard.audit_log/,
	'without a token: refused, saying what is needed');
is($node->safe_psql('postgres', 'SELECT count(*) FROM tfguard.audit_log'), $trail,
	'and recording nothing (no flooding through it)');
is($node->safe_psql('postgres', qq{SELECT count(*) FROM tfguard.audit_log WHERE logged_at < '$cutoff'}),
	$old_rows, 'nothing removed');

# another administrator's token, for reconfigure of the trail
$node->append_conf('postgresql.conf', 'tfguard.max_ttl = 3600');
$node->reload;
$node->poll_query_until('postgres', q{SELECT current_setting('tfguard.max_ttl') = '1h'});
my $token = $node->safe_psql('postgres', q{
	SET ROLE dba2;
	SELECT tfguard.issue_token('dba', ARRAY['reconfigure'], ARRAY['tfguard.audit_log'], '10 min',
							   reason => 'prune before the cutoff')});
$node->append_conf('postgresql.conf', 'tfguard.max_ttl = 1');
$node->reload;
$node->poll_query_until('postgres', q{SELECT current_setting('tfguard.max_ttl') = '1s'});

my $kept = $node->safe_psql('postgres', qq{SELECT count(*) FROM tfguard.audit_log WHERE logged_at >= '$cutoff'});
($ret, $out, $err) = as_role('dba', qq{
	SET tfguard.token = '$token';
	SELECT tfguard.prune_audit('$cutoff', 'archived to /backup/2026.csv');});
is($out, $old_rows, "with the token: $old_rows rows removed") or diag($err);
is($node->safe_psql('postgres', qq{SELECT count(*) FROM tfguard.audit_log WHERE logged_at < '$cutoff'}),
	'0', 'no row older than the date is left');
cmp_ok($node->safe_psql('postgres', qq{SELECT count(*) FROM tfguard.audit_log WHERE logged_at >= '$cutoff'}),
	'>', $kept, 'the later rows are there, with the prune\'s own');
like($node->safe_psql('postgres',
	q{SELECT session_role || ' ' || decision || ' ' || detail FROM tfguard.audit_log WHERE operation = 'prune_audit'}),
	qr/^dba allowed removed $old_rows rows logged before .* \(ids 1 to \d+\); reason: archived to \/backup\/2026.csv$/,
	'a row says what was removed, by whom and why');
like($node->safe_psql('postgres',
	q{SELECT decision || ' ' || token_id FROM tfguard.audit_log WHERE operation = 'reconfigure' ORDER BY id DESC LIMIT 1}),
	qr/^allowed \w+$/, 'the DELETE itself is in the trail, with the token');

$node->stop;
done_testing();
