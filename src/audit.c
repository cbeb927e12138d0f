/*-------------------------------------------------------------------------
 *
 * audit.c
 *	  The backend's side of the audit trail: record one attempt, durably,
 *	  before the client hears the outcome.
 *
 * A row written by the refused transaction would roll back with it, so the
 * backend hands the record to the audit writer (audit_writer.c) through
 * shared memory and waits until the writer has committed it in the home
 * database.  Only then does the caller raise the refusal (whose DETAIL
 * names the audit id) or let the operation run.  If the record cannot be
 * committed within tfguard.audit_timeout, the caller fails closed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "commands/extension.h"
#include "commands/dbcommands.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/lock.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "audit.h"
#include "audit_queue.h"
#include "redact.h"

AuditQueue *tfguard_audit_queue = NULL;


/* ---------- shared memory (requested and attached by shmem.c) ---------- */

Size
tfguard_audit_shmem_size(void)
{
	return MAXALIGN(sizeof(AuditQueue));
}

/* Called with AddinShmemInitLock held. */
void
tfguard_audit_shmem_attach(void)
{
	bool		found;

	tfguard_audit_queue = ShmemInitStruct("tfguard audit queue",
										  sizeof(AuditQueue), &found);
	if (!found)
	{
		memset(tfguard_audit_queue, 0, sizeof(AuditQueue));
		tfguard_audit_queue->lock = &(GetNamedLWLockTranche("tfguard"))->lock;
		ConditionVariableInit(&tfguard_audit_queue->slot_freed);
		ConditionVariableInit(&tfguard_audit_queue->batch_done);
	}
}

/* ---------- the record ---------- */

static void
copy_text(char *dest, const char *src, size_t size)
{
	if (src == NULL)
		src = "";
	strlcpy(dest, src, size);
	/* never cut a multibyte character in half */
	dest[pg_mbcliplen(dest, strlen(dest), size - 1)] = '\0';
}

/*
 * The client's IP address as text, empty for Unix-socket connections.
 * Asked of inet_client_addr() so as not to depend on libpq-be.h, whose
 * GSSAPI headers are not part of a server-dev install.
 */
static void
client_address(char *dest, size_t size)
{
	LOCAL_FCINFO(fcinfo, 0);
	Datum		address;

	InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
	address = inet_client_addr(fcinfo);
	if (fcinfo->isnull)
		dest[0] = '\0';
	else
		copy_text(dest, DatumGetCString(DirectFunctionCall1(inet_out, address)),
				  size);
}

static void
fill_record(AuditRecord *record, const AuditEvent *event)
{
	memset(record, 0, sizeof(AuditRecord));
	record->logged_at = GetCurrentTimestamp();
	record->backend_pid = MyProcPid;
	record->backend_start = MyStartTimestamp;
	record->refers_to = event->refers_to;
	record->object_oid = event->object_id;
	record->database_oid = MyDatabaseId;
	record->object_stamp = event->object_stamp;
	record->encoding = GetDatabaseEncoding();
	copy_text(record->operation, event->operation, sizeof(record->operation));
	copy_text(record->decision, event->decision, sizeof(record->decision));
	copy_text(record->database_name, get_database_name(MyDatabaseId),
			  sizeof(record->database_name));
	copy_text(record->session_role,
			  GetUserNameFromId(GetSessionUserId(), true),
			  sizeof(record->session_role));
	copy_text(record->current_role, GetUserNameFromId(GetUserId(), true),
			  sizeof(record->current_role));
	client_address(record->client_addr, sizeof(record->client_addr));
	copy_text(record->application_name, application_name,
			  sizeof(record->application_name));
	copy_text(record->object_name, event->object_name,
			  sizeof(record->object_name));
	copy_text(record->token_id, event->token_id, sizeof(record->token_id));
	copy_text(record->impact, event->impact, sizeof(record->impact));
	/* the secret of an unlock token never reaches the trail */
	copy_text(record->detail,
			  event->detail ? tfguard_redact_tokens(event->detail) : NULL,
			  sizeof(record->detail));
	copy_text(record->statement,
			  debug_query_string ? tfguard_redact_tokens(debug_query_string) : NULL,
			  event->statement_max > 0 && (size_t) event->statement_max < sizeof(record->statement) ?
			  (size_t) event->statement_max + 1 : sizeof(record->statement));
}

/* ---------- the queue, backend side ---------- */

/*
 * The postmaster starts a new writer a second after one exits.  A backend
 * that has seen this many writers start while none got to run (the home
 * database is missing, or the writer keeps failing) stops waiting: waiting
 * the whole tfguard.audit_timeout would only slow the refusal.
 */
