# Updating the extension from 1.0 to 1.1, as a DBA does after installing a
# new tfguard: the new library keeps recording into 1.0's audit table,
# ALTER EXTENSION tfguard UPDATE is a reconfigure that another admin's
# token unlocks, the trail is carried over intact, ids go on, and
# approvals bind to identity from then on.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TfguardTest;

my $node = PostgreSQL::Test::Cluster->new('update');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'tfguard'");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION tfguard VERSION '1.0';
	CREATE ROLE agent LOGIN;
	CREATE ROLE ops LOGIN SUPERUSER;
	CREATE ROLE dba LOGIN IN ROLE tfguard_admin;
	CREATE DATABASE app OWNER agent;
});
$node->safe_psql('app', 'SET ROLE agent; CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2)');
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'tfguard'"),
	'1.0', 'extension 1.0 installed');

# the new library records into 1.0's table
my ($ret, $out, $err) = $node->psql('app', 'TRUNCATE t', extra_params => [ '-U', 'agent' ]);
my ($old_id) = $err =~ /audit id (\d+)/;
ok($old_id, "a refusal is recorded in 1.0's audit table (id $old_id)");
($ret, $out, $err) = $node->psql('postgres', "SELECT tfguard.approve($old_id)",
	extra_params => [ '-U', 'dba' ]);
like($err, qr/at version 1\.0.*ALTER EXTENSION tfguard UPDATE/s,
	'approving on 1.0 says to update the extension');

# the update is a reconfigure: refused, then unlocked by another admin's token
($ret, $out, $err) = $node->psql('postgres', 'ALTER EXTENSION tfguard UPDATE',
	extra_params => [ '-U', 'ops' ]);
like($err, qr/tfguard refused reconfigure of extension "tfguard"/, 'ALTER EXTENSION UPDATE is refused');
my $token = $node->safe_psql('postgres',
	q{SELECT tfguard.issue_token('ops', ARRAY['reconfigure'], ARRAY['tfguard'], '10 minutes', reason => 'update to 1.1')});
($ret, $out, $err) = $node->psql('postgres',
	"SET tfguard.token = '$token'; ALTER EXTENSION tfguard UPDATE; SELECT extversion FROM pg_extension WHERE extname = 'tfguard'",
	extra_params => [ '-U', 'ops' ]);
is($ret, 0, 'with the token the update runs') or diag($err);
is($out, '1.1', 'the extension is at 1.1');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_class
	WHERE relkind = 'S' AND relnamespace = 'tfguard'::regnamespace}), '0', 'no sequence left');
is($node->safe_psql('postgres', "SELECT count(*) FROM tfguard.audit_log WHERE id = $old_id AND operation = 'truncate'"),
	'1', 'the trail is carried over');

# from now on: ids go on, refusals carry the object's identity, approvals work
($ret, $out, $err) = $node->psql('app', 'TRUNCATE t', extra_params => [ '-U', 'agent' ]);
my ($new_id) = $err =~ /audit id (\d+)/;
cmp_ok($new_id, '>', $old_id, 'ids go on after the update');
is($node->safe_psql('postgres', "SELECT object_oid IS NOT NULL AND database_oid IS NOT NULL FROM tfguard.audit_log WHERE id = $new_id"),
	't', 'a new refusal records the object by identity');
($ret, $out, $err) = $node->psql('postgres', "SELECT tfguard.approve($old_id)",
	extra_params => [ '-U', 'dba' ]);
like($err, qr/does not record which object it was about/, 'a request refused under 1.0 cannot be approved');
is($node->safe_psql('app', 'SELECT count(*) FROM t'), '2', 'data intact');

$node->stop;
done_testing();
