/*-------------------------------------------------------------------------
 *
 * tfguard.c
 *	  Loading tfguard: settings, hook registration, CREATE EXTENSION checks.
 *
 * tfguard refuses irreversible operations (DROP DATABASE, dropping a
 * table, TRUNCATE, DELETE without an effective WHERE) in every database
 * of the cluster, for every role, unless a human has unlocked them.  It
 * must be loaded with shared_preload_libraries = 'tfguard', so that every
 * backend runs the hooks from its first statement; loaded any other way
 * it installs nothing, and CREATE EXTENSION says how to fix that.
 *
 * The hooks here only decide whether to look: they stand aside when the
 * guard is off and during pg_upgrade, always chain to the previous hook,
 * and hand what they see to the classifiers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/objectaccess.h"
#include "commands/dbcommands.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/varlena.h"

#include "audit.h"
#include "blast_radius.h"
#include "classify.h"
#include "decide.h"
#include "dropped.h"
#include "operation.h"
#include "redact.h"
#include "refusal_pace.h"
#include "removal_window.h"
#include "session_unlock.h"
#include "shmem.h"
#include "standing_rule.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

PG_FUNCTION_INFO_V1(tfguard_assert_installable);

/* settings */
int			tfguard_mode = GUARD_MODE_ENFORCE;
char	   *tfguard_database = NULL;
char	   *tfguard_token_setting = NULL;
int			tfguard_max_ttl_s = 3600;
int			tfguard_audit_timeout_ms = 5000;
uint32		tfguard_guarded_operations = TFGUARD_ALL_OPERATIONS;
static char *guarded_setting = NULL;
double		tfguard_max_share = 0.5;
int			tfguard_min_rows = 100;

static const struct config_enum_entry mode_options[] = {
	{"enforce", GUARD_MODE_ENFORCE, false},
	{"warn", GUARD_MODE_WARN, false},
	{"off", GUARD_MODE_OFF, false},
	{NULL, 0, false}
};

/* true only in a server that loaded tfguard through shared_preload_libraries */
static bool loaded_at_server_start = false;

static object_access_hook_type prev_object_access_hook = NULL;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;


/*
 * Object access hook: PostgreSQL calls it around object creation, change
 * and removal.  tfguard looks at OAT_DROP (just before any object is
 * removed, cascades included) and OAT_TRUNCATE (just before a table is
 * emptied), and may refuse there, before anything is lost.  It also notes
 * OAT_POST_CREATE of relations, even while the guard is off, so that it
 * knows which relations the current transaction created.  And it looks
 * at OAT_FUNCTION_EXECUTE of the two functions that drop or advance a
 * replication slot, when the executor prepares to call them.
 */
static void
tfguard_object_access(ObjectAccessType access, Oid classId, Oid objectId,
					  int subId, void *arg)
{
	/* called for every function executed, too: the test is the access type */
	switch (access)
	{
		case OAT_POST_CREATE:
			if (!IsBinaryUpgrade)
				tfguard_classify_object_access(access, classId, objectId, subId);
			break;
		case OAT_DROP:
		case OAT_TRUNCATE:
			if (tfguard_guard_is_active())
				tfguard_classify_object_access(access, classId, objectId, subId);
			break;
		case OAT_FUNCTION_EXECUTE:
			/* two functions throw away WAL that standbys and backups need */
			if (unlikely(tfguard_recovery_function(objectId) != NULL) &&
				tfguard_guard_is_active())
				tfguard_classify_object_access(access, classId, objectId, subId);
			break;
		default:
			break;
	}

	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
}

/*
 * Is the statement the whole query string, but for a final semicolon?
 * Most are, and every one sent with the extended protocol.
 */
static inline bool
statement_is_whole_string(const char *source, int location, int len)
{
	const char *rest;

	if (location > 0)
		return false;
	if (len == 0 || source == NULL)
		return true;
	rest = source + len;
	/* the common ends first: ";" as psql sends it, ";\n" */
	if (rest[0] == ';' && (rest[1] == '\0' || (rest[1] == '\n' && rest[2] == '\0')))
		return true;
	for (;
		 *rest == ';' || *rest == '\n' || *rest == ' ' || *rest == '\t' || *rest == '\r';
		 rest++)
		;
	return *rest == '\0';
}

