/*-------------------------------------------------------------------------
 *
 * decide.c
 *	  The one place that allows, warns about or refuses a guarded attempt.
 *
 * Every classifier ends here with one GuardedAttempt: one operation on one
 * object.  A statement that would remove several guarded objects reaches
 * this point once per object, in the order PostgreSQL removes them.
 * Within a DROP, TRUNCATE, DROP OWNED or ALTER TABLE (tfguard.c opens the
 * statement's scope), refusals are collected instead of raised, and the
 * statement is refused once at its end, before anything commits, with
 * everything it would have destroyed: one audit row for the human to
 * decide on, and one row per further object referring to it, which an
 * approval of it covers too.  DROP DATABASE, which cannot be undone, and
 * changes to tfguard itself, its audit table above all (the statement
 * would hold it locked against the writer of the refusal), are refused
 * at once.  Every attempt is
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

#include "access/xact.h"
#include "access/xlog.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "audit.h"
#include "decide.h"
#include "identity.h"
#include "impact.h"
#include "operation.h"
#include "refusal_pace.h"
#include "session_unlock.h"
#include "standing_rule.h"
#include "transaction_list.h"

/*
 * An object's name for a message: in double quotes, unless it carries its
 * own (a name that needs quoting is shown as SQL would write it).
 */
static const char *
quoted(const char *name)
{
	return strchr(name, '"') ? name : psprintf("\"%s\"", name);
}

/*
 * The messages of each kind of attempt, complete sentences (as
 * tablecmds.c's dropmsgstringarray): the message of a refusal, of a
 * warning in mode "warn", and the consequence the DETAIL starts with.
 * Each takes the object's name.
 */
typedef struct AttemptMessages
{
	GuardedOperation operation;
	GuardedObjectKind kind;
	const char *refused;
	const char *would_refuse;
	const char *consequence;
} AttemptMessages;

