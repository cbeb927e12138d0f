/*-------------------------------------------------------------------------
 *
 * admin_sql.c
 *	  The SQL functions of the humans who decide: issue and revoke tokens,
 *	  list them, approve or deny a refused attempt, list live sessions.
 *
 * Each checks that its caller is a superuser or a member of
 * tfguard_admin, and records what it did in the audit trail through one
 * helper before it reports success: an unlock that is not in the trail
 * must not exist.
 *
 * Approvals: the agent was refused and relayed "SELECT tfguard.approve(N);"
 * to its human.  The human reads tfguard.pending (what, who, and the
 * impact), and approves: exactly that operation on that object (by
 * identity, see identity.c) becomes unlocked for the session that made the
 * attempt, if it is still alive, for a while.  Nothing secret travels, and
 * no other session gains anything.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "pgstat.h"
#include "utils/acl.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/timestamp.h"

#include "admin_sql.h"
#include "audit.h"
#include "operation.h"
#include "unlock_store.h"

PG_FUNCTION_INFO_V1(tfguard_issue_token);
PG_FUNCTION_INFO_V1(tfguard_revoke_token);
PG_FUNCTION_INFO_V1(tfguard_token_list);
PG_FUNCTION_INFO_V1(tfguard_approve);
PG_FUNCTION_INFO_V1(tfguard_deny);
PG_FUNCTION_INFO_V1(tfguard_live_sessions);

void
tfguard_check_caller_is_admin(const char *action)
{
	Oid			admin = get_role_oid("tfguard_admin", true);

	if (!superuser() &&
		!(OidIsValid(admin) && has_privs_of_role(GetUserId(), admin)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", action),
				 errdetail("Only superusers and members of tfguard_admin can %s.",
						   action)));
}

/* Unlocks live in this server's memory, and are recorded on the primary. */
void
tfguard_check_not_standby(const char *action)
{
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot %s on a standby", action),
				 errhint("Connect to the primary: unlocks are made and recorded there.")));
}

/*
 * A "reason" argument: NULL when missing or blank, else cut to max_bytes
 * on a character boundary (it lands in the trail and in shared memory).
 */
char *
tfguard_reason_arg(FunctionCallInfo fcinfo, int argno, int max_bytes)
{
	char	   *reason;

	if (PG_ARGISNULL(argno))
		return NULL;
	reason = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (strspn(reason, " \t\r\n") == strlen(reason))
		return NULL;
	reason[pg_mbcliplen(reason, strlen(reason), max_bytes)] = '\0';
	return reason;
}

/* The one way an admin function records what it did; fails closed. */
int64
tfguard_record_admin_event(const char *operation, const char *object,
				   const char *decision, const char *unlock_id,
				   const char *detail, int64 refers_to)
{
	AuditEvent	event = {0};

	event.operation = operation;
	event.object_name = object;
	event.decision = decision;
	event.token_id = unlock_id;
	event.detail = detail;
	event.refers_to = refers_to;
	return tfguard_audit_event_or_error(&event);
}

