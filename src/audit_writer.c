/*-------------------------------------------------------------------------
 *
 * audit_writer.c
 *	  The background worker that commits audit records in the home database.
 *
 * The postmaster starts one writer, connected to tfguard.database as the
 * bootstrap superuser, and restarts it if it exits.  Each round it takes
 * every pending record from the shared queue, inserts them all into
 * tfguard.audit_log in one transaction with synchronous commit, hands each
 * backend its audit id, and writes one "tfguard:" line per record to the
 * server log for log shippers.  If the extension is missing or the insert
 * fails, every record of the round is marked failed with the reason, and
 * the waiting backends fail closed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "audit.h"
#include "audit_queue.h"
#include "operation.h"
#include "standing_rule.h"

PGDLLEXPORT void tfguard_audit_writer_main(Datum main_arg);

/* true in the writer: its own INSERTs into the audit table are allowed */
bool		tfguard_is_audit_writer = false;

/*
 * The writer numbers the rows itself: it is the only one that inserts, and
 * a sequence would be one more object a superuser could reset (setval) to
 * make every later insert fail on the primary key.  Every parameter has
 * its column's type: the INSERT calls no cast or function a user could
 * have defined.
 */
#define INSERT_AUDIT_ROW \
	"INSERT INTO tfguard.audit_log (id, logged_at, database_name, session_role," \
	" \"current_role\", client_addr, application_name, backend_pid, operation," \
	" object_name, statement, decision, token_id, detail, backend_start," \
	" refers_to, impact, object_oid, database_oid, object_xmin)" \
	" VALUES ($17, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13," \
	" $14, $15, $16, $18, $19, $20)"
#define INSERT_AUDIT_NARGS 20
#define LAST_AUDIT_ID "SELECT pg_catalog.max(id) FROM tfguard.audit_log"

/*
 * The table of extension version 1.0, until ALTER EXTENSION tfguard UPDATE:
 * its ids come from an identity column, and it has no columns for the
 * refused object's identity (such rows cannot be approved).
 */
#define INSERT_AUDIT_ROW_1_0 \
	"INSERT INTO tfguard.audit_log (logged_at, database_name, session_role," \
	" \"current_role\", client_addr, application_name, backend_pid, operation," \
	" object_name, statement, decision, token_id, detail, backend_start," \
	" refers_to, impact)" \
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13," \
	" $14, $15, $16)" \
	" RETURNING id"
#define INSERT_AUDIT_NARGS_1_0 16

/* the layout the INSERT was planned for */
static bool planned_for_1_0 = false;

/* the id of the next row; 0 until read from the table (again after a failure) */
static int64 next_audit_id = 0;