#define WRITER_FAILED_STARTS 3

/* Call with the lock held; starts_seen is writer_starts when we began. */
static bool
writer_is_down(uint32 starts_seen)
{
	AuditQueue *queue = tfguard_audit_queue;

	return queue->writer_pid == 0 &&
		queue->writer_starts - starts_seen >= WRITER_FAILED_STARTS;
}

static long
milliseconds_left(TimestampTz deadline)
{
	long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
													   deadline);

	return left > 0 ? left : 0;
}

/*
 * Claim a free slot, waiting for one until the deadline; -1 if none (and
 * *writer_down if the reason is that no writer runs).
 */
static int
claim_slot(const AuditRecord *record, TimestampTz deadline, uint32 starts_seen,
		   bool *writer_down)
{
	AuditQueue *queue = tfguard_audit_queue;
	int			claimed = -1;

	*writer_down = false;
	for (;;)
	{
		LWLockAcquire(queue->lock, LW_EXCLUSIVE);
		*writer_down = writer_is_down(starts_seen);
		for (int i = 0; !*writer_down && i < AUDIT_QUEUE_SLOTS; i++)
		{
			AuditSlot  *slot = &queue->slots[i];

			if (slot->state == AUDIT_SLOT_FREE)
			{
				slot->state = AUDIT_SLOT_PENDING;
				slot->abandoned = false;
				slot->request_no = ++queue->next_request_no;
				slot->audit_id = 0;
				slot->failure[0] = '\0';
				memcpy(&slot->record, record, sizeof(AuditRecord));
				claimed = i;
				break;
			}
		}
		LWLockRelease(queue->lock);

		if (claimed >= 0 || *writer_down || milliseconds_left(deadline) == 0)
			break;
		ConditionVariableTimedSleep(&queue->slot_freed,
									Min(milliseconds_left(deadline), 100),
									PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	return claimed;
}

static void
wake_writer(void)
{
	Latch	   *latch;

	LWLockAcquire(tfguard_audit_queue->lock, LW_SHARED);
	latch = tfguard_audit_queue->writer_latch;
	LWLockRelease(tfguard_audit_queue->lock);
	if (latch)
		SetLatch(latch);
}

/*
 * Give up on a slot: free it if the writer is through with it, otherwise
 * leave it to the writer, which records it anyway and frees it.
 */
static void
abandon_slot(int index)
{
	AuditSlot  *slot = &tfguard_audit_queue->slots[index];
	bool		freed = false;

	LWLockAcquire(tfguard_audit_queue->lock, LW_EXCLUSIVE);
	if (slot->state == AUDIT_SLOT_DONE || slot->state == AUDIT_SLOT_FAILED)
	{
		slot->state = AUDIT_SLOT_FREE;
		freed = true;
	}
	else
		slot->abandoned = true;
	LWLockRelease(tfguard_audit_queue->lock);
	if (freed)
		ConditionVariableBroadcast(&tfguard_audit_queue->slot_freed);
}

/* error and exit cleanup while waiting: the slot must not leak */
static void
abandon_slot_on_error(int code, Datum arg)
{
	abandon_slot(DatumGetInt32(arg));
}

/*
 * Wait until the writer has committed the slot or failed to.  Returns true
 * with the audit id, or false with the reason in "failure".  A cancel or a
 * termination (FATAL) while waiting abandons the slot to the writer.
 */
static bool
await_slot(int index, TimestampTz deadline, uint32 starts_seen,
		   int64 *audit_id, char *failure)
{
	AuditQueue *queue = tfguard_audit_queue;
	AuditSlot  *slot = &queue->slots[index];
	volatile bool finished = false;
	volatile bool recorded = false;

	PG_ENSURE_ERROR_CLEANUP(abandon_slot_on_error, Int32GetDatum(index));
	{
		while (!finished)
		{
			bool		writer_down;

			LWLockAcquire(queue->lock, LW_EXCLUSIVE);
			writer_down = writer_is_down(starts_seen);
			if (slot->state == AUDIT_SLOT_DONE ||
				slot->state == AUDIT_SLOT_FAILED)
			{
				recorded = slot->state == AUDIT_SLOT_DONE;
				*audit_id = slot->audit_id;
				strlcpy(failure, slot->failure, AUDIT_TEXT_MAX);
				slot->state = AUDIT_SLOT_FREE;
				finished = true;
			}
			LWLockRelease(queue->lock);

			if (finished)
				ConditionVariableBroadcast(&queue->slot_freed);
			else if (writer_down || milliseconds_left(deadline) == 0)
			{
				abandon_slot(index);
				if (writer_down)
					strlcpy(failure, "the tfguard audit writer is not running",
							AUDIT_TEXT_MAX);
				else
					snprintf(failure, AUDIT_TEXT_MAX,
							 "the audit writer did not commit the record within tfguard.audit_timeout (%d ms)",
							 tfguard_audit_timeout_ms);
				finished = true;
			}
			else
				ConditionVariableTimedSleep(&queue->batch_done,
											Min(milliseconds_left(deadline), 100),
											PG_WAIT_EXTENSION);
		}
	}
	PG_END_ENSURE_ERROR_CLEANUP(abandon_slot_on_error, Int32GetDatum(index));
	ConditionVariableCancelSleep();
	return recorded;
}

/*
 * Would the writer wait for a lock this session holds on the audit table?
 * Then waiting for the writer would only run out the timeout.
 */
static bool
session_blocks_writer(void)
{
	Oid			audit_table = tfguard_audit_table_oid();
	LOCKTAG		tag;

	if (!OidIsValid(audit_table))
		return false;
	SET_LOCKTAG_RELATION(tag, MyDatabaseId, audit_table);
	return LockHeldByMeExactly(&tag, ShareLock) ||
		LockHeldByMeExactly(&tag, ShareRowExclusiveLock) ||
		LockHeldByMeExactly(&tag, ExclusiveLock) ||
		LockHeldByMeExactly(&tag, AccessExclusiveLock);
}

/*
 * Record one event and wait until it is committed.  Returns true with the
 * audit id; false with the reason in *failure (palloc'd) if the record
 * could not be committed, in which case the caller must fail closed.
 */
bool
tfguard_audit_record(const AuditEvent *event, int64 *audit_id, char **failure)
{
	AuditRecord record;
	TimestampTz deadline;
	int			slot;
	bool		writer_down;
	uint32		starts_seen;
	char		reason[AUDIT_TEXT_MAX];

	*audit_id = 0;
	*failure = NULL;
	if (tfguard_audit_queue == NULL)
	{
		*failure = pstrdup("tfguard's shared memory is not initialized");
		return false;
	}

	/* a standby writes nothing: say so at once, not after the timeout */
	if (RecoveryInProgress())
	{
		*failure = pstrdup("this server is a standby in recovery, which records nothing");
		return false;
	}
	if (tfguard_is_audit_writer)
	{
		/* the writer cannot wait for itself */
		*failure = pstrdup("the audit writer itself attempted a guarded operation");
		return false;
	}
	if (session_blocks_writer())
	{
		*failure = pstrdup("this session holds a lock on tfguard.audit_log that the audit writer would wait for");
		return false;
	}

	fill_record(&record, event);
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   tfguard_audit_timeout_ms);

	LWLockAcquire(tfguard_audit_queue->lock, LW_SHARED);
	starts_seen = tfguard_audit_queue->writer_starts;
	LWLockRelease(tfguard_audit_queue->lock);
	slot = claim_slot(&record, deadline, starts_seen, &writer_down);
	if (slot < 0)
	{
		*failure = writer_down ?
			pstrdup("the tfguard audit writer is not running") :
			psprintf("the audit queue stayed full for tfguard.audit_timeout (%d ms)",
					 tfguard_audit_timeout_ms);
		return false;
	}
	wake_writer();
	if (await_slot(slot, deadline, starts_seen, audit_id, reason))
		return true;
	*failure = pstrdup(reason);
	return false;
}

PG_FUNCTION_INFO_V1(tfguard_queue_depth);
PG_FUNCTION_INFO_V1(tfguard_writer_pid);

/* tfguard.writer_pid(): the audit writer's process id, 0 when none runs. */
Datum
tfguard_writer_pid(PG_FUNCTION_ARGS)
{
	int			pid;

	if (tfguard_audit_queue == NULL)
		PG_RETURN_INT32(0);
	LWLockAcquire(tfguard_audit_queue->lock, LW_SHARED);
	pid = tfguard_audit_queue->writer_pid;
	LWLockRelease(tfguard_audit_queue->lock);
	PG_RETURN_INT32(pid);
}

/* tfguard.queue_depth(): records waiting for, or being written by, the writer. */
Datum
tfguard_queue_depth(PG_FUNCTION_ARGS)
{
	int			depth = 0;

	if (tfguard_audit_queue == NULL)
		PG_RETURN_NULL();
	LWLockAcquire(tfguard_audit_queue->lock, LW_SHARED);
	for (int i = 0; i < AUDIT_QUEUE_SLOTS; i++)
	{
		if (tfguard_audit_queue->slots[i].state == AUDIT_SLOT_PENDING ||
			tfguard_audit_queue->slots[i].state == AUDIT_SLOT_WRITING)
			depth++;
	}
	LWLockRelease(tfguard_audit_queue->lock);
	PG_RETURN_INT32(depth);
}

PG_FUNCTION_INFO_V1(tfguard_writer_status);

/*
 * tfguard.writer_status(): whether the audit writer is coming round, not
 * only whether it exists.  A writer stopped or stuck keeps its pid while
 * guarded operations fail closed after tfguard.audit_timeout; its
 * heartbeat (at least once a second) and the oldest record waiting for it
 * say so.  pid is 0 and last_heartbeat that of the last writer while none
 * runs; oldest_queued is NULL when nothing waits.
 */
Datum
tfguard_writer_status(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	int			pid;
	TimestampTz heartbeat;
	TimestampTz oldest = 0;
	int			depth = 0;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (tfguard_audit_queue == NULL)
		PG_RETURN_NULL();

	LWLockAcquire(tfguard_audit_queue->lock, LW_SHARED);
	pid = tfguard_audit_queue->writer_pid;
	heartbeat = tfguard_audit_queue->writer_heartbeat;
	for (int i = 0; i < AUDIT_QUEUE_SLOTS; i++)
	{
		AuditSlot  *slot = &tfguard_audit_queue->slots[i];

		if (slot->state != AUDIT_SLOT_PENDING && slot->state != AUDIT_SLOT_WRITING)
			continue;
		depth++;
		/* a record is stamped just before it is queued */
		if (oldest == 0 || slot->record.logged_at < oldest)
			oldest = slot->record.logged_at;
	}
	LWLockRelease(tfguard_audit_queue->lock);

	values[0] = Int32GetDatum(pid);
	values[1] = TimestampTzGetDatum(heartbeat);
	nulls[1] = heartbeat == 0;
	values[2] = Int32GetDatum(depth);
	values[3] = TimestampTzGetDatum(oldest);
	nulls[3] = depth == 0;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/* Record an event, or raise an error saying it could not be recorded. */
int64
tfguard_audit_event_or_error(const AuditEvent *event)
{
	int64		audit_id;
	char	   *failure;

	if (!tfguard_audit_record(event, &audit_id, &failure))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("tfguard could not record %s in the audit trail", event->operation),
				 errdetail("%s.", failure)));
	return audit_id;
}