/* Record an unlock's creation; an unlock that is not in the trail must not exist. */
static void
record_creation(const char *event, const char *object, const char *id,
				const char *detail, int64 refers_to)
{
	PG_TRY();
	{
		tfguard_record_admin_event(event, object, "allowed", id, detail, refers_to);
	}
	PG_CATCH();
	{
		tfguard_unlock_store_forget(id);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

static char *
objects_text(const UnlockEntry *unlock)
{
	StringInfoData out;

	if (unlock->nobjects < 0)
		return pstrdup("any");
	initStringInfo(&out);
	for (int i = 0; i < unlock->nobjects; i++)
		appendStringInfo(&out, "%s%s", i ? "," : "", unlock->objects[i]);
	return out.data;
}

/* ---------- tokens ---------- */

/* An unlock's lifetime in seconds: positive, capped at tfguard.max_ttl. */
static double
ttl_seconds(Datum interval)
{
	double		ttl_s = DatumGetFloat8(DirectFunctionCall2(interval_part,
														   CStringGetTextDatum("epoch"),
														   interval));

	if (ttl_s <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the ttl of an unlock must be positive")));
	if (ttl_s > tfguard_max_ttl_s)
	{
		ereport(NOTICE,
				(errmsg("ttl capped at tfguard.max_ttl (%d s)", tfguard_max_ttl_s)));
		ttl_s = tfguard_max_ttl_s;
	}
	return ttl_s;
}

/*
 * A token's object names a table as schema.table, the way refusals and
 * attempts name it: an unqualified name would match nothing, silently.
 * Names without a schema are for drop_database (a database) and
 * reconfigure (tfguard, a setting).  A token for the current database
 * must name a table that exists here.
 */
static void
check_token_object(const char *name, uint32 operations, Oid database)
{
	List	   *names;
	uint32		named_otherwise = (1 << GUARDED_DROP_DATABASE) | (1 << GUARDED_RECONFIGURE) |
		(1 << GUARDED_BREAK_RECOVERY);

	if ((operations & ~named_otherwise) == 0)
		return;
	names = stringToQualifiedNameListCompat(name);
	if (list_length(names) != 2)
	{
		if ((operations & named_otherwise) != 0)
			return;
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unlock token object \"%s\" is not a schema-qualified table name", name),
				 errdetail("Refusals name tables as schema.table, and a token matches them by that name."),
				 errhint("Name it as schema.table, for example public.%s.", name)));
	}
	if (database == MyDatabaseId &&
		!OidIsValid(RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, true)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("unlock token object \"%s\" does not exist in database \"%s\"",
						name, get_database_name(database)),
				 errhint("Name a table that exists, or issue the token for the database the table is in.")));
}

/*
 * tfguard.issue_token(role, operations, objects, ttl, database, reason):
 * returns the secret.  Only the returned text ever holds it.
 */
Datum
tfguard_issue_token(PG_FUNCTION_ARGS)
{
	Name		role_name;
	Oid			role;
	uint32		operations = 0;
	int			nobjects = -1;
	char		objects[MAX_UNLOCK_OBJECTS][TFGUARD_OBJECT_NAME_MAX];
	double		ttl_s;
	Oid			database = InvalidOid;
	const char *database_name = "";
	char	   *reason = PG_ARGISNULL(5) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(5));
	char		secret[TOKEN_SECRET_LEN];
	UnlockEntry entry;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	char	   *detail;

	tfguard_check_caller_is_admin("issue unlock tokens");
	tfguard_check_not_standby("issue unlock tokens");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("role, operations and ttl must not be null")));

	role_name = PG_GETARG_NAME(0);
	role = get_role_oid(NameStr(*role_name), false);
	if (role == GetUserId() || role == GetSessionUserId())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot issue an unlock token for your own role"),
				 errdetail("The one who unlocks is not the one who runs the operation."),
				 errhint("Issue the token for the role that will run the operation.")));

	deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		GuardedOperation operation;
		char	   *name = nulls[i] ? NULL : TextDatumGetCString(elems[i]);

		if (name == NULL || !tfguard_parse_operation(name, &operation))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown guarded operation \"%s\"", name ? name : "NULL"),
					 errhint("The operations are %s.",
							 tfguard_operations_text(TFGUARD_ALL_OPERATIONS))));
		operations |= 1 << operation;
	}
	if (operations == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an unlock token must name at least one operation")));

	if (!PG_ARGISNULL(2))
	{
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), TEXTOID, -1, false,
						  TYPALIGN_INT, &elems, &nulls, &n);
		if (n > MAX_UNLOCK_OBJECTS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("an unlock token can name at most %d objects", MAX_UNLOCK_OBJECTS)));
		/* a token that names nothing would unlock nothing: a mistake */
		if (n == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("an unlock token must name at least one object, or NULL for any object")));
		for (int i = 0; i < n; i++)
		{
			char	   *name = nulls[i] ? NULL : TextDatumGetCString(elems[i]);

			if (name == NULL || name[0] == '\0' || strlen(name) >= TFGUARD_OBJECT_NAME_MAX)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid object name in unlock token"),
						 errhint("Name tables as schema.table and databases by name.")));
			strlcpy(objects[i], name, TFGUARD_OBJECT_NAME_MAX);
		}
		nobjects = n;
	}

	ttl_s = ttl_seconds(PG_GETARG_DATUM(3));

	if (!PG_ARGISNULL(4))
	{
		database_name = NameStr(*PG_GETARG_NAME(4));
		database = get_database_oid(database_name, false);
	}
	for (int i = 0; i < nobjects; i++)
		check_token_object(objects[i], operations, database);

	tfguard_new_token_secret(secret);
	tfguard_unlock_entry_init(&entry, ttl_s, reason);
	tfguard_hash_secret(secret, entry.hash);
	entry.role = role;
	strlcpy(entry.role_name, NameStr(*role_name), NAMEDATALEN);
	entry.database = database;
	strlcpy(entry.database_name, database_name, NAMEDATALEN);
	entry.operations = operations;
	entry.nobjects = nobjects;
	for (int i = 0; i < nobjects; i++)
		strlcpy(entry.objects[i], objects[i], TFGUARD_OBJECT_NAME_MAX);
	detail = psprintf("operations=%s objects=%s database=%s expires_at=%s reason=%s",
					  tfguard_operations_text(operations), objects_text(&entry),
					  OidIsValid(database) ? database_name : "any",
					  timestamptz_to_str(entry.expires_at), reason);
	tfguard_unlock_store_install(&entry);
	record_creation("issue_token", entry.role_name, entry.id, detail, 0);
	PG_RETURN_TEXT_P(cstring_to_text(secret));
}