void
tfguard_audit_writer_register(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 1;
	strlcpy(worker.bgw_library_name, "tfguard", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "tfguard_audit_writer_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "tfguard audit writer", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "tfguard audit writer", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

static void
forget_writer(int code, Datum arg)
{
	LWLockAcquire(tfguard_audit_queue->lock, LW_EXCLUSIVE);
	tfguard_audit_queue->writer_pid = 0;
	tfguard_audit_queue->writer_latch = NULL;
	LWLockRelease(tfguard_audit_queue->lock);
}

/*
 * A writer that exited in the middle of a round (a clean exit does not
 * reset shared memory) left its slots WRITING: take them up again.
 */
static void
become_the_writer(void)
{
	AuditQueue *queue = tfguard_audit_queue;

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	for (int i = 0; i < AUDIT_QUEUE_SLOTS; i++)
	{
		if (queue->slots[i].state == AUDIT_SLOT_WRITING)
			queue->slots[i].state = AUDIT_SLOT_PENDING;
	}
	queue->writer_pid = MyProcPid;
	queue->writer_latch = MyLatch;
	queue->writer_heartbeat = GetCurrentTimestamp();
	LWLockRelease(queue->lock);
	before_shmem_exit(forget_writer, (Datum) 0);
}

/* Append key="value" to a log line, escaping what would break the line. */
static void
append_field(StringInfo line, const char *key, const char *value)
{
	appendStringInfo(line, " %s=\"", key);
	for (const char *p = value ? value : ""; *p; p++)
	{
		if (*p == '"' || *p == '\\')
			appendStringInfo(line, "\\%c", *p);
		else if (*p == '\n')
			appendStringInfoString(line, "\\n");
		else if ((unsigned char) *p < 0x20 || *p == 0x7f)
			appendStringInfo(line, "\\x%02x", (unsigned char) *p);
		else
			appendStringInfoChar(line, *p);
	}
	appendStringInfoChar(line, '"');
}

static void
log_record(int64 audit_id, const AuditRecord *r)
{
	StringInfoData line;

	initStringInfo(&line);
	appendStringInfo(&line, "tfguard: id=" INT64_FORMAT, audit_id);
	append_field(&line, "logged_at", timestamptz_to_str(r->logged_at));
	append_field(&line, "decision", r->decision);
	append_field(&line, "operation", r->operation);
	append_field(&line, "object_name", r->object_name);
	append_field(&line, "database_name", r->database_name);
	append_field(&line, "session_role", r->session_role);
	append_field(&line, "current_role", r->current_role);
	append_field(&line, "client_addr", r->client_addr);
	append_field(&line, "application_name", r->application_name);
	appendStringInfo(&line, " backend_pid=%d", r->backend_pid);
	append_field(&line, "token_id", r->token_id);
	append_field(&line, "detail", r->detail);
	append_field(&line, "statement", r->statement);
	ereport(LOG, (errmsg_internal("%s", line.data),
				  errhidestmt(true), errhidecontext(true)));
	pfree(line.data);
}

/*
 * A record's text as valid text of the home database.  Attempts come from
 * every database of the cluster; a text that is not valid in the home
 * database's encoding (another encoding, or bytes cut short) keeps its
 * ASCII and shows every other byte as \xNN, so that one record can neither
 * fail a round nor make the trail unrestorable.
 */
static Datum
home_text(const char *value, int encoding)
{
	StringInfoData escaped;

	if (encoding == GetDatabaseEncoding() &&
		pg_verify_mbstr(encoding, value, strlen(value), true))
		return CStringGetTextDatum(value);

	initStringInfo(&escaped);
	for (const unsigned char *p = (const unsigned char *) value; *p; p++)
	{
		if (*p < 0x80)
			appendStringInfoChar(&escaped, (char) *p);
		else
			appendStringInfo(&escaped, "\\x%02x", *p);
	}
	return CStringGetTextDatum(escaped.data);
}

static Datum
text_or_null(const char *value, int encoding, char *nulls, int i)
{
	if (value[0] == '\0')
	{
		nulls[i] = 'n';
		return (Datum) 0;
	}
	return home_text(value, encoding);
}

static const Oid insert_argtypes[INSERT_AUDIT_NARGS] = {
	TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, INETOID, TEXTOID, INT4OID,
	TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TIMESTAMPTZOID, INT8OID, TEXTOID, INT8OID, OIDOID, OIDOID, XIDOID
};

/* The INSERT, planned once per writer; forgotten after any failed round. */
static SPIPlanPtr insert_plan = NULL;

/* The id the next row gets: one past the highest in the table. */
static int64
read_next_audit_id(void)
{
	bool		isnull;
	Datum		last;

	if (SPI_execute(LAST_AUDIT_ID, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the last id of tfguard.audit_log");
	last = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 1 : DatumGetInt64(last) + 1;
}

/*
 * Insert one record; returns its id, which is "id" unless the table is
 * version 1.0's (then its identity column numbers it).
 */
static int64
insert_record(const AuditRecord *r, int64 id, bool table_1_0)
{
	Datum		values[INSERT_AUDIT_NARGS];
	char		nulls[INSERT_AUDIT_NARGS + 1];
	bool		isnull;

	if (insert_plan != NULL && planned_for_1_0 != table_1_0)
	{
		SPI_freeplan(insert_plan);
		insert_plan = NULL;
	}
	if (insert_plan == NULL)
	{
		SPIPlanPtr	plan = table_1_0 ?
			SPI_prepare(INSERT_AUDIT_ROW_1_0, INSERT_AUDIT_NARGS_1_0, (Oid *) insert_argtypes) :
			SPI_prepare(INSERT_AUDIT_ROW, INSERT_AUDIT_NARGS, (Oid *) insert_argtypes);

		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare the insert into tfguard.audit_log");
		insert_plan = plan;
		planned_for_1_0 = table_1_0;
	}

	memset(nulls, ' ', INSERT_AUDIT_NARGS);
	nulls[INSERT_AUDIT_NARGS] = '\0';
	values[0] = TimestampTzGetDatum(r->logged_at);
	values[1] = home_text(r->database_name, r->encoding);
	values[2] = home_text(r->session_role, r->encoding);
	values[3] = home_text(r->current_role, r->encoding);
	/*
	 * Converted here, not by a cast in the INSERT: a cast a superuser
	 * created (text AS inet) would run its function inside the writer.
	 */
	if (r->client_addr[0] == '\0')
		nulls[4] = 'n';
	else
		values[4] = DirectFunctionCall1(inet_in, CStringGetDatum(r->client_addr));
	values[5] = text_or_null(r->application_name, r->encoding, nulls, 5);
	values[6] = Int32GetDatum(r->backend_pid);
	values[7] = home_text(r->operation, r->encoding);
	values[8] = text_or_null(r->object_name, r->encoding, nulls, 8);
	values[9] = text_or_null(r->statement, r->encoding, nulls, 9);
	values[10] = home_text(r->decision, r->encoding);
	values[11] = text_or_null(r->token_id, r->encoding, nulls, 11);
	values[12] = text_or_null(r->detail, r->encoding, nulls, 12);
	values[13] = TimestampTzGetDatum(r->backend_start);
	values[14] = Int64GetDatum(r->refers_to);
	nulls[14] = r->refers_to == 0 ? 'n' : ' ';
	values[15] = text_or_null(r->impact, r->encoding, nulls, 15);
	values[16] = Int64GetDatum(id);
	values[17] = ObjectIdGetDatum(r->object_oid);
	nulls[17] = OidIsValid(r->object_oid) ? ' ' : 'n';
	values[18] = ObjectIdGetDatum(r->database_oid);
	values[19] = TransactionIdGetDatum(r->object_stamp);
	nulls[19] = TransactionIdIsValid(r->object_stamp) ? ' ' : 'n';

	if (SPI_execute_plan(insert_plan, values, nulls, false, 1) !=
		(table_1_0 ? SPI_OK_INSERT_RETURNING : SPI_OK_INSERT) ||
		SPI_processed != 1)
		elog(ERROR, "could not insert into tfguard.audit_log");
	if (!table_1_0)
		return id;
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * The audit table must exist, and nothing may run inside the writer's
 * INSERT: a rule or trigger on the audit table would run with the
 * writer's right to write it.
 */
static bool
check_audit_table(void)
{
	Oid			nspid = get_namespace_oid("tfguard", true);
	Oid			relid = OidIsValid(nspid) ?
		get_relname_relid("audit_log", nspid) : InvalidOid;
	Relation	audit_log;
	bool		runs_code;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errmsg("extension tfguard is not installed in database \"%s\"",
						tfguard_database)));

	/*
	 * Only what an INSERT fires counts: the triggers a foreign key
	 * referencing the table adds fire on UPDATE and DELETE, and
	 * relhastriggers stays set after such triggers are gone.
	 */
	audit_log = table_open(relid, RowExclusiveLock);
	runs_code = audit_log->rd_rules != NULL ||
		(audit_log->trigdesc != NULL &&
		 (audit_log->trigdesc->trig_insert_before_row ||
		  audit_log->trigdesc->trig_insert_after_row ||
		  audit_log->trigdesc->trig_insert_instead_row ||
		  audit_log->trigdesc->trig_insert_before_statement ||
		  audit_log->trigdesc->trig_insert_after_statement ||
		  audit_log->trigdesc->trig_insert_new_table));
	table_close(audit_log, NoLock);
	if (runs_code)
		ereport(ERROR,
				(errmsg("tfguard.audit_log has rules or triggers, which the audit writer does not write through")));
	/* version 1.0's table, not yet updated */
	return get_attnum(relid, "object_oid") == InvalidAttrNumber;
}

/*
 * In a PG_CATCH of the writer's loop: keep the error, abort the round's
 * transaction, and go on (nothing may raise here: the caller still has
 * to mark the slots).
 */
static ErrorData *
abandon_transaction(MemoryContext caller_context)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(caller_context);
	edata = CopyErrorData();
	FlushErrorState();
	AbortCurrentTransaction();
	return edata;
}

/*
 * Refused attempts await a human's decision: tell the listeners on channel
 * tfguard_pending with their audit ids (comma-separated, one notification
 * per round: a flood must not cost one NOTIFY per refusal), and those on
 * tfguard_audit with the last new id.
 *
 * Best effort, in a transaction of its own after the records committed:
 * any role can fill the cluster's notification queue (a listener idle in
 * a transaction, pg_notify in a loop), and a full queue fails the commit
 * that notifies.  The trail must not depend on it.  Listeners treat a
 * notification as "look again", never as data: any role can NOTIFY these
 * channels too.
 */
static void
notify_listeners(const int64 *ids, const AuditRecord *records, int n)
{
	StringInfoData payload;
	GuardedOperation operation;
	MemoryContext caller_context = CurrentMemoryContext;

	initStringInfo(&payload);
	for (int i = 0; i < n; i++)
	{
		if (strcmp(records[i].decision, "blocked") == 0 &&
			tfguard_parse_operation(records[i].operation, &operation))
			appendStringInfo(&payload, "%s" INT64_FORMAT,
							 payload.len ? "," : "", ids[i]);
	}

	PG_TRY();
	{
		StartTransactionCommand();
		if (payload.len > 0)
			Async_Notify("tfguard_pending", payload.data);
		/* every new row, for followers of the whole trail (tfguard audit --follow) */
		resetStringInfo(&payload);
		appendStringInfo(&payload, INT64_FORMAT, ids[n - 1]);
		Async_Notify("tfguard_audit", payload.data);
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata = abandon_transaction(caller_context);

		ereport(WARNING,
				(errmsg("tfguard audit writer could not notify listeners: %s",
						edata->message),
				 errdetail("The audit records were committed; only the notification was lost.")));
	}
	PG_END_TRY();
}

/*
 * Insert the records in one transaction.  Returns NULL and fills ids on
 * success, or the reason for failure.
 */
static char *
commit_records(AuditRecord *records, int n, int64 *ids)
{
	MemoryContext caller_context = CurrentMemoryContext;
	char	   *volatile failure = NULL;
	volatile bool table_1_0 = false;

	/*
	 * Every error of the round, a cancel included, ends in PG_CATCH, which
	 * raises nothing itself: the caller must get to mark the slots.
	 */
	PG_TRY();
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "writing tfguard audit records");

		table_1_0 = check_audit_table();
		if (table_1_0)
			next_audit_id = 0;
		else if (next_audit_id == 0)
			next_audit_id = read_next_audit_id();
		for (int i = 0; i < n; i++)
			ids[i] = insert_record(&records[i], next_audit_id + i, table_1_0);

		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
		if (!table_1_0)
			next_audit_id += n;
	}
	PG_CATCH();
	{
		ErrorData  *edata = abandon_transaction(caller_context);

		failure = edata->message;
		next_audit_id = 0;
		if (insert_plan)
		{
			SPI_freeplan(insert_plan);
			insert_plan = NULL;
		}
	}
	PG_END_TRY();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	return failure;
}

