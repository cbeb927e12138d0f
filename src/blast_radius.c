/*-------------------------------------------------------------------------
 *
 * blast_radius.c
 *	  What a transaction removed or overwrote, table by table, judged
 *	  against what the tables held: mass_delete and mass_update attempts.
 *
 * The shape checks (classify_plan.c) refuse a DELETE or UPDATE with no
 * condition on its table; they cannot see that "WHERE id > 0" removes
 * every row.  This module judges the consequence instead, with exact
 * counts: the cumulative statistics system counts, per table and per
 * transaction, every row a heap DELETE removes, an UPDATE overwrites and
 * an INSERT adds, on every route (top level, PL/pgSQL, SQL functions,
 * rules, triggers, foreign-key actions, modifying CTEs, MERGE), and
 * forgets what a rolled-back subtransaction did.  Because the counts are
 * per transaction, batches within one transaction add up: three DELETEs
 * of a third each, or a loop removing one row at a time.
 *
 * The judgement runs at the end of every run of a DELETE, UPDATE or MERGE
 * plan, at every nesting level (ExecutorFinish, after the statement's
 * AFTER triggers and foreign-key actions, whose own runs are judged at
 * their ends), on the tables that run wrote to, and once more just before
 * commit on every table past the smallest refusable change.  The first point at which the transaction's removals cross
 * the limit refuses, and the error rolls back everything the statement
 * did.  Nothing commits that crossed it unrefused.
 *
 * Refused: for a table that held at least tfguard.min_rows rows, the
 * transaction removed (net of the rows it added to it) or overwrote at
 * least tfguard.max_share of them.  Smaller tables are left to the shape
 * checks.  What a table held is counted, with the transaction's own
 * changes visible (SnapshotSelf): the rows still there plus the net
 * removed.  The count is skipped only when the statistics say the change
 * is under half the limit and a look at a few blocks shows the table is
 * not nearly empty; counting stops as soon as enough rows are seen to
 * prove the change under the limit; and after a count, the next one
 * waits until the counters could have reached the limit.  So ordinary
 * work (changes of fewer than max_share * min_rows rows of a table in a
 * transaction) costs a comparison per table written, with no allocation
 * and no lookup, and a large qualified DELETE counts at most once,
 * early-stopped.
 *
 * The counters exist only while track_counts is on; with it off (only a
 * superuser can turn it off) tfguard cannot count, and refuses any
 * DELETE, UPDATE or MERGE of a guarded table (fail closed).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "parser/parsetree.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "blast_radius.h"
#include "decide.h"
#include "relation.h"
#include "transaction_list.h"

/*
 * One table whose counters in this transaction passed the smallest change
 * that can be refused: what was decided, and when to look again.
 */
typedef struct ChangedTable
{
	Oid			relid;
	int64		next_removed;	/* judge again when the net removed reaches
								 * this */
	int64		next_overwritten;	/* ... or the updated, this */
	bool		removal_settled;	/* decided (allowed, warned) or not guarded */
	bool		overwrite_settled;
	/*
	 * its counters: they stay put until the statistics are flushed, which
	 * never happens inside a transaction
	 */
	PgStat_TableStatus *counters;
} ChangedTable;

/*
 * The tables (ChangedTable *), forgotten with the transaction.  A
 * transaction that changes fewer rows of every table than the smallest
 * refusable change never adds one, and pays nothing.
 */
static TransactionList changed_tables;
static bool commit_check_registered = false;

static void judge_before_commit(XactEvent event, void *arg);
static void judge_changed_tables(void);

/* The smallest change that can be refused: max_share of min_rows. */
static int64
smallest_refusable(void)
{
	return Max((int64) 1, (int64) ceil(tfguard_max_share * tfguard_min_rows));
}

/* The table's state, made when its counters first pass the smallest refusable change. */
static ChangedTable *
changed_table(Oid relid, PgStat_TableStatus *counters)
{
	ListCell   *lc;
	ChangedTable *table;
	MemoryContext oldcontext;

	foreach(lc, changed_tables.list)
	{
		table = (ChangedTable *) lfirst(lc);
		if (table->relid == relid)
			return table;
	}

	if (!commit_check_registered)
	{
		/* once per backend, never unregistered: see session_unlock.c */
		RegisterXactCallback(judge_before_commit, NULL);
		commit_check_registered = true;
	}
	oldcontext = transaction_list_switch_to(&changed_tables);
	table = palloc0(sizeof(ChangedTable));
	table->relid = relid;
	table->counters = counters;
	table->next_removed = smallest_refusable();
	table->next_overwritten = smallest_refusable();
	changed_tables.list = lappend(changed_tables.list, table);
	MemoryContextSwitchTo(oldcontext);
	return table;
}

/* Before commit, after deferred triggers: the last point to refuse. */
static void
judge_before_commit(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PARALLEL_PRE_COMMIT ||
		event == XACT_EVENT_PRE_PREPARE)
	{
		if (changed_tables.list != NIL && tfguard_guard_is_active())
			judge_changed_tables();
	}
}

/*
 * Called at ExecutorStart for plans that may delete or update rows.
 * Without the statistics counters nothing can be counted: refuse every
 * change of a guarded table rather than let a mass removal through.
 */