/* tfguard.revoke_token(token_id): the token can no longer be used. */
Datum
tfguard_revoke_token(PG_FUNCTION_ARGS)
{
	char	   *id;
	UnlockEntry token;

	tfguard_check_caller_is_admin("revoke unlock tokens");
	tfguard_check_not_standby("revoke unlock tokens");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("token_id must not be null"),
				 errhint("The tfguard.tokens view lists the tokens by id.")));
	id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!tfguard_unlock_store_revoke(id, &token))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 /* an id is 12 characters: never echo more than a screenful */
				 errmsg("unlock token \"%.64s\" does not exist", id),
				 errhint("The tfguard.tokens view lists the tokens by id.")));
	tfguard_record_admin_event("revoke_token", token.role_name, "allowed", id, NULL, 0);
	PG_RETURN_VOID();
}

/* The rows of the tfguard.tokens view; never the secrets. */
Datum
tfguard_token_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	UnlockEntry *unlocks;
	int			n;

	tfguard_check_caller_is_admin("list unlock tokens");
	InitMaterializedSRF(fcinfo, 0);

	n = tfguard_unlock_store_list(&unlocks);
	for (int i = 0; i < n; i++)
	{
		UnlockEntry *t = &unlocks[i];
		Datum		values[13];
		bool		nulls[13] = {0};

		/* a denial unlocks nothing: not listed */
		if (t->denial)
			continue;

		values[0] = CStringGetTextDatum(t->id);
		values[1] = CStringGetTextDatum(t->role_name);
		values[2] = CStringGetTextDatum(tfguard_operations_text(t->operations));
		values[3] = CStringGetTextDatum(objects_text(t));
		nulls[3] = t->nobjects < 0;
		values[4] = CStringGetTextDatum(t->database_name);
		nulls[4] = !OidIsValid(t->database);
		values[5] = CStringGetTextDatum(t->issued_by);
		values[6] = TimestampTzGetDatum(t->issued_at);
		values[7] = TimestampTzGetDatum(t->expires_at);
		values[8] = Int32GetDatum(t->pinned_pid);
		nulls[8] = t->pinned_pid == 0;
		values[9] = TimestampTzGetDatum(t->pinned_start);
		nulls[9] = t->pinned_pid == 0;
		values[10] = BoolGetDatum(t->revoked);
		values[11] = CStringGetTextDatum(t->reason);
		nulls[11] = t->reason[0] == '\0';
		values[12] = Int64GetDatum(t->approves);
		nulls[12] = t->approves == 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* ---------- approvals ---------- */

/* The refused attempt an approval or denial is about. */
typedef struct Request
{
	int64		id;
	char	   *session_role;
	char	   *database_name;
	char	   *operation;
	char	   *object_name;
	int			backend_pid;
	TimestampTz backend_start;
	TimestampTz logged_at;
	Oid			database_oid;
	/* what the approval binds to: the object, then the statement's others */
	int			nobjects;
	Oid			object_oids[MAX_APPROVED_OBJECTS];
	TransactionId object_stamps[MAX_APPROVED_OBJECTS];
	uint32		object_operations[MAX_APPROVED_OBJECTS];
	uint64		object_columns[MAX_APPROVED_OBJECTS];
	uint32		operations;		/* all of them */
	int64		rows_changed;	/* a mass change: the rows it counted, or -1 */
} Request;

#define READ_REQUEST \
	"SELECT session_role, database_name, operation, object_name, backend_pid," \
	" backend_start, decision," \
	" EXISTS (SELECT 1 FROM tfguard.audit_log d WHERE d.refers_to = a.id" \
	"         AND d.operation = 'approve')," \
	" EXISTS (SELECT 1 FROM tfguard.audit_log d WHERE d.refers_to = a.id" \
	"         AND d.operation = 'deny')," \
	" object_oid, database_oid, object_xmin, refers_to, impact, logged_at" \
	" FROM tfguard.audit_log a WHERE a.id = $1"

/* the further objects of a statement refused once (decide.c) */
#define READ_REQUEST_PARTS \
	"SELECT operation, object_oid, object_xmin, impact FROM tfguard.audit_log" \
	" WHERE refers_to = $1 AND decision = 'blocked' AND object_oid IS NOT NULL" \
	" ORDER BY id"

/*
 * The column a drop_column refusal was about, as the hash an approval
 * binds to: its impact starts "column <quoted name>; " (impact.c), and
 * the table's size after the last "; " holds none.  An impact that does
 * not say binds to no column, so the approval covers none.
 */
static uint64
column_of(const char *impact)
{
	const char *end;

	if (impact == NULL || strncmp(impact, "column ", 7) != 0 ||
		(end = strrchr(impact, ';')) == NULL || end < impact + 7)
		return UINT64CONST(0xffffffffffffffff);
	return tfguard_column_hash(pnstrdup(impact + 7, end - (impact + 7)));
}

/*
 * The further objects of a statement refused once, recorded as parts of
 * the request: an approval covers them too, and nothing else.
 */
static void
read_request_parts(Request *request)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(request->id)};

	if (SPI_execute_with_args(READ_REQUEST_PARTS, 1, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read tfguard.audit_log");
	if (1 + SPI_processed > MAX_APPROVED_OBJECTS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("audit id " INT64_FORMAT " is a statement that would destroy %d objects, more than one approval covers (%d)",
						request->id, (int) (1 + SPI_processed), MAX_APPROVED_OBJECTS),
				 errhint("Issue a token that names the objects instead: tfguard.issue_token().")));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		GuardedOperation operation;
		bool		isnull;

		if (!tfguard_parse_operation(SPI_getvalue(row, desc, 1), &operation))
			continue;
		request->operations |= 1 << operation;
		request->object_operations[request->nobjects] = 1 << operation;
		request->object_columns[request->nobjects] =
			operation == GUARDED_DROP_COLUMN ? column_of(SPI_getvalue(row, desc, 4)) : 0;
		request->object_oids[request->nobjects] =
			DatumGetObjectId(SPI_getbinval(row, desc, 2, &isnull));
		request->object_stamps[request->nobjects] =
			DatumGetTransactionId(SPI_getbinval(row, desc, 3, &isnull));
		if (isnull)
			request->object_stamps[request->nobjects] = InvalidTransactionId;
		request->nobjects++;
	}
}

