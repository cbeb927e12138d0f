/*-------------------------------------------------------------------------
 *
 * tfguard.h
 *	  The vocabulary every module shares: guarded operations, attempts,
 *	  audit events, the guard's mode and settings.
 *
 * The flow is one way, and the #include lines show it:
 *
 *	 tfguard.c (hooks) -> classify_*.c, blast_radius.c -> relation.c -> decide.c
 *	 tfguard.c -> decide.c (opens and closes a statement's one decision)
 *	 blast_radius.c -> removal_window.c, session_unlock.c (PREPARE)
 *	 decide.c -> session_unlock.c -> unlock_store.c
 *	 decide.c -> impact.c, identity.c, audit.c
 *	 admin_sql.c (SQL functions) -> unlock_store.c, audit.c
 *
 * Leaves (operation.c, dropped.c, identity.c, redact.c, removal_window.c)
 * use no other module; each module declares its API in its own header under include/.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_H
#define TFGUARD_H

#include "compat.h"
#include "miscadmin.h"

/* Every unlock-token secret starts so, for people and secret scanners. */
#define TFGUARD_TOKEN_PREFIX "tfg1_"

/*
 * Room for a schema-qualified name as quote_qualified_identifier() writes
 * it, whatever it holds: two names of NAMEDATALEN - 1 bytes, every byte a
 * doubled quote, each in quotes, a dot and the terminator.  Names are
 * never cut: two cut names could read alike.
 */
#define TFGUARD_OBJECT_NAME_MAX (2 * (2 * (NAMEDATALEN - 1) + 2) + 2)

/* The irreversible operations tfguard guards; names are in operation.c. */
typedef enum GuardedOperation
{
	GUARDED_DROP_DATABASE,
	GUARDED_DROP_TABLE,
	GUARDED_TRUNCATE,
	GUARDED_DELETE_ALL,
	GUARDED_RECONFIGURE,		/* changing tfguard itself: its extension, its
								 * audit trail */
	/* added in 1.1; the numbers are bits of stored tokens: append only */
	GUARDED_UPDATE_ALL,			/* UPDATE with no effective WHERE */
	GUARDED_MASS_DELETE,		/* a transaction removing most of a table */
	GUARDED_MASS_UPDATE,		/* a transaction overwriting most of a table */
	GUARDED_DROP_COLUMN,		/* a column of a table that holds rows */
	GUARDED_BREAK_RECOVERY		/* what standbys and backups recover from:
								 * replication slots, archiving, WAL settings */
} GuardedOperation;

/* Every operation, as a set (bit 1 << GuardedOperation). */
#define TFGUARD_ALL_OPERATIONS ((uint32) ((1 << (GUARDED_BREAK_RECOVERY + 1)) - 1))

/* tfguard.mode */
typedef enum GuardMode
{
	GUARD_MODE_OFF,
	GUARD_MODE_WARN,
	GUARD_MODE_ENFORCE
} GuardMode;

/* What an attempt is aimed at, for its messages. */
typedef enum GuardedObjectKind
{
	OBJECT_KIND_TABLE,
	OBJECT_KIND_PARTITIONED_TABLE,
	OBJECT_KIND_MATVIEW,
	OBJECT_KIND_DATABASE,
	OBJECT_KIND_HOME_DATABASE,	/* the database that holds the trail */
	OBJECT_KIND_AUDIT_TABLE,
	OBJECT_KIND_TFGUARD_SCHEMA, /* schema tfguard and what it holds */
	OBJECT_KIND_EXTENSION,
	OBJECT_KIND_SETTING,
	OBJECT_KIND_ADMIN_ROLE,		/* tfguard_admin and its members */
	OBJECT_KIND_RULE_REACH,		/* a table holding rows brought into a
								 * standing rule's reach */
	OBJECT_KIND_REPLICATION_SLOT,	/* named by the function that drops or
									 * advances one */
	OBJECT_KIND_SUBSCRIPTION	/* dropped (with its slot on the publisher),
								 * or told to skip changes */
} GuardedObjectKind;

/* One attempt at a guarded operation on one object. */
typedef struct GuardedAttempt
{
	GuardedOperation operation;
	GuardedObjectKind object_kind;
	const char *object_name;	/* "schema.relation", or the database name */
	Oid			object_class;	/* RelationRelationId, DatabaseRelationId, or
								 * InvalidOid (a setting, tfguard's schema) */
	Oid			object_id;		/* the relation or database, if there is one */
	/* mass_delete and mass_update only: what the transaction changed */
	int64		rows_changed;	/* rows removed (net) or overwritten, or -1
								 * when they cannot be counted */
	int64		rows_held;		/* rows the table held before */
	int64		rows_earlier;	/* of rows_changed, removed by the role's
								 * earlier transactions (tfguard.window) */
	/* drop_column only */
	const char *column_name;
	/* OBJECT_KIND_RULE_REACH only: the rule that would reach the table */
	int64		rule_id;
	Oid			rule_role;
} GuardedAttempt;

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
	int			statement_max;	/* bytes of the statement kept, if not 0: a
								 * repeated refusal keeps its start only */
} AuditEvent;

/* Settings (tfguard.c) */
extern int	tfguard_mode;
extern char *tfguard_database;
extern char *tfguard_token_setting;
extern int	tfguard_max_ttl_s;
extern int	tfguard_audit_timeout_ms;
extern uint32 tfguard_guarded_operations;	/* tfguard.guarded, as a set */
extern double tfguard_max_share;
extern int	tfguard_min_rows;

/*
 * The guard looks at nothing when it is off, and stands aside entirely
 * while pg_upgrade restores a cluster (it drops and recreates objects as
 * part of its normal work).
 */
static inline bool
tfguard_guard_is_active(void)
{
	return tfguard_mode != GUARD_MODE_OFF && !IsBinaryUpgrade;
}

/* Is the operation among those tfguard.guarded names?  reconfigure always is. */
static inline bool
tfguard_operation_guarded(GuardedOperation operation)
{
	return (tfguard_guarded_operations & (1 << operation)) != 0;
}

#endif							/* TFGUARD_H */