static const AttemptMessages attempt_messages[] = {
	{GUARDED_DROP_DATABASE, OBJECT_KIND_DATABASE,
		gettext_noop("tfguard refused drop_database of database %s"),
		gettext_noop("tfguard would refuse drop_database of database %s"),
	gettext_noop("Dropping database %s would permanently remove it and all its data.")},
	{GUARDED_DROP_TABLE, OBJECT_KIND_TABLE,
		gettext_noop("tfguard refused drop_table of table %s"),
		gettext_noop("tfguard would refuse drop_table of table %s"),
	gettext_noop("The statement would permanently remove table %s and all its rows.")},
	{GUARDED_DROP_TABLE, OBJECT_KIND_PARTITIONED_TABLE,
		gettext_noop("tfguard refused drop_table of partitioned table %s"),
		gettext_noop("tfguard would refuse drop_table of partitioned table %s"),
	gettext_noop("The statement would permanently remove partitioned table %s and all its rows.")},
	{GUARDED_DROP_TABLE, OBJECT_KIND_MATVIEW,
		gettext_noop("tfguard refused drop_table of materialized view %s"),
		gettext_noop("tfguard would refuse drop_table of materialized view %s"),
	gettext_noop("The statement would permanently remove materialized view %s and all its rows.")},
	{GUARDED_TRUNCATE, OBJECT_KIND_TABLE,
		gettext_noop("tfguard refused truncate of table %s"),
		gettext_noop("tfguard would refuse truncate of table %s"),
	gettext_noop("TRUNCATE would permanently remove every row of table %s.")},
	{GUARDED_TRUNCATE, OBJECT_KIND_PARTITIONED_TABLE,
		gettext_noop("tfguard refused truncate of partitioned table %s"),
		gettext_noop("tfguard would refuse truncate of partitioned table %s"),
	gettext_noop("TRUNCATE would permanently remove every row of partitioned table %s.")},
	{GUARDED_TRUNCATE, OBJECT_KIND_MATVIEW,
		gettext_noop("tfguard refused truncate of materialized view %s"),
		gettext_noop("tfguard would refuse truncate of materialized view %s"),
	gettext_noop("The statement would leave materialized view %s, which holds rows, with none.")},
	{GUARDED_DELETE_ALL, OBJECT_KIND_TABLE,
		gettext_noop("tfguard refused delete_all of table %s"),
		gettext_noop("tfguard would refuse delete_all of table %s"),
	gettext_noop("The DELETE has no WHERE condition on table %s that survives constant folding, so it would remove every row.")},
	{GUARDED_DELETE_ALL, OBJECT_KIND_PARTITIONED_TABLE,
		gettext_noop("tfguard refused delete_all of partitioned table %s"),
		gettext_noop("tfguard would refuse delete_all of partitioned table %s"),
	gettext_noop("The DELETE has no WHERE condition on partitioned table %s that survives constant folding, so it would remove every row.")},
	{GUARDED_UPDATE_ALL, OBJECT_KIND_TABLE,
		gettext_noop("tfguard refused update_all of table %s"),
		gettext_noop("tfguard would refuse update_all of table %s"),
	gettext_noop("The UPDATE has no WHERE condition on table %s that survives constant folding, so it would overwrite every row.")},
	{GUARDED_UPDATE_ALL, OBJECT_KIND_PARTITIONED_TABLE,
		gettext_noop("tfguard refused update_all of partitioned table %s"),
		gettext_noop("tfguard would refuse update_all of partitioned table %s"),
	gettext_noop("The UPDATE has no WHERE condition on partitioned table %s that survives constant folding, so it would overwrite every row.")},
	/* the consequences of these three take more than the name: see consequence() */
	{GUARDED_MASS_DELETE, OBJECT_KIND_TABLE,
		gettext_noop("tfguard refused mass_delete of table %s"),
		gettext_noop("tfguard would refuse mass_delete of table %s"),
	gettext_noop("The transaction would remove or overwrite %s of the %s rows of table %s, mostly by DELETE; that is at least tfguard.max_share (%s) of them.")},
	{GUARDED_MASS_UPDATE, OBJECT_KIND_TABLE,
		gettext_noop("tfguard refused mass_update of table %s"),
		gettext_noop("tfguard would refuse mass_update of table %s"),
	gettext_noop("The transaction would remove or overwrite %s of the %s rows of table %s, mostly by UPDATE; that is at least tfguard.max_share (%s) of them.")},
	{GUARDED_DROP_COLUMN, OBJECT_KIND_TABLE,
		gettext_noop("tfguard refused drop_column of table %s"),
		gettext_noop("tfguard would refuse drop_column of table %s"),
	gettext_noop("The statement would permanently remove column %s of table %s, which holds rows, and its value in every row.")},
	{GUARDED_RECONFIGURE, OBJECT_KIND_AUDIT_TABLE,
		gettext_noop("tfguard refused reconfigure of audit table %s"),
		NULL,
	gettext_noop("The statement would change audit table %s, which keeps every attempt as it was recorded.")},
	{GUARDED_RECONFIGURE, OBJECT_KIND_TFGUARD_SCHEMA,
		gettext_noop("tfguard refused reconfigure of schema %s"),
		NULL,
	gettext_noop("The statement would change schema %s, which holds tfguard's audit trail and the functions that unlock operations.")},
	{GUARDED_RECONFIGURE, OBJECT_KIND_EXTENSION,
		gettext_noop("tfguard refused reconfigure of extension %s"),
		NULL,
	gettext_noop("The statement would change or remove extension %s, which holds tfguard's audit trail.")},
	{GUARDED_RECONFIGURE, OBJECT_KIND_HOME_DATABASE,
		gettext_noop("tfguard refused reconfigure of home database %s"),
		NULL,
	gettext_noop("The statement would change, rename or remove database %s, which holds tfguard's audit trail.")},
	{GUARDED_RECONFIGURE, OBJECT_KIND_SETTING,
		gettext_noop("tfguard refused reconfigure of setting %s"),
		NULL,
	gettext_noop("The statement would change setting %s, which decides whether and how tfguard guards the server.")},
	{GUARDED_RECONFIGURE, OBJECT_KIND_ADMIN_ROLE,
		gettext_noop("tfguard refused reconfigure of role %s"),
		NULL,
	gettext_noop("The statement would change role %s or who belongs to it, and its members approve refused attempts and issue unlock tokens.")},
	{GUARDED_BREAK_RECOVERY, OBJECT_KIND_SETTING,
		gettext_noop("tfguard refused break_recovery of setting %s"),
		gettext_noop("tfguard would refuse break_recovery of setting %s"),
	gettext_noop("The statement would change setting %s, on which standbys, WAL archiving or crash recovery depend: backups and replicas could silently stop being usable.")},
	{GUARDED_BREAK_RECOVERY, OBJECT_KIND_REPLICATION_SLOT,
		gettext_noop("tfguard refused break_recovery by function %s"),
		gettext_noop("tfguard would refuse break_recovery by function %s"),
	gettext_noop("The statement calls %s, which drops, advances or consumes a replication slot or origin: the WAL or changes a standby, a subscriber or a backup tool still needs from it would be lost for good.")},
	{GUARDED_BREAK_RECOVERY, OBJECT_KIND_SUBSCRIPTION,
		gettext_noop("tfguard refused break_recovery of subscription %s"),
		gettext_noop("tfguard would refuse break_recovery of subscription %s"),
	gettext_noop("The statement would drop subscription %s, with its replication slot on the publisher, or make it skip changes: the subscriber would lose changes it has not applied.")},
	/* whatever the operation: see messages_of() and consequence() */
	{GUARDED_DROP_TABLE, OBJECT_KIND_RULE_REACH,
		gettext_noop("tfguard refused bringing table %s into the reach of a standing rule"),
		gettext_noop("tfguard would refuse bringing table %s into the reach of a standing rule"),
	gettext_noop("Standing rule %s lets role %s run %s on table %s without asking a human, and the table holds rows. A table that holds rows does not enter a rule's reach by a rename, a move to another schema or ATTACH PARTITION.")},
};

