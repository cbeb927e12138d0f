/*-------------------------------------------------------------------------
 *
 * classify_object.c
 *	  Objects PostgreSQL is about to drop or truncate -> guarded attempts.
 *
 * PostgreSQL calls the object access hook with OAT_DROP for every object
 * it removes, just before removing it: the objects a DROP names and every
 * object a cascade takes with it (DROP SCHEMA ... CASCADE, DROP OWNED,
 * DROP EXTENSION ... CASCADE, DROP TYPE ... CASCADE of a typed table), and
 * databases in DROP DATABASE, before any backend is terminated or any file
 * removed.  It calls it with OAT_TRUNCATE for every table TRUNCATE is about
 * to empty: the named ones, their partitions and the tables a CASCADE
 * reaches through foreign keys.  Whatever the route (top level, PL/pgSQL,
 * SPI, event triggers), removal passes through here, which is why the
 * table and database guards sit at this level rather than on statements.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "catalog/pg_inherits.h"
#include "catalog/namespace.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "audit.h"
#include "classify.h"
#include "decide.h"
#include "dropped.h"
#include "own_objects.h"
#include "relation.h"
#include "transaction_list.h"

static void
classify_database_drop(Oid databaseId)
{
	GuardedAttempt attempt;
	char	   *dbname = get_database_name(databaseId);

	if (dbname == NULL)
		return;					/* already gone: nothing to lose */

	/* the home database holds the trail: removing it changes tfguard itself */
	attempt.operation = strcmp(dbname, tfguard_database) == 0 ?
		GUARDED_RECONFIGURE : GUARDED_DROP_DATABASE;
	attempt.object_kind = strcmp(dbname, tfguard_database) == 0 ?
		OBJECT_KIND_HOME_DATABASE : OBJECT_KIND_DATABASE;
	attempt.object_name = dbname;
	attempt.object_class = DatabaseRelationId;
	attempt.object_id = databaseId;
	tfguard_decide(&attempt);
}

/*
 * Relations a DROP statement was decided on by name, before PostgreSQL
 * began to remove anything (tfguard_classify_drop_statement): their
 * OAT_DROP is not decided on a second time.  Forgotten at every
 * top-level statement and with the transaction.
 */
static TransactionList decided_by_name;

static void
classify_relation(Oid relid, GuardedOperation operation)
{
	GuardedAttempt attempt;

	if (operation == GUARDED_DROP_TABLE && decided_by_name.armed &&
		list_member_oid(decided_by_name.list, relid))
		return;
	/* a table of tfguard's own, emptied by any route: never a mere truncate */
	if (operation == GUARDED_TRUNCATE &&
		OidIsValid(tfguard_audit_table_oid()) &&
		tfguard_part_of_relation(relid) != PART_NONE)
	{
		attempt.operation = GUARDED_RECONFIGURE;
		attempt.object_class = RelationRelationId;
		attempt.object_id = relid;
		attempt.object_kind = tfguard_part_of_relation(relid) == PART_AUDIT_TABLE ?
			OBJECT_KIND_AUDIT_TABLE : OBJECT_KIND_TFGUARD_SCHEMA;
		attempt.object_name = attempt.object_kind == OBJECT_KIND_AUDIT_TABLE ?
			"tfguard.audit_log" : "tfguard";
		tfguard_decide(&attempt);
		return;
	}
	if (tfguard_relation_is_guarded(relid, operation, &attempt))
		tfguard_decide(&attempt);
}

/*
 * Called from the ProcessUtility hook for DROP TABLE and DROP MATERIALIZED
 * VIEW without CASCADE: decide on the tables the statement names before
 * PostgreSQL removes their indexes, constraints and TOAST tables, so that
 * a refusal costs the refusal, not the work it undoes.  A table the
 * session does not own is left to PostgreSQL, which refuses it first; a
 * CASCADE is decided where the objects go, with everything it takes
 * listed for the human (impact.c).  The object access hook remains the
 * backstop: a table renamed in between is decided on there.  Returns
 * whether the named tables are all the guarded tables the statement can
 * remove (none has partitions or children), so that its decision need not
 * wait for its end.
 */