/* ---------- the audit table, as seen from the home database ---------- */

/* see tfguard_audit_table_oid() in audit.h */
Oid			tfguard_audit_table_cached = InvalidOid;
bool		tfguard_audit_table_known = false;

static void
forget_audit_table(Datum arg, Oid relid)
{
	/* with no audit table known, any new relation may be it */
	if (relid == InvalidOid || relid == tfguard_audit_table_cached ||
		!OidIsValid(tfguard_audit_table_cached))
		tfguard_audit_table_known = false;
}

static void
forget_audit_table_namespace(Datum arg, int cacheid, uint32 hashvalue)
{
	tfguard_audit_table_known = false;
}

static bool
in_home_database(void)
{
	static int	home = -1;

	if (home < 0)
		home = strcmp(get_database_name(MyDatabaseId), tfguard_database) == 0;
	return home == 1;
}

/*
 * True while CREATE EXTENSION tfguard runs its own script, which creates
 * and indexes the audit table.
 */
bool
tfguard_running_own_script(void)
{
	return creating_extension &&
		get_extension_oid("tfguard", true) == CurrentExtensionObject;
}

/* The slow path of tfguard_audit_table_oid(): look it up and keep it. */
Oid
tfguard_audit_table_lookup(void)
{
	static bool callbacks_registered = false;
	Oid			nspid;

	/* a walsender or other process without a database has no audit table */
	if (!OidIsValid(MyDatabaseId))
		return InvalidOid;
	/* elsewhere there is none, for good: nothing to watch */
	if (!in_home_database())
	{
		tfguard_audit_table_cached = InvalidOid;
		tfguard_audit_table_known = true;
		return InvalidOid;
	}
	if (!callbacks_registered)
	{
		CacheRegisterRelcacheCallback(forget_audit_table, (Datum) 0);
		CacheRegisterSyscacheCallback(NAMESPACEOID,
									  forget_audit_table_namespace, (Datum) 0);
		callbacks_registered = true;
	}
	nspid = get_namespace_oid("tfguard", true);
	tfguard_audit_table_cached = OidIsValid(nspid) ?
		get_relname_relid("audit_log", nspid) : InvalidOid;
	tfguard_audit_table_known = true;
	return tfguard_audit_table_cached;
}