/*
 * A query string of several statements is shown whole in pg_stat_activity
 * while the first ones run, so a token presented by a later one must be
 * hidden before the first runs, not when its SET does; so must one in a
 * DO block or CALL, which may run other code first.  Called by the
 * ExecutorStart and ProcessUtility hooks, which every statement passes.
 */
static inline void
hide_secrets_of_string(const char *source, PlannedStmt *stmt)
{
	/* a nested statement's text (a function body) is not what is shown */
	if (unlikely(stmt->stmt_location > 0 || stmt->stmt_len > 0) &&
		source == debug_query_string &&
		!statement_is_whole_string(source, stmt->stmt_location, stmt->stmt_len))
		tfguard_redact_activity();
}

/*
 * ExecutorStart hook: PostgreSQL calls it for every plan about to run,
 * whatever produced the plan.  tfguard refuses a DELETE that would empty
 * a guarded table before the executor starts.  EXPLAIN without ANALYZE
 * runs nothing and is let through.
 */
static void
tfguard_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	PlannedStmt *stmt = queryDesc->plannedstmt;

	/*
	 * A role looping on refusals waits here, holding only the weak locks
	 * parse analysis took for this statement (see refusal_pace.c)
	 */
	if (tfguard_pace_due())
		tfguard_pace_wait(queryDesc->sourceText);
	hide_secrets_of_string(queryDesc->sourceText, stmt);

	/*
	 * A read writes nothing, and a plain INSERT outside the audit table's
	 * database loses nothing: most plans stop at these first tests.
	 */
	if (stmt->hasModifyingCTE ||
		(stmt->commandType != CMD_SELECT &&
		 (stmt->commandType != CMD_INSERT || OidIsValid(tfguard_audit_table_oid()))))
	{
		if (tfguard_guard_is_active() && (eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0)
			tfguard_classify_plan(stmt);
	}

	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/*
 * Can this run have deleted or overwritten rows?  DELETE, UPDATE, MERGE,
 * INSERT ... ON CONFLICT DO UPDATE and modifying CTEs can; reads and
 * plain INSERTs cannot.
 */
static inline bool
run_may_destroy(QueryDesc *queryDesc)
{
	PlannedStmt *stmt = queryDesc->plannedstmt;

	if (stmt->hasModifyingCTE)
		return true;
	switch (queryDesc->operation)
	{
		case CMD_SELECT:
			return false;
		case CMD_INSERT:
			return IsA(stmt->planTree, ModifyTable) &&
				((ModifyTable *) stmt->planTree)->onConflictAction == ONCONFLICT_UPDATE;
		default:
			return true;
	}
}

/*
 * ExecutorFinish hook: the plan ran, and so did its AFTER triggers and
 * foreign-key actions (whose own runs were judged at their ends).
 * tfguard judges what the transaction has destroyed so far of the tables
 * this run wrote to (blast_radius.c).
 */
static void
tfguard_ExecutorFinish(QueryDesc *queryDesc)
{
	if (prev_ExecutorFinish)
		prev_ExecutorFinish(queryDesc);
	else
		standard_ExecutorFinish(queryDesc);

	if (run_may_destroy(queryDesc))
	{
		if (tfguard_guard_is_active())
			tfguard_judge_changes_of(queryDesc->estate);
	}
	else if (queryDesc->operation == CMD_INSERT && tfguard_guard_is_active())
		tfguard_note_additions_of(queryDesc->estate);
}

/* RESET tfguard.token, RESET ALL, DISCARD ALL: the session's unlock ends. */
static bool
statement_resets_token(Node *parsetree)
{
	if (IsA(parsetree, VariableSetStmt))
	{
		VariableSetStmt *stmt = (VariableSetStmt *) parsetree;

		/* setting names compare as PostgreSQL compares them: any case */
		return stmt->kind == VAR_RESET_ALL ||
			((stmt->kind == VAR_RESET || stmt->kind == VAR_SET_DEFAULT) &&
			 pg_strcasecmp(stmt->name, "tfguard.token") == 0);
	}
	return IsA(parsetree, DiscardStmt) &&
		((DiscardStmt *) parsetree)->target == DISCARD_ALL;
}

/*
 * Statements that can destroy many guarded objects at once, and whose work
 * a refusal at their end undoes: one decision for all of them (decide.c).
 * DROP DATABASE is not among them: it cannot be undone.
 */
static inline bool
statement_decided_once(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_DropStmt:
		case T_TruncateStmt:
		case T_DropOwnedStmt:
		case T_AlterTableStmt:
			return true;
		default:
			return false;
	}
}

