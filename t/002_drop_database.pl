# drop_database: DROP DATABASE issued from another database, WITH (FORCE)
# while the target has sessions, and the dropdb client, by the owner (a
# restricted role with CREATEDB) and by a superuser.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TfguardTest;

my $node = new_guarded_node('dropdb');

$node->safe_psql('postgres', 'CREATE ROLE agent LOGIN CREATEDB');
$node->safe_psql('postgres', 'CREATE DATABASE shop OWNER agent');
$node->safe_psql('shop', q{
	SET ROLE agent;
	CREATE TABLE orders (id int);
	INSERT INTO orders SELECT generate_series(1, 500);
});

sub shop_is_intact
{
	my ($what) = @_;
	is($node->safe_psql('shop', 'SELECT count(*) FROM orders'), '500',
		"$what: database shop and its data intact");
}

sub refused_like
{
	my ($err, $what) = @_;
	like($err, qr/ERROR:  (?:42501: )?tfguard refused drop_database of database "shop"/,
		"$what: refused, naming the database");
}

# From another database, as the owner.
my ($ret, $out, $err) = $node->psql('postgres', 'DROP DATABASE shop',
	extra_params => [ '-U', 'agent', '-v', 'VERBOSITY=verbose' ]);
isnt($ret, 0, 'owner: DROP DATABASE fails');
like($err, qr/ERROR:  42501: /, 'owner: SQLSTATE 42501');
refused_like($err, 'owner from postgres');
shop_is_intact('owner');

# WITH (FORCE), while a session is connected to it: nobody is terminated.
my $victim = $node->background_psql('shop');
$victim->query_safe('SELECT 1');
($ret, $out, $err) = $node->psql('postgres',
	'DROP DATABASE shop WITH (FORCE)', extra_params => [ '-U', 'agent' ]);
refused_like($err, 'WITH (FORCE)');
is($victim->query_safe('SELECT count(*) FROM orders'), '500',
	'WITH (FORCE): the connected session survived');
$victim->quit;

# From a third database, as a superuser.
$node->safe_psql('postgres', 'CREATE DATABASE other');
($ret, $out, $err) = $node->psql('other', 'DROP DATABASE IF EXISTS shop');
refused_like($err, 'superuser from other');
shop_is_intact('superuser');

# The dropdb client, with and without --force and --if-exists.
for my $args ([], ['--force'], ['--if-exists'])
{
	my ($stdout, $stderr);
	my $ok = IPC::Run::run(
		[ 'dropdb', '-h', $node->host, '-p', $node->port, '-U', 'agent',
		  @$args, 'shop' ],
		'>', \$stdout, '2>', \$stderr);
	ok(!$ok, "dropdb @$args exits non-zero");
	like($stderr, qr/tfguard refused drop_database of database "shop"/,
		"dropdb @$args reports the refusal");
}
shop_is_intact('dropdb');

# A database that does not exist has nothing to lose.
($ret, $out, $err) = $node->psql('postgres', 'DROP DATABASE IF EXISTS nothing_here');
is($ret, 0, 'DROP DATABASE IF EXISTS of a missing database is not guarded');

$node->stop;
done_testing();
