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

#endif							/* TFGUARD_CLASSIFY_H */
