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

#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"

#include "classify.h"
#include "decide.h"
#include "dropped.h"
#include "relation.h"

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

static void
classify_relation(Oid relid, GuardedOperation operation)
{
	GuardedAttempt attempt;

	if (tfguard_relation_is_guarded(relid, operation, &attempt))
		tfguard_decide(&attempt);
}

/*
 * Called for every object access event.  Column drops (subId != 0) lose a
 * column, not a table, and are not one of the guarded operations.  New
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
			tfguard_note_dropped(classId, objectId, subId);
			break;
		case OAT_TRUNCATE:
			classify_relation(objectId, GUARDED_TRUNCATE);
			break;
		default:
			break;
	}
}
