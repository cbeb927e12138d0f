/*-------------------------------------------------------------------------
 *
 * operation.c
 *	  The names of the guarded operations: what refusals, audit rows,
 *	  tokens and approvals call them.  A leaf: it uses no other module.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "operation.h"

/* In the order tokens list them. */
static const GuardedOperation all_operations[] = {
	GUARDED_DROP_DATABASE, GUARDED_DROP_TABLE, GUARDED_TRUNCATE,
	GUARDED_DELETE_ALL, GUARDED_UPDATE_ALL, GUARDED_MASS_DELETE,
	GUARDED_MASS_UPDATE, GUARDED_DROP_COLUMN, GUARDED_BREAK_RECOVERY,
	GUARDED_RECONFIGURE
};

const char *
tfguard_operation_name(GuardedOperation operation)
{
	switch (operation)
	{
		case GUARDED_DROP_DATABASE:
			return "drop_database";
		case GUARDED_DROP_TABLE:
			return "drop_table";
		case GUARDED_TRUNCATE:
			return "truncate";
		case GUARDED_DELETE_ALL:
			return "delete_all";
		case GUARDED_RECONFIGURE:
			return "reconfigure";
		case GUARDED_UPDATE_ALL:
			return "update_all";
		case GUARDED_MASS_DELETE:
			return "mass_delete";
		case GUARDED_MASS_UPDATE:
			return "mass_update";
		case GUARDED_DROP_COLUMN:
			return "drop_column";
		case GUARDED_BREAK_RECOVERY:
			return "break_recovery";
	}
	return "unknown";			/* keep compiler quiet */
}

bool
tfguard_parse_operation(const char *name, GuardedOperation *operation)
{
	for (int i = 0; i < (int) lengthof(all_operations); i++)
	{
		if (strcmp(name, tfguard_operation_name(all_operations[i])) == 0)
		{
			*operation = all_operations[i];
			return true;
		}
	}
	return false;
}

/* A set of operations (bit 1 << operation) as "drop_table,truncate". */
char *
tfguard_operations_text(uint32 operations)
{
	StringInfoData out;

	initStringInfo(&out);
	for (int i = 0; i < (int) lengthof(all_operations); i++)
	{
		if (operations & (1 << all_operations[i]))
			appendStringInfo(&out, "%s%s", out.len ? "," : "",
							 tfguard_operation_name(all_operations[i]));
	}
	return out.data;
}