/*
 * Read a refused attempt from the trail; errors unless it is one that
 * awaits a decision.
 */
static Request *
read_request(int64 id, bool for_deny)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(id)};
	Request    *request = palloc0(sizeof(Request));
	TupleDesc	desc;
	HeapTuple	row;
	bool		isnull;
	GuardedOperation operation;
	char	   *decision;
	MemoryContext caller = CurrentMemoryContext;

	request->id = id;
	if (get_attnum(tfguard_audit_table_oid(), "object_oid") == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("tfguard's extension is at version 1.0, which cannot approve or deny by identity"),
				 errhint("Update it: ALTER EXTENSION tfguard UPDATE, with another administrator's token for reconfigure on tfguard.")));
	SPI_connect();
	/* not read-only: see decisions committed since this statement began */
	if (SPI_execute_with_args(READ_REQUEST, 1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read tfguard.audit_log");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("audit id " INT64_FORMAT " does not exist", id),
				 errhint("tfguard.pending lists the refused attempts awaiting a decision.")));
	desc = SPI_tuptable->tupdesc;
	row = SPI_tuptable->vals[0];
	/* SPI_getvalue allocates in SPI's context, gone at SPI_finish */
	request->session_role = MemoryContextStrdup(caller, SPI_getvalue(row, desc, 1));
	request->database_name = MemoryContextStrdup(caller, SPI_getvalue(row, desc, 2));
	request->operation = MemoryContextStrdup(caller, SPI_getvalue(row, desc, 3));
	request->object_name = SPI_getvalue(row, desc, 4);
	if (request->object_name != NULL)
		request->object_name = MemoryContextStrdup(caller, request->object_name);
	request->backend_pid = DatumGetInt32(SPI_getbinval(row, desc, 5, &isnull));
	request->backend_start = isnull ? 0 :
		DatumGetTimestampTz(SPI_getbinval(row, desc, 6, &isnull));
	decision = SPI_getvalue(row, desc, 7);
	request->object_oids[0] = DatumGetObjectId(SPI_getbinval(row, desc, 10, &isnull));
	if (isnull)
		request->object_oids[0] = InvalidOid;
	request->database_oid = DatumGetObjectId(SPI_getbinval(row, desc, 11, &isnull));
	if (isnull)
		request->database_oid = InvalidOid;
	request->object_stamps[0] = DatumGetTransactionId(SPI_getbinval(row, desc, 12, &isnull));
	if (isnull)
		request->object_stamps[0] = InvalidTransactionId;
	request->nobjects = 1;

	if (strcmp(decision, "blocked") != 0 ||
		!tfguard_parse_operation(request->operation, &operation) ||
		request->object_name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("audit id " INT64_FORMAT " is not a refused attempt at a guarded operation", id)));
	request->operations = 1 << operation;
	request->object_operations[0] = 1 << operation;
	request->object_columns[0] = operation == GUARDED_DROP_COLUMN ?
		column_of(SPI_getvalue(row, desc, 14)) : 0;
	request->logged_at = DatumGetTimestampTz(SPI_getbinval(row, desc, 15, &isnull));
	/* a mass change's impact starts with its exact count (impact.c) */
	request->rows_changed = -1;
	if (operation == GUARDED_MASS_DELETE || operation == GUARDED_MASS_UPDATE)
	{
		char	   *impact = SPI_getvalue(row, desc, 14);
		long long	rows;

		if (impact != NULL && sscanf(impact, "%lld of ", &rows) == 1)
			request->rows_changed = rows;
	}
	/* a further object of a statement refused once: decided with the statement */
	{
		Datum		part_of = SPI_getbinval(row, desc, 13, &isnull);

		if (!isnull)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("audit id " INT64_FORMAT " is part of the statement refused as audit id " INT64_FORMAT,
							id, DatumGetInt64(part_of)),
					 errhint("Decide on audit id " INT64_FORMAT ": that decision covers the whole statement.",
							 DatumGetInt64(part_of))));
	}
	/* a request can be denied after it was approved: that ends the approval */
	if (DatumGetBool(SPI_getbinval(row, desc, 9, &isnull)) ||
		(!for_deny && DatumGetBool(SPI_getbinval(row, desc, 8, &isnull))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("audit id " INT64_FORMAT " was already %s", id,
						DatumGetBool(SPI_getbinval(row, desc, 9, &isnull)) ?
						"denied" : "approved")));

	read_request_parts(request);
	SPI_finish();
	return request;
}