/*
 * ProcessUtility hook: PostgreSQL calls it for every utility statement, at
 * every nesting level, before executing it.  tfguard refuses here the few
 * statements that change tfguard itself and must be caught before they
 * take locks (classify_utility.c); everything else is decided where
 * objects are removed.  It also gives a refused SET tfguard.token a
 * message that does not repeat the secret.
 */
static void
tfguard_ProcessUtility(PROCESS_UTILITY_PARAMS)
{
	bool		sets_token = IsA(pstmt->utilityStmt, VariableSetStmt);
	bool		resets_token = statement_resets_token(pstmt->utilityStmt);
	char	   *token_before = resets_token ? tfguard_session_token_id() : NULL;
	RefreshCheck refresh;
	bool		check_refresh = false;
	bool		decided_once = context == PROCESS_UTILITY_TOPLEVEL &&
		tfguard_guard_is_active() && statement_decided_once(pstmt->utilityStmt);
	Oid			reach_relid;
	Oid			reach_nspid;
	Oid			reach_extension;
	bool		check_reach = tfguard_guard_is_active() &&
		tfguard_rules_reach_target(pstmt->utilityStmt, &reach_relid, &reach_nspid,
								   &reach_extension);

	if (context == PROCESS_UTILITY_TOPLEVEL && tfguard_pace_due())
		tfguard_pace_wait(queryString);
	/* before anything can fail: a refused SET must not leave a secret on show */
	if (sets_token || IsA(pstmt->utilityStmt, DoStmt) || IsA(pstmt->utilityStmt, CallStmt))
		tfguard_redact_activity();
	else
		hide_secrets_of_string(queryString, pstmt);
	if (context == PROCESS_UTILITY_TOPLEVEL)
	{
		tfguard_forget_dropped_so_far();
		tfguard_forget_decided_by_name();
	}
	if (tfguard_guard_is_active())
	{
		tfguard_classify_utility(pstmt);
		if (IsA(pstmt->utilityStmt, RefreshMatViewStmt))
			check_refresh = tfguard_classify_refresh_before((RefreshMatViewStmt *) pstmt->utilityStmt,
															&refresh);
	}
	if (sets_token)
		tfguard_session_unlock_before_set((VariableSetStmt *) pstmt->utilityStmt);

	/*
	 * Within a statement decided once, refusals are held until its end;
	 * whatever fails in between must close the scope, or a later statement
	 * would have its refusals held too.
	 */
	if (decided_once)
		tfguard_decide_statement_begin();
	PG_TRY();
	{
		/*
		 * A DROP of tables without partitions or children, and without
		 * CASCADE, removes no other guarded table: refused before
		 * PostgreSQL removes anything.
		 */
		if (IsA(pstmt->utilityStmt, DropStmt) && tfguard_guard_is_active() &&
			tfguard_classify_drop_statement((DropStmt *) pstmt->utilityStmt) &&
			decided_once)
		{
			tfguard_decide_statement_end();
			tfguard_decide_statement_begin();
		}
		if (prev_ProcessUtility)
			prev_ProcessUtility(PROCESS_UTILITY_ARGS);
		else
			standard_ProcessUtility(PROCESS_UTILITY_ARGS);
		/* a table holding rows renamed, moved or attached into a rule's reach */
		if (check_reach)
			tfguard_rules_check_reach_after(reach_relid, reach_nspid, reach_extension);
	}
	PG_CATCH();
	{
		if (decided_once)
			tfguard_decide_statement_abandon();
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (decided_once)
		tfguard_decide_statement_end();

	if (sets_token)
		tfguard_session_unlock_after_set();
	if (resets_token)
		tfguard_session_unlock_end(token_before);
	/* a refresh that emptied a view that held rows is a TRUNCATE of it */
	if (check_refresh)
		tfguard_classify_refresh_after(&refresh);
}

/*
 * tfguard.guarded: "all", or a comma-separated list of operation names.
 * reconfigure is always guarded, whatever the list says: tfguard cannot
 * be told to stop protecting itself.
 */
static bool
check_guarded(char **newval, void **extra, GucSource source)
{
	char	   *raw = pstrdup(*newval);
	List	   *names;
	ListCell   *lc;
	uint32		operations = 1 << GUARDED_RECONFIGURE;
	uint32	   *result;

	if (!SplitIdentifierString(raw, ',', &names))
	{
		GUC_check_errdetail("The list must be operation names separated by commas.");
		return false;
	}
	foreach(lc, names)
	{
		const char *name = (const char *) lfirst(lc);
		GuardedOperation operation;

		if (strcmp(name, "all") == 0)
			operations = TFGUARD_ALL_OPERATIONS;
		else if (tfguard_parse_operation(name, &operation))
			operations |= 1 << operation;
		else
		{
			GUC_check_errdetail("\"%s\" is not a guarded operation; the operations are %s, or \"all\".",
								name, tfguard_operations_text(TFGUARD_ALL_OPERATIONS));
			return false;
		}
	}
	result = (uint32 *) tfguard_guc_malloc(sizeof(uint32));
	if (result == NULL)
		return false;
	*result = operations;
	*extra = result;
	return true;
}

static void
assign_guarded(const char *newval, void *extra)
{
	tfguard_guarded_operations = *((uint32 *) extra);
}

static void
define_settings(void)
{
	DefineCustomEnumVariable("tfguard.mode",
							 "Whether tfguard refuses, only warns about, or ignores irreversible operations.",
							 "\"enforce\" refuses them unless a human unlocked them; "
							 "\"warn\" lets them run with a WARNING; \"off\" ignores them. "
							 "Set in the server configuration only.",
							 &tfguard_mode,
							 GUARD_MODE_ENFORCE,
							 mode_options,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("tfguard.database",
							   "Database that holds tfguard's schema, audit trail and admin functions.",
							   "CREATE EXTENSION tfguard succeeds only in this database. "
							   "The guard itself covers every database of the cluster.",
							   &tfguard_database,
							   "postgres",
							   PGC_POSTMASTER,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("tfguard.token",
							   "Unlock token presented by this session.",
							   "Set it to the secret an administrator issued with tfguard.issue_token(). "
							   "Only SET and the connection's options are accepted; the value is shown masked.",
							   &tfguard_token_setting,
							   "",
							   PGC_USERSET,
							   GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							   tfguard_check_token, tfguard_assign_token, NULL);

	DefineCustomIntVariable("tfguard.approval",
							"The refused request whose approval this session claims.",
							"Set it to the audit id a human approved with tfguard.approve(), in a new "
							"session of the role that was refused, when the refused session has ended. "
							"Only SET and the connection's options are accepted.",
							&tfguard_approval_setting,
							0, 0, INT_MAX,
							PGC_USERSET,
							GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							tfguard_check_approval, tfguard_assign_approval, NULL);

	DefineCustomIntVariable("tfguard.max_ttl",
							"Longest lifetime of an unlock token.",
							"tfguard.issue_token() caps the ttl it is given at this.",
							&tfguard_max_ttl_s,
							3600, 1, 7 * 24 * 3600,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("tfguard.audit_timeout",
							"How long a guarded operation waits for its audit record to be committed.",
							"If the audit writer has not committed the record by then, "
							"the operation is refused (fail closed).",
							&tfguard_audit_timeout_ms,
							5000, 100, 600000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("tfguard.refusal_pace",
							 "Whether a role that repeats a refused attempt, or floods refusals, is slowed down.",
							 "A role refused the same operation on the same object again within a minute, "
							 "or more than 20 times in 10 seconds, has its sessions wait before their next "
							 "statement: 0.1 s, doubling up to 10 s. Set in the server configuration only.",
							 &tfguard_refusal_pace,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("tfguard.guarded",
							   "The operations tfguard guards.",
							   "\"all\", or a comma-separated list of drop_database, drop_table, truncate, "
							   "delete_all, update_all, mass_delete, mass_update, drop_column, break_recovery. "
							   "reconfigure is always guarded. Set in the server configuration only.",
							   &guarded_setting,
							   "all",
							   PGC_SIGHUP,
							   GUC_LIST_INPUT,
							   check_guarded, assign_guarded, NULL);

	DefineCustomRealVariable("tfguard.max_share",
							 "Share of a table's rows a transaction may remove or overwrite without an unlock.",
							 "A transaction that removes (mass_delete) or overwrites (mass_update) this share "
							 "of the rows of a table of at least tfguard.min_rows rows, or all of them, is refused.",
							 &tfguard_max_share,
							 0.5, 0.01, 1.0,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("tfguard.window",
							"How long the rows a role removes from a table add up across transactions.",
							"Batches in separate transactions, from one or several sessions of a role, "
							"are judged together for mass_delete while they fall within this time "
							"of the first; rows the role added to the table count against them. 0 turns it off.",
							&tfguard_window_s,
							3600, 0, 7 * 24 * 3600,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("tfguard.window_entries",
							"How many (database, table, role) counts the removal window keeps.",
							"When every one is in use and none has expired, a removal that needs one is refused.",
							&tfguard_window_entries,
							4096, 64, 1024 * 1024,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("tfguard.min_rows",
							"Smallest table whose mass deletes and updates tfguard refuses.",
							"Smaller tables are covered by delete_all and update_all only.",
							&tfguard_min_rows,
							100, 1, INT_MAX,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("tfguard");
}

void
_PG_init(void)
{
	/*
	 * Loaded by CREATE EXTENSION or LOAD in one backend only: install
	 * nothing; tfguard_assert_installable() tells the user what to do.
	 */
	if (!process_shared_preload_libraries_in_progress)
		return;

	loaded_at_server_start = true;
	define_settings();
	tfguard_shmem_init();
	tfguard_audit_writer_register();
	tfguard_redact_init();

	prev_object_access_hook = object_access_hook;
	object_access_hook = tfguard_object_access;
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = tfguard_ExecutorStart;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = tfguard_ExecutorFinish;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = tfguard_ProcessUtility;
}

/*
 * Called by the extension script: CREATE EXTENSION tfguard fails unless
 * the server preloaded tfguard and the current database is its home.
 */
Datum
tfguard_assert_installable(PG_FUNCTION_ARGS)
{
	char	   *current_database;

	if (!loaded_at_server_start)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("tfguard must be loaded via shared_preload_libraries"),
				 errdetail("Without it, the server does not guard any database."),
				 errhint("Add 'tfguard' to shared_preload_libraries in postgresql.conf, "
						 "restart the server, then run CREATE EXTENSION tfguard again.")));

	current_database = get_database_name(MyDatabaseId);
	if (strcmp(current_database, tfguard_database) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("tfguard can only be installed in database \"%s\"",
						tfguard_database),
				 errdetail("The current database is \"%s\". tfguard.database names the one database that holds tfguard's audit trail and admin functions; the guard covers every database without the extension.",
						   current_database),
				 errhint("Connect to database \"%s\" and run CREATE EXTENSION tfguard there, "
						 "or set tfguard.database in postgresql.conf and restart the server.",
						 tfguard_database)));

	PG_RETURN_VOID();
}
