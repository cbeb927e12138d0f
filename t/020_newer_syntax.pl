# Syntax newer than PostgreSQL 15, on the versions that have it: MERGE with
# RETURNING and WHEN NOT MATCHED BY SOURCE (17), RETURNING
# old/new and virtual generated columns (18).  Each one deletes what its
# plan says, so delete_all refuses exactly when no condition on a column of
# the target is left.  On older versions the sections are skipped.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TfguardTest;

my $node = new_guarded_node('newer');
my $version = $node->pg_version;
$node->safe_psql('postgres', q{
	CREATE TABLE t (id int PRIMARY KEY, note text);
	INSERT INTO t SELECT i, 'row ' || i FROM generate_series(1, 100) i;
	CREATE TABLE src (id int);
	INSERT INTO src VALUES (1), (2);
});

sub refused
{
	my ($sql, $name) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql);
	like($err, qr/tfguard refused delete_all of table "public\.t"/, "refused: $name");
}

sub allowed
{
	my ($sql, $name) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql);
	is($err, '', "allowed: $name");
}

sub rows_in_t
{
	return $node->safe_psql('postgres', 'SELECT count(*) FROM t');
}

SKIP:
{
	skip "MERGE ... RETURNING needs PostgreSQL 17 (this is $version)", 4
	  if $version < 17;
	refused(q{MERGE INTO t USING src ON true WHEN MATCHED THEN DELETE
			RETURNING merge_action(), t.id},
		'MERGE ... ON true ... DELETE RETURNING');
	is(rows_in_t(), '100', 'MERGE ... ON true: rows intact');
	allowed(q{MERGE INTO t USING src ON t.id = src.id WHEN MATCHED THEN DELETE
			RETURNING merge_action(), t.id},
		'MERGE joined on the key ... DELETE RETURNING');
	is(rows_in_t(), '98', 'MERGE joined on the key: the two matched rows went');
}

SKIP:
{
	skip "RETURNING old/new and virtual generated columns need PostgreSQL 18 (this is $version)", 6
	  if $version < 18;
	refused('DELETE FROM t RETURNING old.id, new.id', 'DELETE ... RETURNING old, new');
	allowed('DELETE FROM t WHERE id = 3 RETURNING old.*, new.*',
		'DELETE ... WHERE id = 3 RETURNING old.*, new.*');
	is(rows_in_t(), '97', 'RETURNING old/new: only the row named went');

	$node->safe_psql('postgres', q{
		ALTER TABLE t ADD COLUMN always int GENERATED ALWAYS AS (1) VIRTUAL,
			ADD COLUMN twice int GENERATED ALWAYS AS (id * 2) VIRTUAL});
	refused('DELETE FROM t WHERE always = 1',
		'a condition on a virtual column that is a constant (it folds to true)');
	allowed('DELETE FROM t WHERE twice = 8',
		'a condition on a virtual column computed from a column');
	is(rows_in_t(), '96', 'virtual columns: only the row named went');
}

# MERGE's WHEN NOT MATCHED BY SOURCE (17): with a DELETE for the matched
# rows too, every row of the target goes, whatever the join condition says.
SKIP:
{
	skip "WHEN NOT MATCHED BY SOURCE needs PostgreSQL 17 (this is $version)", 1
	  if $version < 17;
	refused(q{MERGE INTO t USING src ON t.id = src.id
			WHEN MATCHED THEN DELETE WHEN NOT MATCHED BY SOURCE THEN DELETE},
		'MERGE deleting both the matched rows and those not matched by source');
}

done_testing();