void
tfguard_check_countable(PlannedStmt *stmt)
{
	GuardedOperation operation = stmt->commandType == CMD_UPDATE ?
		GUARDED_MASS_UPDATE : GUARDED_MASS_DELETE;
	ListCell   *lc;

	if (likely(pgstat_track_counts))
		return;
	foreach(lc, stmt->resultRelations)
	{
		GuardedAttempt attempt;

		if (tfguard_relation_is_guarded(rt_fetch(lfirst_int(lc), stmt->rtable)->relid,
										operation, &attempt))
		{
			attempt.rows_changed = -1;
			attempt.rows_held = -1;
			tfguard_decide(&attempt);
		}
	}
}

/*
 * What this transaction did to the table so far: rows inserted, updated
 * and deleted, at every subtransaction level still alive.  (A rolled-back
 * subtransaction's counts leave the chain.)
 */
static inline void
transaction_counts(PgStat_TableStatus *counters, int64 *inserted, int64 *updated,
				   int64 *deleted)
{
	PgStat_TableXactStatus *trans;

	*inserted = *updated = *deleted = 0;
	for (trans = counters->trans; trans != NULL; trans = trans->upper)
	{
		*inserted += trans->tuples_inserted;
		*updated += trans->tuples_updated;
		*deleted += trans->tuples_deleted;
	}
}

/* The table's live rows by the statistics, or -1 if they say nothing. */
static int64
statistics_live_rows(Oid relid)
{
	PgStat_StatTabEntry *entry = pgstat_fetch_stat_tabentry(relid);

	return entry ? (int64) StatTabEntryLiveTuples(entry) : -1;
}

/* What a look at the table's rows found. */
typedef struct RowCount
{
	int64		visible;		/* rows there now, this transaction's
								 * changes included */
	int64		updated_here;	/* of those, versions this transaction's
								 * UPDATEs wrote */
	int64		inserted_here;	/* ... and rows it inserted */
} RowCount;

/*
 * Count the table's rows as this transaction sees them now, its own
 * changes (those of the current command too) included: in blocks
 * [start, start + nblocks), or everywhere if nblocks is 0, stopping once
 * "enough" are seen (0: count all).
 */
static void
count_rows(Relation rel, BlockNumber start, BlockNumber nblocks, int64 enough,
		   RowCount *count)
{
	TableScanDesc scan;
	HeapTuple	tuple;

	scan = table_beginscan_strat(rel, SnapshotSelf, 0, NULL, true, false);
	if (nblocks > 0)
		heap_setscanlimits(scan, start, nblocks);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		count->visible++;
		if (TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tuple->t_data)))
		{
			if (tuple->t_data->t_infomask & HEAP_UPDATED)
				count->updated_here++;
			else
				count->inserted_here++;
		}
		if (enough > 0 && count->visible >= enough)
			break;
		CHECK_FOR_INTERRUPTS();
	}
	table_endscan(scan);
}

/*
 * Does a look at a few blocks spread over the table (the last, the middle,
 * the quarters, the first) find at least two rows?  A table emptied, or
 * emptied but for one row, never passes, whatever the statistics say.
 */
static bool
spread_blocks_hold_rows(Relation rel)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(rel);
	BlockNumber probes[5];
	int			nprobes = 0;
	RowCount	count = {0};

	if (nblocks == 0)
		return false;
	probes[0] = nblocks - 1;
	probes[1] = nblocks / 2;
	probes[2] = nblocks / 4;
	probes[3] = nblocks - 1 - nblocks / 4;
	probes[4] = 0;
	for (int i = 0; i < (int) lengthof(probes); i++)
	{
		bool		seen = false;

		for (int j = 0; j < nprobes; j++)
			seen |= probes[j] == probes[i];
		if (seen)
			continue;
		probes[nprobes++] = probes[i];
		count_rows(rel, probes[i], 1, 2 - count.visible, &count);
		if (count.visible >= 2)
			return true;
	}
	return false;
}

static void
decide_on_change(ChangedTable *table, GuardedAttempt *attempt,
				 GuardedOperation operation, int64 changed, int64 held)
{
	attempt->operation = operation;
	attempt->rows_changed = changed;
	attempt->rows_held = held;
	tfguard_decide(attempt);
	/* allowed by an unlock, or warned about: settled */
	if (operation == GUARDED_MASS_DELETE)
		table->removal_settled = true;
	else
		table->overwrite_settled = true;
}

/*
 * The transaction removed "removed" rows, net of those it added.  The
 * table held the rows there now plus those: the removal is under the
 * limit if more than removed * (1 - share) / share rows are still there.
 */
