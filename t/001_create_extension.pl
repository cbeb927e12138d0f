# CREATE EXTENSION tfguard: only with the preload, only in the home
# database; the guard covers every database whether or not the extension
# is installed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('ext');
$node->init;
$node->start;

# Without the preload: a message that says how to fix it.
my ($ret, $out, $err) =
  $node->psql('postgres', 'CREATE EXTENSION tfguard');
isnt($ret, 0, 'CREATE EXTENSION fails without shared_preload_libraries');
like($err, qr/tfguard must be loaded via shared_preload_libraries/,
	'the error names shared_preload_libraries');
like($err, qr/HINT:  Add 'tfguard' to shared_preload_libraries in postgresql.conf/,
	'the hint says how to fix it');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_namespace WHERE nspname = 'tfguard'"),
	'0', 'nothing was created');

# With the preload: the guard is on before CREATE EXTENSION, everywhere.
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'tfguard'");
$node->restart;
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', 'CREATE TABLE t (id int); INSERT INTO t VALUES (1)');
($ret, $out, $err) = $node->psql('app', 'DROP TABLE t');
like($err, qr/tfguard refused drop_table of table "public.t"/,
	'guarded before CREATE EXTENSION, in a database without it');

# In a database that is not tfguard.database.
($ret, $out, $err) = $node->psql('app', 'CREATE EXTENSION tfguard');
isnt($ret, 0, 'CREATE EXTENSION fails outside the home database');
like($err, qr/tfguard can only be installed in database "postgres"/,
	'the error names the home database');
like($err, qr/HINT:  Connect to database "postgres" and run CREATE EXTENSION tfguard there/,
	'the hint says where to install it');

# A tfguard_admin role that already exists is kept as it is.
$node->safe_psql('postgres', 'CREATE ROLE tfguard_admin NOLOGIN CREATEROLE');
$node->safe_psql('postgres', 'CREATE EXTENSION tfguard');
is($node->safe_psql('postgres',
	"SELECT nspname FROM pg_namespace WHERE nspname = 'tfguard'"),
	'tfguard', 'schema tfguard created in the home database');
is($node->safe_psql('postgres',
	"SELECT rolcanlogin, rolcreaterole FROM pg_roles WHERE rolname = 'tfguard_admin'"),
	'f|t', 'the existing tfguard_admin role is kept');

# tfguard.database is read at server start.
$node->append_conf('postgresql.conf', "tfguard.database = 'app'");
$node->restart;
is($node->safe_psql('app', 'SHOW tfguard.database'), 'app',
	'tfguard.database set in the configuration');
($ret, $out, $err) = $node->psql('app', 'SET tfguard.database = \'postgres\'');
like($err, qr/cannot be changed without restarting the server/,
	'tfguard.database cannot be changed by a session');
$node->safe_psql('app', 'CREATE EXTENSION tfguard');
is($node->safe_psql('app',
	"SELECT extname FROM pg_extension WHERE extname = 'tfguard'"),
	'tfguard', 'CREATE EXTENSION works in the configured home database');

$node->stop;
done_testing();