static const AttemptMessages *
messages_of(const GuardedAttempt *attempt)
{
	for (int i = 0; i < (int) lengthof(attempt_messages); i++)
	{
		if ((attempt_messages[i].operation == attempt->operation ||
			 attempt->object_kind == OBJECT_KIND_RULE_REACH) &&
			attempt_messages[i].kind == attempt->object_kind)
			return &attempt_messages[i];
	}
	elog(ERROR, "tfguard has no message for operation %d on object kind %d",
		 (int) attempt->operation, (int) attempt->object_kind);
	return NULL;				/* keep compiler quiet */
}

/* The consequence, a full sentence, translated. */
static char *
consequence(const AttemptMessages *messages, const GuardedAttempt *attempt,
			const char *name)
{
	if (attempt->object_kind == OBJECT_KIND_RULE_REACH)
		return psprintf(_(messages->consequence),
						psprintf(INT64_FORMAT, attempt->rule_id),
						quote_identifier(GetUserNameFromId(attempt->rule_role, true) ?
										 GetUserNameFromId(attempt->rule_role, true) : "?"),
						tfguard_operation_name(attempt->operation), name);
	switch (attempt->operation)
	{
		case GUARDED_MASS_DELETE:
		case GUARDED_MASS_UPDATE:
			if (attempt->rows_changed == -2)
				return psprintf(_("tfguard counts the rows each role removes from each table within tfguard.window, every one of its tfguard.window_entries counts is in use, and it refuses removing rows from table %s that it cannot count."),
								name);
			if (attempt->rows_changed < 0)
				return psprintf(_("tfguard cannot count the rows the statement would change in table %s, because track_counts is off, and refuses what it cannot count."),
								name);
			if (attempt->rows_earlier > 0)
				return psprintf(_("%s Of those, %s were removed by earlier transactions of the same role within tfguard.window; they stay removed."),
								psprintf(_(messages->consequence),
										 psprintf(INT64_FORMAT, attempt->rows_changed),
										 psprintf(INT64_FORMAT, attempt->rows_held), name,
										 psprintf("%g%%", tfguard_max_share * 100)),
								psprintf(INT64_FORMAT, attempt->rows_earlier));
			return psprintf(_(messages->consequence),
							psprintf(INT64_FORMAT, attempt->rows_changed),
							psprintf(INT64_FORMAT, attempt->rows_held), name,
							psprintf("%g%%", tfguard_max_share * 100));
		case GUARDED_DROP_COLUMN:
			return psprintf(_(messages->consequence),
							quoted(quote_identifier(attempt->column_name)), name);
		default:
			return psprintf(_(messages->consequence), name);
	}
}

