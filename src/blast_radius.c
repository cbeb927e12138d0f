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
 * The judgement runs at the end of every run that can delete or
 * overwrite rows (DELETE, UPDATE, MERGE, INSERT ... ON CONFLICT DO UPDATE,
 * modifying CTEs), at every nesting level (ExecutorFinish, after the
 * statement's AFTER triggers and foreign-key actions, whose own runs are
 * judged at their ends), on the tables that run wrote to, and once more
 * just before commit on every table past the smallest refusable change.
 * The first point at which the transaction crosses the limit refuses, and
 * the error rolls back everything the statement did.  Nothing commits
 * that crossed it unrefused.
 *
 * What the transaction destroyed of a table's old rows: rows deleted,
 * plus row versions it wrote that are still there, less rows it inserted
 * (see destroyed()).  Refused (mass_delete if the table shrank by half of
 * that, mass_update otherwise): for a table that held at least
 * tfguard.min_rows rows, at least tfguard.max_share of them, together
 * with what the role's other transactions removed from it within
 * tfguard.window (removal_window.c).  Smaller tables are left to the
 * shape checks.  What a table held is counted, with the transaction's
 * own changes visible (the newest snapshot, made to see the current
 * command): the rows still there plus those removed.  The count is
 * skipped only when the statistics say the change is under half the
 * limit and a look at a few blocks shows the table is not nearly empty;
 * counting stops as soon as enough rows are seen to prove the change
 * under the limit; and after a count, the next one waits until the
 * counters could have reached the limit.  So ordinary work (changes of
 * fewer than max_share * min_rows rows of a table in a transaction, no
 * removal) costs a comparison per table written, with no allocation and
 * no lookup, and a large qualified DELETE counts at most once,
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
#include "utils/pgstat_internal.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "blast_radius.h"
#include "decide.h"
#include "relation.h"
#include "removal_window.h"
#include "session_unlock.h"
#include "transaction_list.h"

/*
 * One table whose counters in this transaction passed the smallest change
 * that can be refused: what was decided, and when to look again.
 */
typedef struct ChangedTable
{
	Oid			relid;
	int64		next_judged;	/* judge again when rows deleted plus rows
								 * updated reach this */
	int64		in_window;		/* net removal added to the window before
								 * commit, taken back if it aborts */
	bool		removal_settled;	/* mass_delete decided (allowed, warned)
									 * or not guarded */
	bool		overwrite_settled;	/* the same for mass_update */
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
static void count_in_window(void);
static void uncount_in_window(void);

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
	table->next_judged = smallest_refusable();
	changed_tables.list = lappend(changed_tables.list, table);
	MemoryContextSwitchTo(oldcontext);
	return table;
}

/*
 * Before commit, after deferred triggers: the last point to refuse, and
 * where the window is counted.  On abort, that count is taken back.
 */
static void
judge_before_commit(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		if (changed_tables.list != NIL)
			uncount_in_window();
		return;
	}
	if (event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PARALLEL_PRE_COMMIT ||
		event == XACT_EVENT_PRE_PREPARE)
	{
		if (changed_tables.list != NIL && tfguard_guard_is_active())
		{
			/* what a statement held is refused first; these are refused at once */
			tfguard_decide_statement_end();
			judge_changed_tables();
			count_in_window();
			/* an unlock those used may not be prepared (session_unlock.c) */
			if (event == XACT_EVENT_PRE_PREPARE)
				tfguard_session_unlock_refuse_prepare();
		}
	}
}

/*
 * Without the statistics counters nothing can be counted: refuse every
 * change of a guarded table rather than let a mass removal through.
 */
static void
refuse_uncountable(Oid relid)
{
	GuardedAttempt attempt;

	if (tfguard_relation_is_guarded(relid, GUARDED_MASS_DELETE, &attempt))
	{
		attempt.rows_changed = -1;
		attempt.rows_held = -1;
		attempt.rows_earlier = 0;
		tfguard_decide(&attempt);
	}
}

