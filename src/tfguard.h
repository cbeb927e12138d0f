/*-------------------------------------------------------------------------
 *
 * tfguard.h
 *	  What the classifiers, the decision point and the loader share.
 *
 * The flow is one way: a hook (tfguard.c) hands what it sees to a
 * classifier (classify_object.c for objects being removed or truncated,
 * classify_plan.c for plans about to run), which turns it into a guarded
 * attempt and hands that to the one decision point (decide.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_H
#define TFGUARD_H

#include "compat.h"

#include "catalog/objectaccess.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

/* Every unlock-token secret starts so, for people and secret scanners. */
#define TFGUARD_TOKEN_PREFIX "tfg1_"

/*
 * Room for a schema-qualified name as quote_qualified_identifier() writes
 * it, whatever it holds: two names of NAMEDATALEN - 1 bytes, every byte a
 * doubled quote, each in quotes, a dot and the terminator.  Names are
 * never cut: two cut names could read alike.
 */
#define TFGUARD_OBJECT_NAME_MAX (2 * (2 * (NAMEDATALEN - 1) + 2) + 2)

/* The irreversible operations tfguard guards; names are in decide.c. */
typedef enum GuardedOperation
{
	GUARDED_DROP_DATABASE,
	GUARDED_DROP_TABLE,
	GUARDED_TRUNCATE,
	GUARDED_DELETE_ALL,
	GUARDED_RECONFIGURE			/* changing tfguard itself: its extension, its audit trail */
} GuardedOperation;

/* tfguard.mode */
typedef enum GuardMode
{
	GUARD_MODE_OFF,
	GUARD_MODE_WARN,
	GUARD_MODE_ENFORCE
} GuardMode;

/* One attempt at a guarded operation on one object. */
typedef struct GuardedAttempt
{
	GuardedOperation operation;
	const char *object_kind;	/* "table", "materialized view", "database",
								 * "audit table", "extension" */
	const char *object_name;	/* "schema.relation", or the database name */
	Oid			object_class;	/* RelationRelationId, DatabaseRelationId, or
								 * InvalidOid (a setting, tfguard's schema) */
	Oid			object_id;		/* the relation or database, if there is one */
} GuardedAttempt;

/* tfguard.c: settings */
extern int	tfguard_mode;
extern char *tfguard_database;

/* One row of the audit trail: an attempt, or an unlock event. */
typedef struct AuditEvent
{
	const char *operation;		/* a guarded operation's name, or an event
								 * such as "issue_token" */
	const char *object_name;
	const char *decision;		/* "blocked", "allowed", "warned" */
	const char *token_id;		/* public id, never the secret; or NULL */
	const char *detail;			/* or NULL */
	int64		refers_to;		/* the audit id an approval is about, or 0 */
	const char *impact;			/* what a refused attempt would destroy, or NULL */
	Oid			object_id;		/* the attempt's relation or database, or
								 * InvalidOid */
	TransactionId object_stamp; /* raw xmin of its catalog row when refused */
} AuditEvent;

/* audit.c: recording attempts and events; the audit table */
extern int	tfguard_audit_timeout_ms;
extern Size tfguard_audit_shmem_size(void);
extern void tfguard_audit_shmem_attach(void);

/* shmem.c: requests and attaches the shared memory of audit.c and unlock.c */
extern void tfguard_shmem_init(void);
extern bool tfguard_audit_record(const AuditEvent *event, int64 *audit_id,
								 char **failure);
extern int64 tfguard_audit_event_or_error(const AuditEvent *event);
extern Oid	tfguard_audit_table_oid(void);
extern bool tfguard_running_own_script(void);

/* audit_writer.c: the background worker that commits the records */
extern bool tfguard_is_audit_writer;
extern void tfguard_audit_writer_register(void);

/* relation.c: which relations hold data worth guarding */
extern void tfguard_relation_tracking_init(void);
extern void tfguard_note_relation_created(Oid relid);
extern void tfguard_new_partitions_may_hold_old_rows(void);
extern bool tfguard_relation_is_guarded(Oid relid, GuardedOperation operation,
										GuardedAttempt *attempt);

/* classify_object.c: what the current statement removed so far */
extern void tfguard_forget_dropped_so_far(void);
extern void tfguard_append_dropped_so_far(StringInfo out);

/* identity.c: which object an unlock is about */
extern TransactionId tfguard_object_stamp(const GuardedAttempt *attempt);
extern bool tfguard_object_written_since(const GuardedAttempt *attempt,
										 TransactionId since);
extern bool tfguard_object_is(const GuardedAttempt *attempt, Oid object_id,
							  TransactionId stamp);

/* impact.c: what a refused attempt would destroy, for the human deciding */
extern char *tfguard_impact(const GuardedAttempt *attempt);

/* classify_object.c: objects about to be dropped or truncated */
extern void tfguard_classify_object_access(ObjectAccessType access,
										   Oid classId, Oid objectId,
										   int subId);

/* classify_plan.c: plans about to run */
extern void tfguard_classify_plan(PlannedStmt *stmt);

/* classify_utility.c: utility statements, before they take any lock */
extern void tfguard_classify_utility(PlannedStmt *pstmt);
extern Oid	tfguard_classify_refresh_before(RefreshMatViewStmt *stmt);
extern void tfguard_classify_refresh_after(Oid relid);

/* unlock.c: unlock tokens */
extern char *tfguard_token_setting;
extern int	tfguard_max_ttl_s;
extern void tfguard_unlock_init(void);
extern Size tfguard_unlock_shmem_size(void);
extern void tfguard_unlock_shmem_attach(void);
extern bool tfguard_check_token(char **newval, void **extra, GucSource source);
extern void tfguard_assign_token(const char *newval, void *extra);
extern char *tfguard_unlock_session_token_id(void);
extern void tfguard_unlock_end_session_token(const char *held_before);
extern void tfguard_unlock_check_set(VariableSetStmt *stmt);
extern bool tfguard_unlock_covers(const GuardedAttempt *attempt,
								  const char **token_id, int64 *approval_of,
								  const char **why_not);
extern void tfguard_unlock_note_use(const char *token_id);
extern void tfguard_check_caller_is_admin(const char *action);
extern char *tfguard_unlock_grant_approval(int64 request, Oid role,
										   const char *role_name, Oid database,
										   const char *database_name,
										   GuardedOperation operation,
										   const char *object, Oid object_oid,
										   TransactionId object_stamp, int pid,
										   TimestampTz backend_start,
										   double ttl_s, const char *reason);
extern void tfguard_unlock_forget(const char *id);
extern void tfguard_unlock_revoke_approvals_of(int64 request);
extern bool tfguard_parse_operation(const char *name, GuardedOperation *operation);
extern double tfguard_ttl_seconds(Datum interval);

/* redact.c: token secrets out of logs and the trail */
extern const char *tfguard_redact_tokens(const char *text);
extern void tfguard_redact_activity(const char *query);
extern void tfguard_redact_init(void);

/* decide.c: the one place that allows, warns or refuses */
extern void tfguard_decide(const GuardedAttempt *attempt);
extern const char *tfguard_operation_name(GuardedOperation operation);

#endif							/* TFGUARD_H */
