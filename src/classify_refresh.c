/*-------------------------------------------------------------------------
 *
 * classify_refresh.c
 *	  REFRESH MATERIALIZED VIEW that empties a view -> truncate attempts.
 *
 * A refresh replaces a materialized view's rows with what its query
 * returns now; an agent that replaced the view or function it reads with
 * one returning nothing (or next to nothing) empties it as surely as
 * TRUNCATE, which cannot reach a materialized view.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/tablecmds.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "classify.h"
#include "decide.h"
#include "relation.h"

/* A refresh that keeps fewer than half the rows of a view this big loses data. */
#define REFRESH_MIN_ROWS 100

/*
 * How many rows the relation holds, as the statement sees them, counting
 * no further than "enough" (a view emptied is told from one with rows by
 * the first row).
 */
static int64
count_rows(Relation relation, int64 enough)
{
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	TableScanDesc scan = table_beginscan(relation, snapshot, 0, NULL);
	TupleTableSlot *slot = table_slot_create(relation, NULL);
	int64		rows = 0;

	while (rows < enough && table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		CHECK_FOR_INTERRUPTS();
		rows++;
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	return rows;
}

static void
decide_on_emptying(Oid relid)
{
	GuardedAttempt attempt;

	if (tfguard_relation_is_guarded(relid, GUARDED_TRUNCATE, &attempt))
		tfguard_decide(&attempt);
}

/*
 * Before REFRESH MATERIALIZED VIEW: a populated view that holds rows is
 * what the refresh could lose.  WITH NO DATA empties it for certain, and
 * is decided on at once; otherwise the view and its row count are kept,
 * to look again after the refresh (a view or function it reads may have
 * been replaced by one that returns nothing, or next to nothing).  The
 * lock is the one the refresh itself takes, after the same ownership
 * check, so that nothing waits here that would not have waited anyway.
 */
bool
tfguard_classify_refresh_before(RefreshMatViewStmt *stmt, RefreshCheck *check)
{
	LOCKMODE	lockmode = stmt->concurrent ? ExclusiveLock : AccessExclusiveLock;
	Oid			relid;
	Relation	matview;
	int64		rows;

	relid = RangeVarGetRelidExtended(stmt->relation, lockmode, 0,
									 RangeVarCallbackMaintainsTable, NULL);
	if (get_rel_relkind(relid) != RELKIND_MATVIEW)
		return false;			/* REFRESH reports that itself */
	matview = table_open(relid, NoLock);
	rows = RelationIsPopulated(matview) ?
		count_rows(matview, stmt->skipData ? 1 : PG_INT64_MAX) : 0;
	table_close(matview, NoLock);
	if (rows == 0)
		return false;
	if (stmt->skipData)
	{
		decide_on_emptying(relid);
		return false;
	}
	check->relid = relid;
	check->rows_before = rows;
	return true;
}

/*
 * After the refresh: a view that held rows and holds none, or (holding
 * REFRESH_MIN_ROWS or more) fewer than half of them, lost its data as if
 * truncated and refilled with a remnant.
 */
void
tfguard_classify_refresh_after(const RefreshCheck *check)
{
	Relation	matview;
	int64		rows_after;

	CommandCounterIncrement();
	matview = table_open(check->relid, NoLock);
	rows_after = count_rows(matview, check->rows_before);
	table_close(matview, NoLock);
	if (rows_after == 0 ||
		(check->rows_before >= REFRESH_MIN_ROWS && rows_after * 2 < check->rows_before))
		decide_on_emptying(check->relid);
}