/* Called at ExecutorStart for plans that may delete or update rows. */
void
tfguard_check_countable(PlannedStmt *stmt)
{
	ListCell   *lc;

	if (likely(pgstat_track_counts))
		return;
	foreach(lc, stmt->resultRelations)
		refuse_uncountable(rt_fetch(lfirst_int(lc), stmt->rtable)->relid);
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

/*
 * The table's rows by the statistics, or -1 if they say nothing: the
 * cumulative statistics' live rows, kept up to date at every commit; where
 * they were lost (a crash) or reset, the density VACUUM or ANALYZE last
 * saw, over the table's blocks now, as the planner estimates.  (Its owner
 * can set the latter on PostgreSQL 18, so it is only the fallback.)
 */
static int64
statistics_live_rows(Relation rel)
{
	PgStat_StatTabEntry *entry = pgstat_fetch_stat_tabentry(RelationGetRelid(rel));
	BlockNumber relpages = rel->rd_rel->relpages;

	if (entry != NULL && StatTabEntryLiveTuples(entry) > 0)
		return (int64) StatTabEntryLiveTuples(entry);
	if (relpages == 0 || rel->rd_rel->reltuples < 0)
		return -1;
	return (int64) (rel->rd_rel->reltuples / relpages * RelationGetNumberOfBlocks(rel));
}

/* What a look at the table's rows found. */
typedef struct RowCount
{
	int64		visible;		/* rows there now, this transaction's
								 * changes included */
	int64		written_here;	/* of those, versions this transaction wrote
								 * (inserted or updated) */
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
	Snapshot	snapshot;

	/*
	 * The newest snapshot, made to see the current command's own changes
	 * too (as SnapshotSelf would, but an MVCC snapshot lets the scan judge
	 * a page's rows at once).
	 */
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	snapshot->curcid = GetCurrentCommandId(false) + 1;
	scan = table_beginscan_strat(rel, snapshot, 0, NULL, true, false);
	if (nblocks > 0)
		heap_setscanlimits(scan, start, nblocks);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		count->visible++;
		if (TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tuple->t_data)))
			count->written_here++;
		if (enough > 0 && count->visible >= enough)
			break;
		CHECK_FOR_INTERRUPTS();
	}
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
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

/*
 * What the transaction destroyed of the rows the table held before it:
 * rows deleted, plus versions it wrote that are still there, less rows it
 * inserted.  Every old row deleted counts once; every old row overwritten
 * (however often) leaves one version written here; a row the transaction
 * inserted itself counts once in "inserted" and once as deleted or as a
 * version still there, and so not at all.  Replacing old rows with new
 * ones (insert, then delete the old) counts the old; moving rows between
 * partitions counts on the partition they left.  A table whose storage
 * the transaction rewrote (ALTER TABLE ... TYPE, ...) has every row
 * written here: there the rows deleted plus the rows updated are taken,
 * an upper bound.
 */
static int64
destroyed(Relation rel, const RowCount *count, int64 inserted, int64 updated,
		  int64 deleted)
{
	if (RelationRewrittenInTransaction(rel))
		return deleted + updated;
	return Max(deleted + count->written_here - inserted, (int64) 0);
}

/*
 * The transaction deleted "deleted" rows and updated "updated": it
 * destroyed at most their sum.  The table held the rows there now plus
 * those deleted less those inserted.  The change is under the limit if
 * enough rows are still there; else, counted in full, it is judged as
 * mass_delete when the table shrank by at least half of what was
 * destroyed, mass_update otherwise (old rows replaced by new ones are
 * overwritten).
 */
