/*-------------------------------------------------------------------------
 *
 * approve.c
 *	  A human approves (or denies) a refused attempt by its audit id.
 *
 * The agent was refused and relayed "SELECT tfguard.approve(N);" to its
 * human.  The human reads tfguard.pending (what, who, and the impact),
 * and approves: exactly that operation on that object becomes unlocked for
 * the session that made the attempt, if it is still alive, for a while.
 * The agent runs its statement again in the same session.  Nothing secret
 * travels, and no other session gains anything.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/acl.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "tfguard.h"

PG_FUNCTION_INFO_V1(tfguard_approve);
PG_FUNCTION_INFO_V1(tfguard_deny);
PG_FUNCTION_INFO_V1(tfguard_live_sessions);

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
	Oid			object_oid;		/* what the approval binds to */
	Oid			database_oid;
	TransactionId object_stamp;
} Request;

#define READ_REQUEST \
	"SELECT session_role, database_name, operation, object_name, backend_pid," \
	" backend_start, decision," \
	" EXISTS (SELECT 1 FROM tfguard.audit_log d WHERE d.refers_to = a.id" \
	"         AND d.operation = 'approve')," \
	" EXISTS (SELECT 1 FROM tfguard.audit_log d WHERE d.refers_to = a.id" \
	"         AND d.operation = 'deny')," \
	" object_oid, database_oid, object_xmin" \
	" FROM tfguard.audit_log a WHERE a.id = $1"

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
	request->object_oid = DatumGetObjectId(SPI_getbinval(row, desc, 10, &isnull));
	if (isnull)
		request->object_oid = InvalidOid;
	request->database_oid = DatumGetObjectId(SPI_getbinval(row, desc, 11, &isnull));
	if (isnull)
		request->database_oid = InvalidOid;
	request->object_stamp = DatumGetTransactionId(SPI_getbinval(row, desc, 12, &isnull));
	if (isnull)
		request->object_stamp = InvalidTransactionId;

	if (strcmp(decision, "blocked") != 0 ||
		!tfguard_parse_operation(request->operation, &operation) ||
		request->object_name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("audit id " INT64_FORMAT " is not a refused attempt at a guarded operation", id)));
	/* a request can be denied after it was approved: that ends the approval */
	if (DatumGetBool(SPI_getbinval(row, desc, 9, &isnull)) ||
		(!for_deny && DatumGetBool(SPI_getbinval(row, desc, 8, &isnull))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("audit id " INT64_FORMAT " was already %s", id,
						DatumGetBool(SPI_getbinval(row, desc, 9, &isnull)) ?
						"denied" : "approved")));

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

static int64
record_decision(const char *operation, const char *decision,
				const Request *request, const char *approval_id,
				const char *detail)
{
	AuditEvent	event = {operation, request->object_name, decision,
	approval_id, detail, request->id, NULL, InvalidOid, InvalidTransactionId};

	return tfguard_audit_event_or_error(&event);
}

/*
 * tfguard.approve(audit_id, ttl, reason): unlock that operation on that
 * object for the session that was refused.  Returns the approval's id.
 */
Datum
tfguard_approve(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	double		ttl_s;
	char	   *reason = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	Request    *request;
	GuardedOperation operation;
	Oid			role;
	Oid			database;
	char	   *approval_id;

	tfguard_check_caller_is_admin("approve refused attempts");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("audit_id and ttl must not be null")));
	ttl_s = tfguard_ttl_seconds(PG_GETARG_DATUM(1));
	request = read_request(id, false);
	check_not_own_attempt(request);
	if (!session_alive(request->backend_pid, request->backend_start))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the session that made attempt " INT64_FORMAT " has ended", id),
				 errdetail("An approval unlocks the operation for that session only; nothing was unlocked."),
				 errhint("The agent must try again in a new session, and that attempt can be approved.")));

	(void) tfguard_parse_operation(request->operation, &operation);
	role = get_role_oid(request->session_role, false);
	/* by identity: a database renamed into the name is another database */
	database = request->database_oid;
	if (!OidIsValid(database))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("audit id " INT64_FORMAT " does not record which database it was made in", id),
				 errdetail("It was refused by an older version of tfguard; nothing was unlocked."),
				 errhint("The agent must try again, and that attempt can be approved.")));
	approval_id = tfguard_unlock_grant_approval(id, role, request->session_role,
												database, request->database_name,
												operation, request->object_name,
												request->object_oid,
												request->object_stamp,
												request->backend_pid,
												request->backend_start,
												ttl_s, reason);
	PG_RETURN_TEXT_P(cstring_to_text(approval_id));
}

/* tfguard.deny(audit_id, reason): close a request without unlocking. */
Datum
tfguard_deny(PG_FUNCTION_ARGS)
{
	char	   *reason = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	Request    *request;

	tfguard_check_caller_is_admin("deny refused attempts");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("audit_id must not be null")));
	request = read_request(PG_GETARG_INT64(0), true);
	check_not_own_attempt(request);
	tfguard_unlock_revoke_approvals_of(request->id);
	record_decision("deny", "blocked", request, NULL,
					reason ? psprintf("reason=%s", reason) : NULL);
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
