/*-------------------------------------------------------------------------
 *
 * decide.c
 *	  The one place that allows, warns about or refuses a guarded attempt.
 *
 * Every classifier ends here with one GuardedAttempt: one operation on one
 * object.  A statement that would remove several guarded objects reaches
 * this point once per object, in the order PostgreSQL removes them, and
 * stops at the first refusal: a refused statement leaves one audit row,
 * naming the first guarded object it would have removed.  Every attempt is
 * recorded (audit.c) before the client hears the outcome.  The unlocks
 * (tokens, approvals) plug in here and nowhere else.
 *
 * The refusal's text is read by automation agents as much as by people:
 * it says plainly that the data is protected, that the operation needs a
 * human, and that trying another route will meet the same refusal.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "audit.h"
#include "decide.h"
#include "identity.h"
#include "impact.h"
#include "operation.h"
#include "session_unlock.h"

/*
 * An object's name for a message: in double quotes, unless it carries its
 * own (a name that needs quoting is shown as SQL would write it).
 */
static const char *
quoted(const char *name)
{
	return strchr(name, '"') ? name : psprintf("\"%s\"", name);
}

/* What the operation would do, as a full sentence. */
static char *
consequence(const GuardedAttempt *attempt)
{
	switch (attempt->operation)
	{
		case GUARDED_DROP_DATABASE:
			return psprintf("Dropping database \"%s\" would permanently remove it and all its data.",
							attempt->object_name);
		case GUARDED_DROP_TABLE:
			return psprintf("The statement would permanently remove %s %s and all its rows.",
							attempt->object_kind, quoted(attempt->object_name));
		case GUARDED_TRUNCATE:
			return psprintf("TRUNCATE would permanently remove every row of %s %s.",
							attempt->object_kind, quoted(attempt->object_name));
		case GUARDED_DELETE_ALL:
			return psprintf("The DELETE has no WHERE condition on %s %s that survives constant folding, so it would remove every row.",
							attempt->object_kind, quoted(attempt->object_name));
		case GUARDED_RECONFIGURE:
			return psprintf("The statement would change or remove %s %s, which keeps tfguard's record of every attempt.",
							attempt->object_kind, quoted(attempt->object_name));
	}
	return pstrdup("");			/* keep compiler quiet */
}

/*
 * Decide on one attempt: record it, then let it through (the session's
 * unlock token covers it), refuse it (ERROR), or warn about it (mode
 * "warn").  Nothing is allowed that could not be recorded first.
 */
void
tfguard_decide(const GuardedAttempt *attempt)
{
	const char *operation = tfguard_operation_name(attempt->operation);
	const char *token_id;
	const char *why_not;
	int64		approval_of;
	bool		unlocked;
	bool		warn_only;
	AuditEvent	event;
	int64		audit_id;
	char	   *failure;

	if (tfguard_mode == GUARD_MODE_OFF)
		return;

	unlocked = tfguard_session_unlock_covers(attempt, &token_id, &approval_of, &why_not);
	/* "warn" never extends to tfguard's own objects: they stay refused */
	warn_only = !unlocked && tfguard_mode == GUARD_MODE_WARN &&
		attempt->operation != GUARDED_RECONFIGURE;

	event.operation = operation;
	event.object_name = attempt->object_name;
	event.decision = unlocked ? "allowed" : warn_only ? "warned" : "blocked";
	event.token_id = token_id;
	event.detail = unlocked ? NULL :
		warn_only ? "tfguard.mode is warn" :
		why_not ? psprintf("token does not unlock it: %s", why_not) : NULL;
	event.refers_to = approval_of;
	/* the human deciding on a refusal needs to know what is at stake */
	event.impact = (unlocked || warn_only) ? NULL : tfguard_impact(attempt);
	/* what an approval of this refusal will be bound to: not the name */
	event.object_id = attempt->object_id;
	event.object_stamp = (unlocked || warn_only) ? InvalidTransactionId :
		tfguard_object_stamp(attempt);

	if (!tfguard_audit_record(&event, &audit_id, &failure))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("tfguard refused %s of %s %s",
						operation, attempt->object_kind, quoted(attempt->object_name)),
				 errdetail("%s The attempt could not be recorded in the audit trail (%s), and tfguard runs no guarded operation it cannot record.",
						   consequence(attempt), failure),
				 errhint("tfguard refuses what it cannot record. A database administrator must bring the audit trail back: the tfguard audit writer must run, and the tfguard extension must be installed in database \"%s\".",
						 tfguard_database)));

	if (unlocked)
	{
		/* DROP DATABASE cannot be undone at commit: checked now only */
		if (attempt->operation != GUARDED_DROP_DATABASE)
			tfguard_session_unlock_note_use(token_id);
		return;
	}

	if (warn_only)
	{
		ereport(WARNING,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("tfguard would refuse %s of %s %s",
						operation, attempt->object_kind, quoted(attempt->object_name)),
				 errdetail("The operation was allowed because tfguard.mode is \"warn\"; it was recorded as audit id " INT64_FORMAT ".",
						   audit_id)));
		return;
	}

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("tfguard refused %s of %s %s",
					operation, attempt->object_kind, quoted(attempt->object_name)),
			 why_not ?
			 errdetail("%s This session's unlock token %s does not allow it: %s. The attempt was recorded as audit id " INT64_FORMAT ".",
					   consequence(attempt), token_id, why_not, audit_id) :
			 errdetail("%s The attempt was recorded as audit id " INT64_FORMAT ".",
					   consequence(attempt), audit_id),
			 errhint("This irreversible operation needs a human's decision. "
					 "Stop and ask a database administrator to approve it: "
					 "SELECT tfguard.approve(" INT64_FORMAT "); in database \"%s\" "
					 "lets this session run the same statement again. "
					 "Every other route to the same data is refused too.",
					 audit_id, tfguard_database)));
}