static void
judge_destruction(Relation rel, ChangedTable *table, int64 inserted,
				  int64 updated, int64 deleted, int64 earlier)
{
	double		share = tfguard_max_share;
	int64		most = Max(deleted + updated + earlier, (int64) 0);
	int64		estimate = statistics_live_rows(rel);
	int64		enough;
	RowCount	count = {0};
	int64		held;
	int64		lost;
	GuardedOperation operation;
	GuardedAttempt attempt;

	if (estimate > 0 && most * 2 < share * (estimate + earlier) && spread_blocks_hold_rows(rel))
	{
		table->next_judged = (int64) ceil(share * (estimate + earlier) / 2);
		return;
	}

	/*
	 * held > most / share proves the change under the limit.  What the
	 * table held: the rows there now, those this transaction removed net,
	 * and those the role's earlier transactions removed net in the window.
	 */
	enough = Max((int64) floor(most / share) - (deleted - inserted + earlier) + 1,
				 (int64) 1);
	count_rows(rel, 0, 0, enough, &count);
	held = count.visible + deleted - inserted + earlier;
	if (count.visible >= enough)
	{
		/* it held at least "held": the limit is that share of it */
		table->next_judged = Max(most + 1,
								 (int64) ceil(share * Max(held, tfguard_min_rows)));
		return;
	}

	lost = Min(destroyed(rel, &count, inserted, updated, deleted) + earlier,
			   Max(held, (int64) 0));
	if (held < tfguard_min_rows || lost < share * held)
	{
		/* "most" grows at least as fast as what is destroyed */
		table->next_judged = most +
			Max((int64) 1, (int64) ceil(share * Max(held, tfguard_min_rows)) - lost);
		return;
	}

	/* the table shrank by at least half of it: a removal; else an overwrite */
	operation = (deleted - inserted + earlier) * 2 >= lost ?
		GUARDED_MASS_DELETE : GUARDED_MASS_UPDATE;
	table->next_judged = most + Max((int64) 1, (int64) ceil(share * held));
	if (operation == GUARDED_MASS_DELETE ? table->removal_settled : table->overwrite_settled)
		return;
	if (!tfguard_relation_is_guarded(table->relid, operation, &attempt))
	{
		/* left out of tfguard.guarded, or not a table it guards: settled */
		if (operation == GUARDED_MASS_DELETE)
			table->removal_settled = true;
		else
			table->overwrite_settled = true;
		return;
	}
	attempt.rows_changed = lost;
	attempt.rows_held = held;
	attempt.rows_earlier = earlier;
	tfguard_decide(&attempt);

	/*
	 * Allowed by an unlock, or warned about: judged again once it destroys
	 * a tenth more, so that an approval of 600 rows (and a tenth more) does
	 * not let the rest of the table go in the same transaction.
	 */
	table->next_judged = most + Max((int64) 1, lost / 10);
}

/*
 * Judge one table whose counters passed the smallest refusable change, if
 * they reached the point where the limit may have been crossed.
 */
/*
 * "earlier": what the role's other transactions removed from the table
 * within the window, or -1 to read it from the window now.
 */
static void
judge_table(ChangedTable *table, Relation rel, int64 earlier)
{
	int64		inserted,
				updated,
				deleted;

	if (table->removal_settled && table->overwrite_settled)
		return;
	transaction_counts(table->counters, &inserted, &updated, &deleted);
	/* the role's earlier removals count with this transaction's */
	if (earlier < 0)
		earlier = deleted > 0 && !table->removal_settled ?
			tfguard_window_removed(table->relid, GetUserId()) : 0;
	if (deleted + updated + earlier < table->next_judged)
		return;
	/* not a heap: nothing to count with */
	if (rel->rd_rel->relam != HEAP_TABLE_AM_OID)
	{
		table->removal_settled = table->overwrite_settled = true;
		return;
	}
	judge_destruction(rel, table, inserted, updated, deleted, earlier);
}

