/*-------------------------------------------------------------------------
 *
 * dropped.c
 *	  What the current statement has removed so far, described while the
 *	  objects still exist.
 *
 * A CASCADE removes the dependents first, so by the time a guarded table
 * is refused they are the objects already on their way out: the refusal
 * can tell the human what the statement was taking with it.  Noted by the
 * object classifier, read by impact.c, forgotten at every top-level
 * statement and with the transaction's memory.  A leaf.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "utils/lsyscache.h"

#include "compat.h"
#include "dropped.h"
#include "transaction_list.h"

#define DROPPED_LISTED 20

static TransactionList dropped_so_far;
static int	dropped_count = 0;	/* valid while dropped_so_far is armed */

void
tfguard_note_dropped(Oid classId, Oid objectId, int subId)
{
	ObjectAddress object = {classId, objectId, subId};
	char	   *description;
	MemoryContext oldcontext;

	/* what a human recognises: tables, views, sequences; not their parts */
	if (classId != RelationRelationId || subId != 0)
		return;
	switch (get_rel_relkind(objectId))
	{
		case RELKIND_RELATION:
		case RELKIND_PARTITIONED_TABLE:
		case RELKIND_MATVIEW:
		case RELKIND_VIEW:
		case RELKIND_SEQUENCE:
		case RELKIND_FOREIGN_TABLE:
			break;
		default:
			return;
	}
	if (!dropped_so_far.armed)
		dropped_count = 0;
	oldcontext = transaction_list_switch_to(&dropped_so_far);
	if (dropped_count++ < DROPPED_LISTED &&
		(description = getObjectDescriptionCompat(&object)) != NULL)
		dropped_so_far.list = lappend(dropped_so_far.list, description);
	MemoryContextSwitchTo(oldcontext);
}

void
tfguard_forget_dropped_so_far(void)
{
	dropped_so_far.list = NIL;
	dropped_count = 0;
}

void
tfguard_append_dropped_so_far(StringInfo out)
{
	ListCell   *lc;

	if (!dropped_so_far.armed)
		return;
	foreach(lc, dropped_so_far.list)
		appendStringInfo(out, "%s%s",
						 foreach_current_index(lc) == 0 ?
						 "; the statement was also removing: " : ", ",
						 (char *) lfirst(lc));
	if (dropped_count > list_length(dropped_so_far.list))
		appendStringInfo(out, " and %d more",
						 dropped_count - list_length(dropped_so_far.list));
}
