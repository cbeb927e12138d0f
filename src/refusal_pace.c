/*-------------------------------------------------------------------------
 *
 * refusal_pace.c
 *	  Slow down clients that loop on a refusal, so that they cannot flood
 *	  the audit trail, the disk or the server log.
 *
 * pg_repack retries its last step forever, from a new connection each
 * time, and an agent in a loop, or two hundred of them, retries as fast
 * as the server refuses: every refusal is a durable audit row and a
 * server log entry.  Counted per role, in shared memory (so one-shot
 * connections count too), two paces:
 *
 * - a role refused the same operation on the same object again within a
 *   minute of the last time waits before its next statement: 0.1 s,
 *   doubling with each repeat up to 10 s;
 * - a role refused more than PACE_ROLE_BURST times within 10 s, whatever
 *   it tried, waits 0.1 s, doubling with each further ten refusals, up
 *   to 10 s.
 *
 * The role is the one whose rights the refused statement ran with (a
 * SECURITY DEFINER function's owner, not the caller).  The wait comes at
 * the start of the role's next top-level statement, in any of its
 * sessions, outside a transaction block (or in a failed one), never at
 * the refusal itself: the refused statement, and the statements before it
 * in an open transaction, may hold locks that other sessions wait for
 * (pg_repack's holds its table's ACCESS EXCLUSIVE lock), and those go when
 * the transaction ends.  A DML statement or query has taken the weak locks
 * of parse analysis (ACCESS SHARE, ROW EXCLUSIVE) by the time it reaches
 * the ExecutorStart hook: DDL on its tables waits behind it, up to the
 * wait's 10 s, as behind any slow query.  A refusal
 * is still refused and recorded at once; repeats are recorded with the
 * start of their statement only, and without the statement in the server
 * log (the first one had it whole).  Ordinary statements are not delayed
 * and pay one read of shared memory; other roles are not delayed at all.
 * A loop inside one statement (PL/pgSQL catching each refusal), or inside
 * one transaction (a savepoint around each statement), never reaches a
 * wait: more than PACE_STATEMENT_REFUSALS refusals in one top-level
 * statement or one transaction end the session (decide.c), after the last
 * is recorded.  tfguard.refusal_pace = off turns it all off.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "port/atomics.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/timestamp.h"

#include "refusal_pace.h"

#define PACE_REPEAT_WINDOW_MS (60 * 1000)	/* "the same refusal again" */
#define PACE_FIRST_DELAY_MS 100
#define PACE_MAX_DELAY_MS (10 * 1000)
#define PACE_WINDOW_BUCKETS 5
#define PACE_BUCKET_MS (2 * 1000)	/* a role's window: 10 s */
#define PACE_ROLE_BURST 20
#define PACE_ENTRIES 128

/*
 * One role's refusals: all of them (key 0), counted in a sliding window,
 * or those of one operation on one object (key != 0), counted as repeats.
 */
typedef struct PaceEntry
{
	Oid			role;
	uint64		key;
	TimestampTz last_at;
	int			repeats;		/* key != 0: of the same refusal, each within a
								 * minute of the one before */
	int64		bucket;			/* key 0: the newest bucket's number */
	int			counts[PACE_WINDOW_BUCKETS];
	TimestampTz wait_until;		/* the role's sessions start nothing before */
} PaceEntry;

typedef struct PaceTable
{
	LWLock	   *lock;
	pg_atomic_uint32 waits;		/* entries whose wait_until may be ahead */
	PaceEntry	entries[PACE_ENTRIES];
} PaceTable;

static PaceTable *pace_table = NULL;

bool		tfguard_refusal_pace = true;

/* how long this session waited before the statement now running */
static int	waited_ms = 0;

/* refusals of the top-level statement, and of the transaction, that started then */
static TimestampTz counted_statement = 0;
static int	statement_refusals = 0;
static TimestampTz counted_transaction = 0;
static int	transaction_refusals = 0;

/* ---------- shared memory (requested and attached by shmem.c) ---------- */

Size
tfguard_pace_shmem_size(void)
{
	return MAXALIGN(sizeof(PaceTable));
}