/* Take every pending record, commit them together, report back. */
static void
write_pending_records(void)
{
	AuditQueue *queue = tfguard_audit_queue;
	int			slot_of[AUDIT_QUEUE_SLOTS];
	AuditRecord *records;
	int64		ids[AUDIT_QUEUE_SLOTS];
	int			n = 0;
	char	   *failure;
	bool		freed = false;

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	for (int i = 0; i < AUDIT_QUEUE_SLOTS; i++)
	{
		if (queue->slots[i].state == AUDIT_SLOT_PENDING)
			slot_of[n++] = i;
	}
	/* oldest first, so that ids follow the order of arrival */
	for (int i = 1; i < n; i++)
	{
		for (int j = i; j > 0 &&
			 queue->slots[slot_of[j - 1]].request_no >
			 queue->slots[slot_of[j]].request_no; j--)
		{
			int			swap = slot_of[j];

			slot_of[j] = slot_of[j - 1];
			slot_of[j - 1] = swap;
		}
	}
	records = palloc(sizeof(AuditRecord) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		queue->slots[slot_of[i]].state = AUDIT_SLOT_WRITING;
		memcpy(&records[i], &queue->slots[slot_of[i]].record,
			   sizeof(AuditRecord));
	}
	LWLockRelease(queue->lock);

	if (n == 0)
	{
		pfree(records);
		return;
	}

	failure = commit_records(records, n, ids);

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	for (int i = 0; i < n; i++)
	{
		AuditSlot  *slot = &queue->slots[slot_of[i]];

		if (failure)
		{
			slot->state = AUDIT_SLOT_FAILED;
			strlcpy(slot->failure, failure, AUDIT_TEXT_MAX);
		}
		else
		{
			slot->state = AUDIT_SLOT_DONE;
			slot->audit_id = ids[i];
		}
		if (slot->abandoned)
		{
			slot->state = AUDIT_SLOT_FREE;
			freed = true;
		}
	}
	LWLockRelease(queue->lock);
	ConditionVariableBroadcast(&queue->batch_done);
	if (freed)
		ConditionVariableBroadcast(&queue->slot_freed);

	if (failure)
		ereport(WARNING,
				(errmsg("tfguard audit writer could not record %d attempt(s): %s",
						n, failure)));
	else
	{
		for (int i = 0; i < n; i++)
			log_record(ids[i], &records[i]);
		notify_listeners(ids, records, n);
	}
	pfree(records);
}