/* " A human denied ... (reason)." if one did lately, for the DETAIL; else "". */
static const char *
denied_before(const GuardedAttempt *attempt)
{
	char	   *denial = tfguard_session_denial(attempt);

	return denial ? psprintf(" %s", denial) : "";
}

/*
 * The HINT of a refusal, by audience.  An agent (or anyone) refused an
 * irreversible operation is sent to a human, with the request's id; the
 * one refused a change to tfguard itself, usually an administrator, is
 * told how such changes are made.
 */
static int
errhint_refusal(const GuardedAttempt *attempt, int64 audit_id)
{
	if (attempt->operation == GUARDED_RECONFIGURE &&
		attempt->object_kind == OBJECT_KIND_SETTING)
		return errhint("tfguard's settings are changed in postgresql.conf, followed by a reload "
					   "(or a restart, for shared_preload_libraries), by someone with access "
					   "to the server's files. Through SQL it needs another administrator's "
					   "token for reconfigure: tfguard.issue_token(..., ARRAY['reconfigure'], ...).");
	if (attempt->operation == GUARDED_BREAK_RECOVERY)
		return errhint("What standbys and backups recover from changes only with another "
					   "administrator's token for break_recovery that names it: "
					   "tfguard.issue_token(..., ARRAY['break_recovery'], ARRAY['%s'], ...) in database \"%s\"; "
					   "or in postgresql.conf, by someone with access to the server's files.",
					   attempt->object_name, tfguard_database);
	if (attempt->operation == GUARDED_RECONFIGURE)
		return errhint("tfguard's audit trail, functions and home database change only with "
					   "another administrator's token for reconfigure that names them: "
					   "tfguard.issue_token(..., ARRAY['reconfigure'], ARRAY['%s'], ...) in database \"%s\".",
					   attempt->object_name, tfguard_database);
	return errhint("This irreversible operation needs a human's decision. "
				   "Stop and ask a database administrator to approve it: "
				   "SELECT tfguard.approve(" INT64_FORMAT "); in database \"%s\" "
				   "lets this session run the same statement again, once. "
				   "From a new connection, run SET tfguard.approval = " INT64_FORMAT " first. "
				   "Every other route to the same data is refused too.",
				   audit_id, tfguard_database, audit_id);
}

/* ---------- one decision per statement ---------- */

/* A refusal held back until the end of the statement. */
typedef struct HeldRefusal
{
	GuardedAttempt attempt;
	const char *impact;
	TransactionId stamp;
	const char *token_id;
	const char *why_not;
} HeldRefusal;

static bool collecting = false;
static TransactionList held_refusals;
static bool commit_check_registered = false;

/*
 * A statement that commits part way (ALTER TABLE ... DETACH PARTITION
 * CONCURRENTLY) must not commit what it holds: refused before that
 * commit, as at the statement's end.
 */
static void
refuse_held_before_commit(XactEvent event, void *arg)
{
	if (collecting &&
		(event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PARALLEL_PRE_COMMIT ||
		 event == XACT_EVENT_PRE_PREPARE))
		tfguard_decide_statement_end();
}

/* Refusals the statement shows in its DETAIL, by name; the rest are counted. */
#define HELD_REFUSALS_SHOWN 10

void
tfguard_decide_statement_begin(void)
{
	if (!commit_check_registered)
	{
		/* once per backend, never unregistered: see session_unlock.c */
		RegisterXactCallback(refuse_held_before_commit, NULL);
		commit_check_registered = true;
	}
	collecting = true;
	held_refusals.list = NIL;
}

/* The statement failed: what it held back goes with it. */
void
tfguard_decide_statement_abandon(void)
{
	collecting = false;
	held_refusals.list = NIL;
}

/*
 * Everything about the attempt the refusal will need once the objects are
 * gone: computed now, kept in the transaction's memory.
 */
