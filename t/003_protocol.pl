# Extended-protocol parameters and statements prepared at protocol level:
# "DELETE ... WHERE $1" bound to true, run by pgbench with -M extended (a
# fresh custom plan each time) and -M prepared (the same prepared statement
# executed again and again, so a generic plan is cached).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('protocol');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'tfguard'");
$node->start;
$node->safe_psql('postgres', q{
	CREATE ROLE agent LOGIN;
	CREATE DATABASE app OWNER agent;
});
$node->safe_psql('app', q{
	SET ROLE agent;
	CREATE TABLE items (id int PRIMARY KEY);
	INSERT INTO items SELECT generate_series(1, 100);
});

my $script = $node->basedir . '/delete_if.sql';
open my $fh, '>', $script or die $!;
print $fh "\\set flag true\nDELETE FROM items WHERE :flag;\n";
close $fh;

for my $mode ('extended', 'prepared')
{
	my ($stdout, $stderr);
	my $ok = IPC::Run::run(
		[ 'pgbench', '-n', '-M', $mode, '-t', '8', '-f', $script,
		  '-h', $node->host, '-p', $node->port, '-U', 'agent', 'app' ],
		'>', \$stdout, '2>', \$stderr);
	ok(!$ok, "pgbench -M $mode: DELETE ... WHERE \$1 bound to true fails");
	like($stderr, qr/tfguard refused delete_all of table "public.items"/,
		"pgbench -M $mode: refused by tfguard");
	is($node->safe_psql('app', 'SELECT count(*) FROM items'), '100',
		"pgbench -M $mode: rows intact");
}

# The same statements bound to a restricting value go through.
open $fh, '>', $script or die $!;
print $fh "\\set id random(1, 100)\nDELETE FROM items WHERE id = :id;\n";
close $fh;
for my $mode ('extended', 'prepared')
{
	my ($stdout, $stderr);
	my $ok = IPC::Run::run(
		[ 'pgbench', '-n', '-M', $mode, '-t', '8', '-f', $script,
		  '-h', $node->host, '-p', $node->port, '-U', 'agent', 'app' ],
		'>', \$stdout, '2>', \$stderr);
	ok($ok, "pgbench -M $mode: DELETE ... WHERE id = \$1 runs")
	  or diag($stderr);
}

$node->stop;
done_testing();
