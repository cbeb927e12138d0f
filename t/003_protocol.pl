# Extended-protocol parameters and statements prepared at protocol level:
# "DELETE ... WHERE $1" bound to true, run by pgbench with -M extended (a
# fresh custom plan each time) and -M prepared (the same prepared statement
# executed again and again, so a generic plan is cached).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TfguardTest;

my $node = new_guarded_node('protocol');
$node->safe_psql('postgres', q{
	CREATE ROLE agent LOGIN;
	CREATE DATABASE app OWNER agent;
});
$node->safe_psql('app', q{
	SET ROLE agent;
	CREATE TABLE items (id int PRIMARY KEY);
	INSERT INTO items SELECT generate_series(1, 100);
});

# Run a pgbench script as the agent: 8 transactions in one session.
sub pgbench_as_agent
{
	my ($mode, $script_text) = @_;
	my $script = $node->basedir . '/script.sql';
	open my $fh, '>', $script or die $!;
	print $fh $script_text;
	close $fh;
	my ($stdout, $stderr);
	my $ok = IPC::Run::run(
		[ 'pgbench', '-n', '-M', $mode, '-t', '8', '-f', $script,
		  '-h', $node->host, '-p', $node->port, '-U', 'agent', 'app' ],
		'>', \$stdout, '2>', \$stderr);
	return ($ok, $stderr);
}

for my $mode ('extended', 'prepared')
{
	my ($ok, $stderr) = pgbench_as_agent($mode,
		"\\set flag true\nDELETE FROM items WHERE :flag;\n");
	ok(!$ok, "pgbench -M $mode: DELETE ... WHERE \$1 bound to true fails");
	like($stderr, qr/tfguard refused delete_all of table "public.items"/,
		"pgbench -M $mode: refused by tfguard");
	is($node->safe_psql('app', 'SELECT count(*) FROM items'), '100',
		"pgbench -M $mode: rows intact");
}

# The same statements bound to a restricting value go through.
for my $mode ('extended', 'prepared')
{
	my ($ok, $stderr) = pgbench_as_agent($mode,
		"\\set id random(1, 100)\nDELETE FROM items WHERE id = :id;\n");
	ok($ok, "pgbench -M $mode: DELETE ... WHERE id = \$1 runs")
	  or diag($stderr);
}

$node->stop;
done_testing();