/* Is the session (process and its start time) still alive? */
static bool
session_alive(int pid, TimestampTz backend_start)
{
	int			n = pgstat_fetch_stat_numbackends();

	for (int i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *local = pgstat_local_beentry_by_index(i);

		if (local != NULL &&
			local->backendStatus.st_procpid == pid &&
			local->backendStatus.st_proc_start_timestamp == backend_start)
			return true;
	}
	return false;
}

static void
check_not_own_attempt(const Request *request)
{
	if (strcmp(request->session_role, GetUserNameFromId(GetUserId(), false)) == 0 ||
		strcmp(request->session_role, GetUserNameFromId(GetSessionUserId(), false)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot decide on an attempt made by your own role"),
				 errdetail("The one who approves is not the one who runs the operation.")));
}

/*
 * Unlock the request's operation on its object for the session that made
 * it (pid and start time).  The approval binds to the object the refused
 * attempt was about (OID and catalog row version); its name is kept for
 * people.  Returns the approval's id.
 */
static const char *
grant_approval(const Request *request, Oid role,
			   Oid database, double ttl_s, const char *reason, bool claimable)
{
	UnlockEntry entry;

	tfguard_unlock_entry_init(&entry, ttl_s, reason);
	entry.approves = request->id;
	entry.role = role;
	strlcpy(entry.role_name, request->session_role, NAMEDATALEN);
	entry.database = database;
	strlcpy(entry.database_name, request->database_name, NAMEDATALEN);
	entry.operations = request->operations;
	entry.nobjects = 1;
	strlcpy(entry.objects[0], request->object_name, TFGUARD_OBJECT_NAME_MAX);
	entry.napproved = request->nobjects;
	entry.rows_approved = request->rows_changed;
	memcpy(entry.object_oids, request->object_oids, sizeof(Oid) * request->nobjects);
	memcpy(entry.object_stamps, request->object_stamps,
		   sizeof(TransactionId) * request->nobjects);
	memcpy(entry.object_operations, request->object_operations,
		   sizeof(uint32) * request->nobjects);
	memcpy(entry.object_columns, request->object_columns,
		   sizeof(uint64) * request->nobjects);
	/* the session that was refused, or, gone, the next one to claim it */
	entry.pinned_pid = claimable ? 0 : request->backend_pid;
	entry.pinned_start = claimable ? 0 : request->backend_start;
	tfguard_unlock_store_install(&entry);
	record_creation("approve", request->object_name, entry.id,
					psprintf("approved for %.0f s%s%s%s", ttl_s,
							 claimable ? ", to be claimed with SET tfguard.approval = " : "",
							 claimable ? psprintf(INT64_FORMAT, request->id) : "",
							 reason ? psprintf("; reason=%s", reason) : ""),
					request->id);
	return pstrdup(entry.id);
}

