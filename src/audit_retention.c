/*-------------------------------------------------------------------------
 *
 * audit_retention.c
 *	  tfguard.prune_audit(): removing old rows of the audit trail, as a
 *	  change to tfguard itself.
 *
 * The trail is append-only for every role: any DELETE of it is a
 * reconfigure attempt, refused unless the session holds a token for
 * reconfigure naming tfguard.audit_log, which another administrator
 * issued.  prune_audit() is the way an administrator uses such a token:
 * it removes only rows older than a date (never those of the last
 * tfguard.max_ttl, which pending requests and denials still use), runs
 * its DELETE through the guard like any other (so it is refused, and
 * recorded, without the token), and leaves a row saying what it removed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xlog.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "admin_sql.h"
#include "audit.h"
#include "session_unlock.h"

PG_FUNCTION_INFO_V1(tfguard_prune_audit);

#define PRUNE_REASON_MAX 200

static Oid
relation_owner(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/*
 * tfguard.prune_audit(before, reason): remove the trail's rows logged
 * before "before"; returns how many.  Archive them first:
 * COPY (SELECT * FROM tfguard.audit_log WHERE logged_at < ...) TO ...
 */
Datum
tfguard_prune_audit(PG_FUNCTION_ARGS)
{
	TimestampTz before;
	TimestampTz newest_allowed;
	char	   *reason;
	Oid			audit_table;
	Oid			save_userid;
	int			save_sec_context;
	Datum		args[1];
	Oid			argtypes[1] = {TIMESTAMPTZOID};
	bool		isnull;
	volatile int64 removed = 0;
	volatile int64 first_id = 0;
	volatile int64 last_id = 0;

	tfguard_check_caller_is_admin("prune the audit trail");
	tfguard_check_not_standby("prune the audit trail");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the date before which rows are removed must not be NULL")));
	before = PG_GETARG_TIMESTAMPTZ(0);
	newest_allowed = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												 -(int64) tfguard_max_ttl_s * 1000);
	if (TIMESTAMP_NOT_FINITE(before) || before > newest_allowed)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rows of the audit trail logged after %s cannot be pruned",
						timestamptz_to_str(newest_allowed)),
				 errdetail("The rows of the last tfguard.max_ttl (%d s) hold the requests awaiting a decision and the denials tfguard remembers.",
						   tfguard_max_ttl_s)));
	reason = tfguard_reason_arg(fcinfo, 1, PRUNE_REASON_MAX);
	if (reason == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pruning the audit trail needs a reason"),
				 errhint("Say where the removed rows were archived, e.g. reason => 'archived to s3://audit/2025.csv'.")));

	/*
	 * Without a token the DELETE would be refused and recorded, as the
	 * trail owner's: say so at once, recording nothing, so that no one
	 * floods the trail (or paces its owner) through this function.
	 */
	if (tfguard_session_token_id() == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("pruning the audit trail needs a token for reconfigure naming tfguard.audit_log"),
				 errdetail("Removing rows of the trail is a change to tfguard itself."),
				 errhint("Another administrator issues it: tfguard.issue_token('%s', ARRAY['reconfigure'], ARRAY['tfguard.audit_log'], ...); then SET tfguard.token in this session.",
						 GetUserNameFromId(GetSessionUserId(), false))));

	audit_table = tfguard_audit_table_oid();
	if (!OidIsValid(audit_table))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("tfguard.prune_audit() runs in the home database \"%s\"",
						tfguard_database)));

	/*
	 * The DELETE runs with the trail owner's privileges (members of
	 * tfguard_admin may only read it) and through the guard, which refuses
	 * it as reconfigure unless this session holds a token naming
	 * tfguard.audit_log.
	 */
	args[0] = TimestampTzGetDatum(before);
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(relation_owner(audit_table),
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute_with_args("WITH gone AS (DELETE FROM tfguard.audit_log WHERE logged_at < $1 RETURNING id) "
								  "SELECT count(*), min(id), max(id) FROM gone",
								  1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT ||
			SPI_processed != 1)
			elog(ERROR, "could not prune tfguard.audit_log");
		removed = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (removed > 0)
		{
			first_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
			last_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
		}
		SPI_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();

	/* what was removed, in the trail that remains (and fail closed) */
	tfguard_record_admin_event("prune_audit", "tfguard.audit_log", "allowed",
							   tfguard_session_token_id(),
							   psprintf("removed " INT64_FORMAT " rows logged before %s (ids " INT64_FORMAT " to " INT64_FORMAT "); reason: %s",
										removed, timestamptz_to_str(before),
										first_id, last_id, reason),
							   0);
	PG_RETURN_INT64(removed);
}