static void
hold_refusal(const GuardedAttempt *attempt, const char *token_id,
			 const char *why_not)
{
	HeldRefusal *held;
	MemoryContext oldcontext;
	ListCell   *lc;

	/* the same operation on the same object again (a row at a time): once */
	foreach(lc, held_refusals.list)
	{
		held = (HeldRefusal *) lfirst(lc);
		if (held->attempt.operation == attempt->operation &&
			held->attempt.object_id == attempt->object_id &&
			strcmp(held->attempt.object_name, attempt->object_name) == 0)
		{
			if ((attempt->operation == GUARDED_MASS_DELETE ||
				 attempt->operation == GUARDED_MASS_UPDATE) &&
				attempt->rows_changed > held->attempt.rows_changed)
			{
				oldcontext = transaction_list_switch_to(&held_refusals);
				held->attempt.rows_changed = attempt->rows_changed;
				held->attempt.rows_held = attempt->rows_held;
				held->impact = tfguard_impact(attempt);
				MemoryContextSwitchTo(oldcontext);
			}
			return;
		}
	}
	oldcontext = transaction_list_switch_to(&held_refusals);

	held = palloc0(sizeof(HeldRefusal));
	held->attempt = *attempt;
	held->attempt.object_name = pstrdup(attempt->object_name);
	if (attempt->operation == GUARDED_DROP_COLUMN)
		held->attempt.column_name = pstrdup(attempt->column_name);
	held->impact = tfguard_impact(attempt);
	held->stamp = tfguard_object_stamp(attempt);
	held->token_id = token_id ? pstrdup(token_id) : NULL;
	held->why_not = why_not ? pstrdup(why_not) : NULL;
	held_refusals.list = lappend(held_refusals.list, held);
	MemoryContextSwitchTo(oldcontext);
}

/* ---------- refusals in a loop ---------- */

/* a repeated refusal keeps this much of its statement; the first kept it whole */
#define REPEATED_STATEMENT_MAX 200

static void
pace_refusal(const GuardedAttempt *attempt, AuditEvent *event, RefusalPace *pace)
{
	tfguard_pace_refusal(attempt->operation, attempt->object_id,
						 attempt->object_name, pace);
	if (pace->repeats > 0 || pace->statement_refusals > 1)
		event->statement_max = REPEATED_STATEMENT_MAX;
}

/*
 * A statement that caught more refusals than a tool or agent ever makes
 * one by one is a loop no wait can reach (it holds its locks): the
 * session ends, once the refusal is recorded.
 */
static void
end_looping_session(const RefusalPace *pace, const char *refused, const char *name,
					int64 audit_id)
{
	if (pace->statement_refusals <= PACE_STATEMENT_REFUSALS)
		return;
	ereport(FATAL,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("tfguard ended the session: one statement or transaction met more than %d refusals",
					PACE_STATEMENT_REFUSALS),
			 errdetail("The last: %s, recorded as audit id " INT64_FORMAT ".",
					   psprintf(_(refused), name), audit_id),
			 errhint("A refused operation needs a human's decision; retrying it in a loop does not.")));
}