/*
 * approve() and deny() of the same request take turns: a deny that ran
 * while an approval was being granted must still end it.
 */
static void
serialize_decisions_on(int64 request)
{
	DirectFunctionCall2(pg_advisory_xact_lock_int4,
						Int32GetDatum(0x74666721),	/* "tfg!" */
						Int32GetDatum((int32) request));
}

/*
 * tfguard.approve(audit_id, ttl, reason): unlock that operation on that
 * object for the session that was refused.  Returns the approval's id.
 */
Datum
tfguard_approve(PG_FUNCTION_ARGS)
{
	int64		id;
	double		ttl_s;
	char	   *reason = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	Request    *request;
	GuardedOperation operation;
	Oid			role;
	Oid			database;
	const char *approval_id;

	tfguard_check_caller_is_admin("approve refused attempts");
	tfguard_check_not_standby("approve refused attempts");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("audit_id and ttl must not be null")));
	id = PG_GETARG_INT64(0);
	ttl_s = ttl_seconds(PG_GETARG_DATUM(1));
	serialize_decisions_on(id);
	request = read_request(id, false);
	check_not_own_attempt(request);
	(void) tfguard_parse_operation(request->operation, &operation);

	/*
	 * A change to tfguard itself, or to what standbys and backups recover
	 * from, is not approved from a refusal: one name ("tfguard", a setting,
	 * a slot function) covers many changes, and a statement's text does not
	 * show what a function it calls will do when it runs again.  Another
	 * admin issues a token naming the change instead.
	 */
	if (operation == GUARDED_RECONFIGURE || operation == GUARDED_BREAK_RECOVERY)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 operation == GUARDED_RECONFIGURE ?
				 errmsg("a change to tfguard itself cannot be approved from its refusal") :
				 errmsg("a change to what standbys and backups recover from cannot be approved from its refusal"),
				 errdetail("Audit id " INT64_FORMAT " is a %s attempt; nothing was unlocked.",
						   id, request->operation),
				 errhint("Issue a token for %s that names what may change: "
						 "tfguard.issue_token('%s', ARRAY['%s'], ARRAY['%s'], ...).",
						 request->operation, request->session_role, request->operation,
						 request->object_name)));
	if (!OidIsValid(request->object_oids[0]))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("audit id " INT64_FORMAT " does not record which object it was about", id),
				 errdetail("It was refused by an older version of tfguard; nothing was unlocked."),
				 errhint("The agent must try again, and that attempt can be approved.")));
	if (TimestampDifferenceExceeds(request->logged_at, GetCurrentTimestamp(),
								   tfguard_max_ttl_s * 1000))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("request " INT64_FORMAT " has expired", id),
				 errdetail("A refused attempt awaits a decision for tfguard.max_ttl (%d s); nothing was unlocked.",
						   tfguard_max_ttl_s),
				 errhint("The agent must try again, and that attempt can be approved.")));

	role = get_role_oid(request->session_role, false);
	/* by identity: a database renamed into the name is another database */
	database = request->database_oid;
	if (!OidIsValid(database))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("audit id " INT64_FORMAT " does not record which database it was made in", id),
				 errdetail("It was refused by an older version of tfguard; nothing was unlocked."),
				 errhint("The agent must try again, and that attempt can be approved.")));
	approval_id = grant_approval(request, role, database, ttl_s, reason,
								 !session_alive(request->backend_pid, request->backend_start));
	PG_RETURN_TEXT_P(cstring_to_text(approval_id));
}