void
tfguard_audit_writer_main(Datum main_arg)
{
	MemoryContext round_context;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();

	/*
	 * pg_upgrade drops and recreates databases, the home database among
	 * them, and tfguard stands aside while it runs: so does the writer.
	 * Exit code 0 tells the postmaster not to start it again.
	 */
	if (IsBinaryUpgrade)
		proc_exit(0);

	/* counted before connecting: a writer that cannot connect still counts */
	LWLockAcquire(tfguard_audit_queue->lock, LW_EXCLUSIVE);
	tfguard_audit_queue->writer_starts++;
	LWLockRelease(tfguard_audit_queue->lock);

	tfguard_is_audit_writer = true;
	BackgroundWorkerInitializeConnection(tfguard_database, NULL, 0);

	/*
	 * The record must be durable before the client hears the outcome, and
	 * no setting made for the role or database may stop the writer.
	 */
	SetConfigOption("synchronous_commit", "on", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("idle_in_transaction_session_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
#ifdef HAVE_TRANSACTION_TIMEOUT
	SetConfigOption("transaction_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
#endif
	SetConfigOption("search_path", "", PGC_SUSET, PGC_S_OVERRIDE);
	/* ALTER ROLE ... IN DATABASE ... SET role would make it someone else */
	SetConfigOption("role", "none", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("session_replication_role", "origin", PGC_SUSET, PGC_S_OVERRIDE);

	become_the_writer();
	/* the standing rules, from their table into shared memory */
	tfguard_rules_load();

	ereport(LOG,
			(errmsg("tfguard audit writer started in database \"%s\"",
					tfguard_database)));

	round_context = AllocSetContextCreate(TopMemoryContext,
										  "tfguard audit writer",
										  ALLOCSET_DEFAULT_SIZES);
	while (!ShutdownRequestPending)
	{
		MemoryContext old;

		ResetLatch(MyLatch);

		/*
		 * The heartbeat says the writer is not only there but coming round:
		 * a writer stopped (SIGSTOP, a debugger) or stuck in a round keeps
		 * its pid, and guarded operations then fail closed after
		 * tfguard.audit_timeout.  tfguard.writer_status() shows its age.
		 */
		LWLockAcquire(tfguard_audit_queue->lock, LW_EXCLUSIVE);
		tfguard_audit_queue->writer_heartbeat = GetCurrentTimestamp();
		LWLockRelease(tfguard_audit_queue->lock);

		/* absorbs ProcSignalBarriers, which DROP DATABASE waits for */
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		old = MemoryContextSwitchTo(round_context);
		write_pending_records();
		MemoryContextSwitchTo(old);
		MemoryContextReset(round_context);

		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, PG_WAIT_EXTENSION);
	}
	/* exit code 1: the postmaster starts a new writer unless it is shutting down */
	proc_exit(1);
}