/* The detail of a refusal, and how it repeats earlier ones. */
static const char *
with_pace(const char *detail, const RefusalPace *pace)
{
	char	   *paced = tfguard_pace_detail(pace);

	if (paced == NULL)
		return detail;
	return detail ? psprintf("%s; %s", detail, paced) : paced;
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
	const AttemptMessages *messages = messages_of(attempt);
	const char *name = quoted(attempt->object_name);
	const char *token_id;
	const char *why_not;
	int64		approval_of;
	bool		unlocked;
	bool		by_rule = false;
	bool		warn_only;
	AuditEvent	event = {0};
	RefusalPace pace = {0};
	int64		audit_id;
	char	   *failure;

	/* tfguard.guarded leaves some operations out, never reconfigure */
	if (tfguard_mode == GUARD_MODE_OFF || !tfguard_operation_guarded(attempt->operation))
		return;

	unlocked = tfguard_session_unlock_covers(attempt, &token_id, &approval_of, &why_not);
	/* else a standing rule for this role: never consumed, never pinned */
	if (!unlocked && tfguard_rules_exist())
	{
		int64		rule_id = 0;
		const char *rule_why_not;

		by_rule = tfguard_rule_covers(attempt, &rule_id, &rule_why_not);
		if (by_rule || (rule_why_not && token_id == NULL))
		{
			unlocked = by_rule;
			token_id = psprintf("rule:" INT64_FORMAT, rule_id);
			why_not = rule_why_not;
			/* an allowed attempt refers to the rule (the audit id of its making) */
			if (by_rule)
				approval_of = rule_id;
		}
	}
	/* "warn" never extends to tfguard's own objects: they stay refused */
	warn_only = !unlocked && tfguard_mode == GUARD_MODE_WARN &&
		attempt->operation != GUARDED_RECONFIGURE;

	/* within a statement's scope, refused at its end with everything else */
	if (collecting && !unlocked && !warn_only &&
		attempt->operation != GUARDED_DROP_DATABASE &&
		attempt->operation != GUARDED_RECONFIGURE &&
		attempt->object_id != tfguard_audit_table_oid())
	{
		hold_refusal(attempt, token_id, why_not);
		return;
	}

	/* a refusal repeated in a loop: paced, and recorded shorter */
	if (!unlocked && !warn_only)
		pace_refusal(attempt, &event, &pace);

	event.operation = operation;
	event.object_name = attempt->object_name;
	event.decision = unlocked ? "allowed" : warn_only ? "warned" : "blocked";
	event.token_id = token_id;
	event.detail = unlocked ? NULL :
		warn_only ? "tfguard.mode is warn" :
		with_pace(why_not ? psprintf("%s does not unlock it: %s",
									 strncmp(token_id, "rule:", 5) == 0 ? "standing rule" : "token",
									 why_not) : NULL, &pace);
	event.refers_to = approval_of;
	/*
	 * the human deciding on a refusal needs to know what is at stake; an
	 * allowed mass change is recorded with its exact counts too
	 */
	event.impact = (unlocked || warn_only) &&
		attempt->operation != GUARDED_MASS_DELETE &&
		attempt->operation != GUARDED_MASS_UPDATE ? NULL : tfguard_impact(attempt);
	/* what an approval of this refusal will be bound to: not the name */
	event.object_id = attempt->object_id;
	event.object_stamp = (unlocked || warn_only) ? InvalidTransactionId :
		tfguard_object_stamp(attempt);

	/* not a privilege problem: the trail is not there to record it */
	if (!tfguard_audit_record(&event, &audit_id, &failure))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg(messages->refused, name),
				 errdetail("%s The attempt could not be recorded in the audit trail (%s), and tfguard runs no guarded operation it cannot record.",
						   consequence(messages, attempt, name), failure),
				 RecoveryInProgress() ?
				 errhint("Run it on the primary: a standby records nothing and unlocks nothing.") :
				 errhint("tfguard refuses what it cannot record. A database administrator must bring the audit trail back: the tfguard audit writer must run, and the tfguard extension must be installed in database \"%s\".",
						 tfguard_database)));

	if (unlocked)
	{
		/* DROP DATABASE cannot be undone at commit: checked, and used, now */
		if (by_rule)
			return;
		if (attempt->operation != GUARDED_DROP_DATABASE)
			tfguard_session_unlock_note_use(token_id);
		else
			tfguard_session_unlock_consume(token_id);
		return;
	}

	if (warn_only)
	{
		ereport(WARNING,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg(messages->would_refuse, name),
				 errdetail("The operation was allowed because tfguard.mode is \"warn\"; it was recorded as audit id " INT64_FORMAT ".",
						   audit_id)));
		return;
	}

	end_looping_session(&pace, messages->refused, name, audit_id);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg(messages->refused, name),
			 errhidestmt(pace.repeats > 0 || pace.statement_refusals > 1),
			 why_not ?
			 errdetail("%s This session's unlock %s does not allow it: %s. The attempt was recorded as audit id " INT64_FORMAT ".%s",
					   consequence(messages, attempt, name), token_id, why_not, audit_id,
					   denied_before(attempt)) :
			 errdetail("%s The attempt was recorded as audit id " INT64_FORMAT ".%s",
					   consequence(messages, attempt, name), audit_id,
					   denied_before(attempt)),
			 errhint_refusal(attempt, audit_id)));
}

