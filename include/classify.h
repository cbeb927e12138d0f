/*-------------------------------------------------------------------------
 *
 * classify.h
 *	  What the hooks hand over: objects being removed (classify_object.c),
 *	  plans about to run (classify_plan.c), utility statements
 *	  (classify_utility.c).  Each turns what it sees into attempts for
 *	  the decision point.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_CLASSIFY_H
#define TFGUARD_CLASSIFY_H

#include "catalog/objectaccess.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "utils/fmgroids.h"

extern void tfguard_classify_object_access(ObjectAccessType access,
										   Oid classId, Oid objectId,
										   int subId);
extern bool tfguard_classify_drop_statement(DropStmt *stmt);
extern void tfguard_forget_decided_by_name(void);
extern void tfguard_classify_plan(PlannedStmt *stmt);
extern void tfguard_classify_utility(PlannedStmt *pstmt);
/* what REFRESH MATERIALIZED VIEW is checked against after it ran */
typedef struct RefreshCheck
{
	Oid			relid;
	int64		rows_before;
} RefreshCheck;

extern bool tfguard_classify_refresh_before(RefreshMatViewStmt *stmt,
											RefreshCheck *check);
extern void tfguard_classify_refresh_after(const RefreshCheck *check);

/*
 * The functions that throw away what a standby, a subscriber or a backup
 * tool still needs: they drop, advance or consume a replication slot, or
 * advance or drop a replication origin (break_recovery).  Their names are
 * also their C symbols: CREATE FUNCTION ... LANGUAGE internal AS one of
 * them is refused too (classify_utility.c).  The object access hook
 * asks for every function the executor prepares to call: a switch on OIDs.
 */
static inline const char *
tfguard_recovery_function(Oid funcid)
{
	switch (funcid)
	{
		case F_PG_DROP_REPLICATION_SLOT:
			return "pg_drop_replication_slot";
		case F_PG_REPLICATION_SLOT_ADVANCE:
			return "pg_replication_slot_advance";
		case F_PG_LOGICAL_SLOT_GET_CHANGES:
			return "pg_logical_slot_get_changes";
		case F_PG_LOGICAL_SLOT_GET_BINARY_CHANGES:
			return "pg_logical_slot_get_binary_changes";
		case F_PG_REPLICATION_ORIGIN_ADVANCE:
			return "pg_replication_origin_advance";
		case F_PG_REPLICATION_ORIGIN_XACT_SETUP:
			return "pg_replication_origin_xact_setup";
		case F_PG_REPLICATION_ORIGIN_DROP:
			return "pg_replication_origin_drop";
		default:
			return NULL;
	}
}

#endif							/* TFGUARD_CLASSIFY_H */