/*
 * Called at the end of every run of a plan that can delete or overwrite
 * rows: judge the tables it wrote to.
 * Their counters hang off their relcache entries, so a statement that
 * changed few rows costs a walk over its result relations and a
 * comparison each.  (Rows change only in such runs, the runs of triggers
 * and foreign-key actions included, each judged at its own end.)
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

		/*
		 * Counting stopped during the run (a superuser's set_config() in a
		 * trigger): what the run deleted or overwrote cannot be known.
		 * Refused.
		 */
		if (unlikely(!pgstat_track_counts))
			refuse_uncountable(RelationGetRelid(rel));
		/* unlinked from the relcache entry (track_counts turned off and on): look it up */
		if (unlikely(counters == NULL))
		{
			PgStat_EntryRef *entry_ref =
				pgstat_fetch_pending_entry(PGSTAT_KIND_RELATION, MyDatabaseId,
										   RelationGetRelid(rel));

			if (entry_ref == NULL || entry_ref->pending == NULL)
				continue;
			counters = (PgStat_TableStatus *) entry_ref->pending;
		}
		if (counters->trans == NULL)
			continue;
		transaction_counts(counters, &inserted, &updated, &deleted);
		/* a removal, however small, is counted in the window at commit */
		if (deleted + updated < smallest && deleted == 0)
			continue;
		judge_table(changed_table(RelationGetRelid(rel), counters), rel, -1);
	}
}

/*
 * Called at the end of a plain INSERT: rows the role adds to a table from
 * which it removed rows within the window count against those removals at
 * commit (a queue).  One memory read when no role removed any.
 */
void
tfguard_note_additions_of(EState *estate)
{
	ListCell   *lc;

	foreach(lc, estate->es_opened_result_relations)
	{
		Relation	rel = ((ResultRelInfo *) lfirst(lc))->ri_RelationDesc;

		if (unlikely(tfguard_window_may_hold(RelationGetRelid(rel))) &&
			rel->pgstat_info != NULL)
			(void) changed_table(RelationGetRelid(rel), rel->pgstat_info);
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
		judge_table(table, rel, -1);
		RelationClose(rel);
	}
}

/*
 * Before commit: what the transaction removed from each guarded table, net
 * of what it added, counts against its role in the window, and the table
 * is judged once more against what the role's other transactions had
 * counted before it (under the window's lock: of two sessions committing
 * at once, the second sees the first).  When the window has no room for a
 * new count, the removal is refused: tfguard does not let through what it
 * cannot count.  If the transaction then aborts, its count is taken back.
 */
static void
count_in_window(void)
{
	ListCell   *lc;

	foreach(lc, changed_tables.list)
	{
		ChangedTable *table = (ChangedTable *) lfirst(lc);
		int64		inserted,
					updated,
					deleted;
		int64		before;
		GuardedAttempt attempt;
		Relation	rel;

		transaction_counts(table->counters, &inserted, &updated, &deleted);
		if (deleted == inserted || table->removal_settled ||
			!tfguard_relation_is_guarded(table->relid, GUARDED_MASS_DELETE, &attempt))
			continue;
		if (!tfguard_window_add(table->relid, GetUserId(), deleted - inserted, &before))
		{
			attempt.rows_changed = -2;
			attempt.rows_held = -1;
			attempt.rows_earlier = 0;
			tfguard_decide(&attempt);
			continue;
		}
		table->in_window = deleted - inserted;
		if (deleted - inserted <= 0 || before <= 0)
			continue;
		rel = RelationIdGetRelation(table->relid);
		if (rel == NULL)
			continue;
		table->next_judged = 0;
		judge_table(table, rel, before);
		RelationClose(rel);
	}
}

/* The transaction aborted: what it counted in the window is taken back. */
static void
uncount_in_window(void)
{
	ListCell   *lc;

	foreach(lc, changed_tables.list)
	{
		ChangedTable *table = (ChangedTable *) lfirst(lc);

		if (table->in_window != 0)
			(void) tfguard_window_add(table->relid, GetUserId(), -table->in_window, NULL);
		table->in_window = 0;
	}
}