/* "a", "b", ... and N more: the objects after the first, for the DETAIL. */
static char *
other_objects_text(List *held)
{
	StringInfoData out;
	int			n = list_length(held) - 1;

	initStringInfo(&out);
	for (int i = 1; i <= n && i <= HELD_REFUSALS_SHOWN; i++)
	{
		HeldRefusal *other = (HeldRefusal *) list_nth(held, i);

		appendStringInfo(&out, "%s%s (%s)", i > 1 ? ", " : "",
						 quoted(other->attempt.object_name),
						 tfguard_operation_name(other->attempt.operation));
	}
	if (n > HELD_REFUSALS_SHOWN)
		appendStringInfo(&out, " and %d more", n - HELD_REFUSALS_SHOWN);
	return out.data;
}

/*
 * The statement ran to its end: refuse it, once, if anything in it was
 * refused.  The first object is the request a human decides on; each
 * further one is recorded as part of it (refers_to), so that approving
 * the first approves them all, and nothing else.
 */
void
tfguard_decide_statement_end(void)
{
	List	   *held = held_refusals.list;
	HeldRefusal *first;
	const AttemptMessages *messages;
	const char *name;
	AuditEvent	event = {0};
	RefusalPace pace = {0};
	int64		audit_id;
	int64		part_id;
	char	   *failure = NULL;
	bool		recorded;
	ListCell   *lc;

	tfguard_decide_statement_abandon();
	if (held == NIL)
		return;

	first = (HeldRefusal *) linitial(held);
	messages = messages_of(&first->attempt);
	name = quoted(first->attempt.object_name);

	pace_refusal(&first->attempt, &event, &pace);
	event.operation = tfguard_operation_name(first->attempt.operation);
	event.object_name = first->attempt.object_name;
	event.decision = "blocked";
	event.token_id = first->token_id;
	event.detail = with_pace(first->why_not ?
							 psprintf("%s does not unlock it: %s",
									  strncmp(first->token_id, "rule:", 5) == 0 ? "standing rule" : "token",
									  first->why_not) : NULL, &pace);
	event.impact = list_length(held) == 1 ? first->impact :
		psprintf("%d objects in one statement; this one: %s", list_length(held),
				 first->impact ? first->impact : "size unknown");
	event.object_id = first->attempt.object_id;
	event.object_stamp = first->stamp;
	recorded = tfguard_audit_record(&event, &audit_id, &failure);

	for_each_from(lc, held, 1)
	{
		HeldRefusal *part = (HeldRefusal *) lfirst(lc);

		if (!recorded)
			break;
		event.operation = tfguard_operation_name(part->attempt.operation);
		event.object_name = part->attempt.object_name;
		event.detail = psprintf("part of the statement refused as audit id " INT64_FORMAT,
								audit_id);
		event.refers_to = audit_id;
		event.impact = part->impact;
		event.object_id = part->attempt.object_id;
		event.object_stamp = part->stamp;
		recorded = tfguard_audit_record(&event, &part_id, &failure);
	}

	if (!recorded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg(messages->refused, name),
				 errdetail("%s The attempt could not be recorded in the audit trail (%s), and tfguard runs no guarded operation it cannot record.",
						   consequence(messages, &first->attempt, name), failure),
				 errhint("tfguard refuses what it cannot record. A database administrator must bring the audit trail back: the tfguard audit writer must run, and the tfguard extension must be installed in database \"%s\".",
						 tfguard_database)));

	end_looping_session(&pace, messages->refused, name, audit_id);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg(messages->refused, name),
			 errhidestmt(pace.repeats > 0 || pace.statement_refusals > 1),
			 list_length(held) > 1 ?
			 errdetail("%s The same statement would also destroy %d more: %s. The attempt was recorded as audit id " INT64_FORMAT "; an approval of it covers these objects and no others.%s",
					   consequence(messages, &first->attempt, name),
					   list_length(held) - 1, other_objects_text(held), audit_id,
					   denied_before(&first->attempt)) :
			 first->why_not ?
			 errdetail("%s This session's unlock %s does not allow it: %s. The attempt was recorded as audit id " INT64_FORMAT ".%s",
					   consequence(messages, &first->attempt, name), first->token_id,
					   first->why_not, audit_id, denied_before(&first->attempt)) :
			 errdetail("%s The attempt was recorded as audit id " INT64_FORMAT ".%s",
					   consequence(messages, &first->attempt, name), audit_id,
					   denied_before(&first->attempt)),
			 errhint_refusal(&first->attempt, audit_id)));
}