/* Called with AddinShmemInitLock held. */
void
tfguard_pace_shmem_attach(void)
{
	bool		found;

	pace_table = ShmemInitStruct("tfguard refusal pace", sizeof(PaceTable), &found);
	if (!found)
	{
		memset(pace_table, 0, sizeof(PaceTable));
		pace_table->lock = &(GetNamedLWLockTranche("tfguard refusal pace"))->lock;
		pg_atomic_init_u32(&pace_table->waits, 0);
	}
}

bool
tfguard_pace_roles_paced(void)
{
	return pace_table != NULL && pg_atomic_read_u32(&pace_table->waits) > 0;
}

static int
doubling_delay(int steps)
{
	int64		delay = PACE_FIRST_DELAY_MS;

	while (steps-- > 0 && delay < PACE_MAX_DELAY_MS)
		delay *= 2;
	return (int) Min(delay, PACE_MAX_DELAY_MS);
}

/* The role's entry for the key; made (in the place of the stalest) if new. */
static PaceEntry *
pace_entry(Oid role, uint64 key)
{
	PaceEntry  *stalest = NULL;

	for (int i = 0; i < PACE_ENTRIES; i++)
	{
		PaceEntry  *each = &pace_table->entries[i];

		if (each->role == role && each->key == key && each->last_at != 0)
			return each;
		if (stalest == NULL || each->last_at < stalest->last_at)
			stalest = each;
	}
	if (stalest->wait_until != 0)
		pg_atomic_fetch_sub_u32(&pace_table->waits, 1);
	memset(stalest, 0, sizeof(PaceEntry));
	stalest->role = role;
	stalest->key = key;
	return stalest;
}

static void
wait_until(PaceEntry *entry, TimestampTz now, int delay_ms)
{
	if (entry->wait_until == 0)
		pg_atomic_fetch_add_u32(&pace_table->waits, 1);
	entry->wait_until = Max(entry->wait_until,
							TimestampTzPlusMilliseconds(now, delay_ms));
}

/* Count a refusal among the role's; returns how many are in the window. */
static int
count_in_window(PaceEntry *entry, TimestampTz now)
{
	int64		bucket = (now / 1000) / PACE_BUCKET_MS;
	int			total = 0;

	if (entry->last_at == 0 || bucket - entry->bucket >= PACE_WINDOW_BUCKETS)
		memset(entry->counts, 0, sizeof(entry->counts));
	else
		for (int64 b = entry->bucket + 1; b <= bucket; b++)
			entry->counts[b % PACE_WINDOW_BUCKETS] = 0;
	entry->bucket = Max(entry->bucket, bucket);
	entry->counts[bucket % PACE_WINDOW_BUCKETS]++;
	entry->last_at = now;
	for (int i = 0; i < PACE_WINDOW_BUCKETS; i++)
		total += entry->counts[i];
	return total;
}

/*
 * Called by the decision point for every refusal it is about to raise:
 * counts it (in every session of the role: one-shot clients connect anew
 * for each retry), sets the role's wait if it repeats or floods, and says
 * so for the trail.
 */