bool
tfguard_classify_drop_statement(DropStmt *stmt)
{
	ListCell   *lc;
	bool		complete = true;

	if ((stmt->removeType != OBJECT_TABLE && stmt->removeType != OBJECT_MATVIEW) ||
		stmt->behavior == DROP_CASCADE)
		return false;
	foreach(lc, stmt->objects)
	{
		Oid			relid = RangeVarGetRelid(makeRangeVarFromNameList(castNode(List, lfirst(lc))),
											 NoLock, true);
		GuardedAttempt attempt;
		MemoryContext oldcontext;

		char		relkind = OidIsValid(relid) ? get_rel_relkind(relid) : '\0';

		/* DROP TABLE of a view, DROP MATERIALIZED VIEW of a table: PostgreSQL says so */
		if (stmt->removeType == OBJECT_MATVIEW ? relkind != RELKIND_MATVIEW :
			(relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE))
			continue;
		if (!pg_class_ownercheck(relid, GetUserId()) ||
			!tfguard_relation_is_guarded(relid, GUARDED_DROP_TABLE, &attempt))
			continue;
		complete &= !has_subclass(relid);
		tfguard_decide(&attempt);
		oldcontext = transaction_list_switch_to(&decided_by_name);
		decided_by_name.list = lappend_oid(decided_by_name.list, relid);
		MemoryContextSwitchTo(oldcontext);
	}
	return complete;
}

void
tfguard_forget_decided_by_name(void)
{
	decided_by_name.list = NIL;
}

/*
 * Does the table hold a row?  Any committed one counts, and this
 * transaction's own, not only those its snapshot sees: a repeatable-read
 * transaction older than the rows would otherwise find it empty.
 */
static bool
table_holds_rows(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TableScanDesc scan;
	TupleTableSlot *slot;
	bool		found;

	scan = table_beginscan(rel, SnapshotSelf, 0, NULL);
	slot = table_slot_create(rel, NULL);
	found = table_scan_getnextslot(scan, ForwardScanDirection, slot);
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * A column dropped (ALTER TABLE ... DROP COLUMN, or a cascade from a type
 * or a dropped object) takes its value in every row.  A partitioned table
 * holds no rows itself: each partition loses the column too, and is
 * decided on by itself.
 */
static void
classify_column_drop(Oid relid, int attnum)
{
	GuardedAttempt attempt;

	if (attnum <= 0 || get_rel_relkind(relid) != RELKIND_RELATION)
		return;
	if (!tfguard_relation_is_guarded(relid, GUARDED_DROP_COLUMN, &attempt) ||
		!table_holds_rows(relid))
		return;
	attempt.column_name = get_attname(relid, (AttrNumber) attnum, true);
	if (attempt.column_name == NULL)
		return;
	tfguard_decide(&attempt);
}

/*
 * A function that drops, advances or consumes a replication slot, or
 * advances an origin, about to be called (the executor is preparing the
 * expression): which slot it will be is an argument, known only when it
 * runs, so the function names it.
 */
static void
classify_slot_function(Oid funcid)
{
	GuardedAttempt attempt = {0};

	if (!tfguard_operation_guarded(GUARDED_BREAK_RECOVERY))
		return;
	attempt.operation = GUARDED_BREAK_RECOVERY;
	attempt.object_kind = OBJECT_KIND_REPLICATION_SLOT;
	attempt.object_name = tfguard_recovery_function(funcid);
	attempt.object_class = InvalidOid;
	attempt.object_id = InvalidOid;
	tfguard_decide(&attempt);
}

/*
 * Called for every object access event.  Column drops (subId != 0) lose a
 * column's values, decided on as drop_column.  New
 * relations are noted because dropping what the same transaction created
 * loses nothing.
 */
void
tfguard_classify_object_access(ObjectAccessType access, Oid classId,
							   Oid objectId, int subId)
{
	switch (access)
	{
		case OAT_POST_CREATE:
			if (classId == RelationRelationId && subId == 0)
				tfguard_note_relation_created(objectId);
			break;
		case OAT_DROP:
			if (classId == DatabaseRelationId)
				classify_database_drop(objectId);
			else if (classId == RelationRelationId && subId == 0)
				classify_relation(objectId, GUARDED_DROP_TABLE);
			else if (classId == RelationRelationId)
				classify_column_drop(objectId, subId);
			tfguard_note_dropped(classId, objectId, subId);
			break;
		case OAT_TRUNCATE:
			classify_relation(objectId, GUARDED_TRUNCATE);
			break;
		case OAT_FUNCTION_EXECUTE:
			classify_slot_function(objectId);
			break;
		default:
			break;
	}
}
