/*-------------------------------------------------------------------------
 *
 * decide.c
 *	  The one place that allows, warns about or refuses a guarded attempt.
 *
 * Every classifier ends here with one GuardedAttempt: one operation on one
 * object.  A statement that would remove several guarded objects reaches
 * this point once per object, in the order PostgreSQL removes them, and
 * stops at the first refusal.  The unlocks (tokens, approvals) and the
 * audit trail plug in here and nowhere else.
 *
 * The refusal's text is read by automation agents as much as by people:
 * it says plainly that the data is protected, that the operation needs a
 * human, and that trying another route will meet the same refusal.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "tfguard.h"

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
	}
	return "unknown";			/* keep compiler quiet */
}

/* What the operation would do, as a full sentence for errdetail. */
static int
errdetail_consequence(const GuardedAttempt *attempt)
{
	switch (attempt->operation)
	{
		case GUARDED_DROP_DATABASE:
			return errdetail("Dropping database \"%s\" would permanently remove it and all its data.",
							 attempt->object_name);
		case GUARDED_DROP_TABLE:
			return errdetail("The statement would permanently remove %s \"%s\" and all its rows.",
							 attempt->object_kind, attempt->object_name);
		case GUARDED_TRUNCATE:
			return errdetail("TRUNCATE would permanently remove every row of %s \"%s\".",
							 attempt->object_kind, attempt->object_name);
		case GUARDED_DELETE_ALL:
			return errdetail("The DELETE has no WHERE condition on %s \"%s\" that survives constant folding, so it would remove every row.",
							 attempt->object_kind, attempt->object_name);
	}
	return 0;
}

void
tfguard_decide(const GuardedAttempt *attempt)
{
	const char *operation = tfguard_operation_name(attempt->operation);

	if (tfguard_mode == GUARD_MODE_OFF)
		return;

	if (tfguard_mode == GUARD_MODE_WARN)
	{
		ereport(WARNING,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("tfguard would refuse %s of %s \"%s\"",
						operation, attempt->object_kind, attempt->object_name),
				 errdetail("The operation was allowed because tfguard.mode is \"warn\".")));
		return;
	}

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("tfguard refused %s of %s \"%s\"",
					operation, attempt->object_kind, attempt->object_name),
			 errdetail_consequence(attempt),
			 errhint("This irreversible operation needs a human's unlock. "
					 "Stop and ask a database administrator to unlock %s of \"%s\" for this session; "
					 "every other route to the same data is refused too.",
					 operation, attempt->object_name)));
}