void
tfguard_pace_refusal(GuardedOperation operation, Oid object_id,
					 const char *object_name, RefusalPace *pace)
{
	TimestampTz now = GetCurrentTimestamp();

	/*
	 * The role whose rights the refused statement ran with: a SECURITY
	 * DEFINER function's owner, not a victim who called it through a view.
	 */
	Oid			role = GetUserId();
	uint64		key = (((uint64) operation + 1) << 48) ^ object_id ^
		((uint64) hash_bytes((const unsigned char *) object_name,
							 strlen(object_name)) << 16);
	PaceEntry  *entry;

	memset(pace, 0, sizeof(RefusalPace));
	pace->waited_ms = waited_ms;
	waited_ms = 0;
	if (pace_table == NULL || !tfguard_refusal_pace)
		return;

	/*
	 * A loop inside one statement (PL/pgSQL catching each refusal) never
	 * reaches the next statement's wait: counted here instead.
	 */
	if (GetCurrentStatementStartTimestamp() != counted_statement)
	{
		counted_statement = GetCurrentStatementStartTimestamp();
		statement_refusals = 0;
	}
	/* ... or in one transaction, with a savepoint around each statement */
	if (GetCurrentTransactionStartTimestamp() != counted_transaction)
	{
		counted_transaction = GetCurrentTransactionStartTimestamp();
		transaction_refusals = 0;
	}
	statement_refusals++;
	transaction_refusals++;
	pace->statement_refusals = Max(statement_refusals, transaction_refusals);

	LWLockAcquire(pace_table->lock, LW_EXCLUSIVE);
	entry = pace_entry(role, key);
	if (entry->last_at != 0 &&
		!TimestampDifferenceExceeds(entry->last_at, now, PACE_REPEAT_WINDOW_MS))
		entry->repeats++;
	else
		entry->repeats = 0;
	entry->last_at = now;
	pace->repeats = entry->repeats;
	if (entry->repeats > 0)
	{
		pace->next_delay_ms = doubling_delay(entry->repeats - 1);
		wait_until(entry, now, pace->next_delay_ms);
	}

	entry = pace_entry(role, 0);
	pace->role_refusals = count_in_window(entry, now);
	if (pace->role_refusals > PACE_ROLE_BURST)
	{
		int			delay = doubling_delay((pace->role_refusals - PACE_ROLE_BURST - 1) / 10);

		pace->next_delay_ms = Max(pace->next_delay_ms, delay);
		wait_until(entry, now, delay);
	}
	LWLockRelease(pace_table->lock);
}

/* The detail a paced refusal adds to its audit row, or NULL. */
char *
tfguard_pace_detail(const RefusalPace *pace)
{
	if (pace->repeats == 0 && pace->role_refusals <= PACE_ROLE_BURST)
		return NULL;
	return psprintf("repeat %d of the same refusal of the role within a minute of the last, %d refusals of the role in %d s; the session waited %d ms before this statement, and the role's next waits %d ms",
					pace->repeats, pace->role_refusals,
					PACE_WINDOW_BUCKETS * PACE_BUCKET_MS / 1000, pace->waited_ms,
					pace->next_delay_ms);
}

/*
 * Is this the top-level statement?  Statements that functions run have
 * their own text; the client's is debug_query_string (a copy of it, for
 * the extended protocol).  Asked only when a wait is due.
 */
static bool
is_top_level(const char *source_text)
{
	return source_text != NULL && debug_query_string != NULL &&
		(source_text == debug_query_string ||
		 strcmp(source_text, debug_query_string) == 0);
}

/*
 * Called at the start of a statement while a wait is due (see
 * tfguard_pace_due() in refusal_pace.h): wait it out, interruptibly.
 */
void
tfguard_pace_wait(const char *source_text)
{
	TimestampTz start = GetCurrentTimestamp();
	TimestampTz until = 0;
	TimestampTz now;
	Oid			role = GetUserId();

	waited_ms = 0;
	if (!tfguard_refusal_pace || !is_top_level(source_text))
		return;

	/*
	 * Inside an open transaction block, earlier statements may hold locks
	 * others wait for: wait only where the statement starts a transaction
	 * of its own, or the block has failed (and let its locks go).
	 */
	if (IsTransactionBlock() && !IsAbortedTransactionBlockState())
		return;

	LWLockAcquire(pace_table->lock, LW_EXCLUSIVE);
	for (int i = 0; i < PACE_ENTRIES; i++)
	{
		PaceEntry  *each = &pace_table->entries[i];

		if (each->wait_until == 0)
			continue;
		if (each->wait_until <= start)
		{
			/* its time is over */
			each->wait_until = 0;
			pg_atomic_fetch_sub_u32(&pace_table->waits, 1);
		}
		else if (each->role == role)
			until = Max(until, each->wait_until);
	}
	LWLockRelease(pace_table->lock);

	while ((now = GetCurrentTimestamp()) < until)
	{
		long		ms = Min((until - now) / 1000 + 1, PACE_MAX_DELAY_MS);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		/* a cancel, statement_timeout or termination ends the wait */
		CHECK_FOR_INTERRUPTS();
	}
	waited_ms = (int) ((GetCurrentTimestamp() - start) / 1000);
}
