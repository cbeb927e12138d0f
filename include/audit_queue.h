/*-------------------------------------------------------------------------
 *
 * audit_queue.h
 *	  The shared-memory queue between backends and the audit writer.
 *
 * A backend that meets a guarded attempt claims a free slot, fills in the
 * record, wakes the writer and sleeps until the writer has committed the
 * record (DONE, with its audit id) or could not (FAILED, with a reason).
 * The writer takes every PENDING slot at once and commits them in one
 * transaction, so concurrent attempts share a commit.  A backend that
 * stops waiting (timeout, cancel) marks its slot abandoned; the writer
 * still records it and frees the slot itself.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_AUDIT_QUEUE_H
#define TFGUARD_AUDIT_QUEUE_H

#include "datatype/timestamp.h"
#include "storage/condition_variable.h"
#include "storage/latch.h"
#include "storage/lwlock.h"

#include "tfguard.h"

#define AUDIT_QUEUE_SLOTS 64
#define AUDIT_STATEMENT_MAX 4096
#define AUDIT_TEXT_MAX 256

typedef enum AuditSlotState
{
	AUDIT_SLOT_FREE,
	AUDIT_SLOT_PENDING,			/* filled in, waiting for the writer */
	AUDIT_SLOT_WRITING,			/* taken by the writer's current batch */
	AUDIT_SLOT_DONE,			/* committed: audit_id is valid */
	AUDIT_SLOT_FAILED			/* not recorded: failure says why */
} AuditSlotState;

/* One row of tfguard.audit_log, as the backend saw the attempt. */
typedef struct AuditRecord
{
	TimestampTz logged_at;
	int			backend_pid;
	TimestampTz backend_start;
	int64		refers_to;
	Oid			object_oid;		/* the attempt's relation or database */
	Oid			database_oid;	/* where the attempt was made */
	TransactionId object_stamp; /* raw xmin of the object's catalog row */
	int			encoding;		/* of the database the texts come from */
	char		operation[32];
	char		decision[16];
	char		database_name[NAMEDATALEN];
	char		session_role[NAMEDATALEN];
	char		current_role[NAMEDATALEN];
	char		client_addr[64];	/* empty for Unix-socket connections */
	char		application_name[NAMEDATALEN];
	char		object_name[TFGUARD_OBJECT_NAME_MAX];
	char		token_id[64];
	char		detail[AUDIT_TEXT_MAX];
	char		impact[AUDIT_TEXT_MAX * 2];
	char		statement[AUDIT_STATEMENT_MAX];
} AuditRecord;

typedef struct AuditSlot
{
	AuditSlotState state;
	bool		abandoned;		/* the backend stopped waiting */
	uint64		request_no;		/* order of arrival */
	int64		audit_id;		/* when DONE */
	char		failure[AUDIT_TEXT_MAX];	/* when FAILED */
	AuditRecord record;
} AuditSlot;

typedef struct AuditQueue
{
	LWLock	   *lock;			/* protects everything below */
	pid_t		writer_pid;		/* 0 while no writer runs */
	uint32		writer_starts;	/* writers started, connected or not */
	Latch	   *writer_latch;
	TimestampTz writer_heartbeat;	/* when the writer last came round its
									 * loop (at least once a second); 0
									 * before the first */
	uint64		next_request_no;
	ConditionVariable slot_freed;	/* a slot became FREE */
	ConditionVariable batch_done;	/* slots became DONE or FAILED */
	AuditSlot	slots[AUDIT_QUEUE_SLOTS];
} AuditQueue;

extern AuditQueue *tfguard_audit_queue;

#endif							/* TFGUARD_AUDIT_QUEUE_H */