/*
 * Keep the denial for tfguard.max_ttl, so that the role's next attempt at
 * the same objects, in any database's backend, is told it was denied and
 * why, not sent to plead again.  It unlocks nothing (revoked from birth).
 */
static void
remember_denial(const Request *request, const char *reason)
{
	UnlockEntry entry;
	Oid			role = get_role_oid(request->session_role, true);

	if (!OidIsValid(role) || !OidIsValid(request->database_oid))
		return;
	tfguard_unlock_entry_init(&entry, tfguard_max_ttl_s, reason);
	entry.denial = true;
	entry.revoked = true;
	entry.approves = request->id;
	entry.role = role;
	strlcpy(entry.role_name, request->session_role, NAMEDATALEN);
	entry.database = request->database_oid;
	strlcpy(entry.database_name, request->database_name, NAMEDATALEN);
	entry.operations = request->operations;
	entry.nobjects = 1;
	strlcpy(entry.objects[0], request->object_name, TFGUARD_OBJECT_NAME_MAX);
	entry.napproved = request->nobjects;
	memcpy(entry.object_oids, request->object_oids, sizeof(Oid) * request->nobjects);
	tfguard_unlock_store_install(&entry);
}

/* tfguard.deny(audit_id, reason): close a request without unlocking. */
Datum
tfguard_deny(PG_FUNCTION_ARGS)
{
	char	   *reason = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	Request    *request;

	tfguard_check_caller_is_admin("deny refused attempts");
	tfguard_check_not_standby("deny refused attempts");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("audit_id must not be null")));
	serialize_decisions_on(PG_GETARG_INT64(0));
	request = read_request(PG_GETARG_INT64(0), true);
	check_not_own_attempt(request);
	tfguard_unlock_store_revoke_approvals_of(request->id);
	tfguard_record_admin_event("deny", request->object_name, "blocked", NULL,
					   reason ? psprintf("reason=%s", reason) : NULL, request->id);
	remember_denial(request, reason);
	PG_RETURN_VOID();
}

/* The live sessions (process and start time), for tfguard.pending. */
Datum
tfguard_live_sessions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			n;

	tfguard_check_caller_is_admin("list pending attempts");
	InitMaterializedSRF(fcinfo, 0);
	n = pgstat_fetch_stat_numbackends();
	for (int i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *local = pgstat_local_beentry_by_index(i);
		Datum		values[2];
		bool		nulls[2] = {false, false};

		if (local == NULL || local->backendStatus.st_procpid == 0)
			continue;
		values[0] = Int32GetDatum(local->backendStatus.st_procpid);
		values[1] = TimestampTzGetDatum(local->backendStatus.st_proc_start_timestamp);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
