# Helpers shared by tfguard's TAP tests.
package TfguardTest;

use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Cluster;

our @EXPORT = qw(new_guarded_node session_as try_in);

# A started cluster with tfguard preloaded, plus any extra configuration,
# and the extension created in its home database (postgres).
sub new_guarded_node
{
	my ($name, @conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	# tests repeat refusals on purpose: the pace has its own test (t/017),
	# which asks for it
	push @conf, 'tfguard.refusal_pace = off'
	  unless grep { /tfguard\.refusal_pace/ } @conf;
	$node->append_conf('postgresql.conf',
		join("\n", "shared_preload_libraries = 'tfguard'", @conf));
	$node->start;
	# the extension belongs to the home database, postgres unless @conf moves it
	$node->safe_psql('postgres', 'CREATE EXTENSION tfguard')
	  unless grep { /tfguard\.database/ } @conf;
	return $node;
}

# A background psql session of a role that keeps going after an error, as
# an agent's connection does.
sub session_as
{
	my ($node, $db, $role) = @_;
	return $node->background_psql($db, extra_params => [ '-U', $role ],
		on_error_stop => 0);
}

# Run a statement in a background session; return its stderr.
sub try_in
{
	my ($session, $sql) = @_;
	$session->{stderr} = '';
	$session->query($sql);
	return $session->{stderr};
}

1;