static void
judge_removal(Relation rel, ChangedTable *table, GuardedAttempt *attempt,
			  int64 removed)
{
	double		share = tfguard_max_share;
	int64		estimate = statistics_live_rows(table->relid);
	int64		enough;
	RowCount	count = {0};
	int64		held;

	if (estimate > 0 && removed * 2 < share * estimate && spread_blocks_hold_rows(rel))
	{
		table->next_removed = (int64) ceil(share * estimate / 2);
		return;
	}

	enough = (int64) floor(removed * (1 - share) / share) + 1;
	count_rows(rel, 0, 0, enough, &count);
	held = count.visible + removed;
	if (count.visible >= enough || held < tfguard_min_rows)
	{
		/* it held at least "held": the limit is that share of it */
		table->next_removed = Max(removed + 1, (int64) ceil(share * Max(held, tfguard_min_rows)));
		return;
	}
	decide_on_change(table, attempt, GUARDED_MASS_DELETE, removed, held);
}

/*
 * The transaction's UPDATEs wrote "updated" row versions; rows updated
 * twice count twice there, once in the table.  Counted, the rows it
 * overwrote are the visible versions it wrote by UPDATE, less those of
 * rows it had inserted itself.
 */
static void
judge_overwrite(Relation rel, ChangedTable *table, GuardedAttempt *attempt,
				int64 updated, int64 inserted, int64 deleted)
{
	double		share = tfguard_max_share;
	int64		estimate = statistics_live_rows(table->relid);
	RowCount	count = {0};
	int64		overwritten;
	int64		held;

	if (estimate > 0 && updated * 2 < share * estimate)
	{
		table->next_overwritten = (int64) ceil(share * estimate / 2);
		return;
	}

	count_rows(rel, 0, 0, 0, &count);
	overwritten = count.updated_here -
		Max((int64) 0, inserted - count.inserted_here);
	overwritten = Max(overwritten, (int64) 0);
	held = count.visible + deleted - inserted;
	if (held < tfguard_min_rows || overwritten < share * held)
	{
		/* "updated" grows at least as fast as the rows overwritten */
		table->next_overwritten = updated +
			Max((int64) 1, (int64) ceil(share * Max(held, tfguard_min_rows)) - overwritten);
		return;
	}
	decide_on_change(table, attempt, GUARDED_MASS_UPDATE, overwritten, held);
}

/*
 * Judge one table whose counters passed the smallest refusable change, if
 * they reached the point where the limit may have been crossed.
 */
static void
judge_table(ChangedTable *table, Relation rel)
{
	int64		inserted,
				updated,
				deleted;
	bool		judge_removed,
				judge_updated;
	GuardedAttempt attempt;

	if (table->removal_settled && table->overwrite_settled)
		return;
	transaction_counts(table->counters, &inserted, &updated, &deleted);
	judge_removed = !table->removal_settled &&
		deleted - inserted >= table->next_removed;
	judge_updated = !table->overwrite_settled &&
		updated >= table->next_overwritten;
	if (!judge_removed && !judge_updated)
		return;

	/*
	 * Not a heap, temporary, created by this transaction, or the operation
	 * left out of tfguard.guarded: not judged, now or later.
	 */
	if (rel->rd_rel->relam != HEAP_TABLE_AM_OID)
	{
		table->removal_settled = table->overwrite_settled = true;
		return;
	}
	if (judge_removed)
	{
		if (tfguard_relation_is_guarded(table->relid, GUARDED_MASS_DELETE, &attempt))
			judge_removal(rel, table, &attempt, deleted - inserted);
		else
			table->removal_settled = true;
	}
	if (judge_updated)
	{
		if (tfguard_relation_is_guarded(table->relid, GUARDED_MASS_UPDATE, &attempt))
			judge_overwrite(rel, table, &attempt, updated, inserted, deleted);
		else
			table->overwrite_settled = true;
	}
}

/*
 * Called at the end of every run of a DELETE, UPDATE or MERGE plan: judge
 * the tables it wrote to.  Their counters hang off their relcache entries,
 * so a statement that changed few rows costs a walk over its result
 * relations and a comparison each.  (Rows change only in such runs, the
 * runs of triggers and foreign-key actions included, each judged at its
 * own end.)
 */
void
tfguard_judge_changes_of(EState *estate)
{
	int64		smallest = smallest_refusable();
	ListCell   *lc;

	foreach(lc, estate->es_opened_result_relations)
	{
		Relation	rel = ((ResultRelInfo *) lfirst(lc))->ri_RelationDesc;
		PgStat_TableStatus *counters = rel->pgstat_info;
		int64		inserted,
					updated,
					deleted;

		if (counters == NULL || counters->trans == NULL)
			continue;
		transaction_counts(counters, &inserted, &updated, &deleted);
		if (deleted - inserted < smallest && updated < smallest)
			continue;
		judge_table(changed_table(RelationGetRelid(rel), counters), rel);
	}
}

/*
 * Before commit: every table past the smallest refusable change, once
 * more (a deferred trigger's changes are judged at its own runs' ends
 * too; this is the backstop).
 */
static void
judge_changed_tables(void)
{
	ListCell   *lc;

	foreach(lc, changed_tables.list)
	{
		ChangedTable *table = (ChangedTable *) lfirst(lc);
		Relation	rel;

		if (table->removal_settled && table->overwrite_settled)
			continue;
		/* gone: dropped in this transaction, nothing left to judge */
		rel = RelationIdGetRelation(table->relid);
		if (rel == NULL)
			continue;
		judge_table(table, rel);
		RelationClose(rel);
	}
}
