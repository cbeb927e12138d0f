/*-------------------------------------------------------------------------
 *
 * removal_window.c
 *	  How many rows each role removed from each table within tfguard.window,
 *	  net of the rows it added: shared by every session, so that batches in
 *	  separate transactions add up.
 *
 * A fixed table in shared memory, one entry per (database, table, role),
 * written at the commit of each transaction that removed rows from a
 * guarded table (and, once an entry exists, of those that added rows to
 * it: a queue's workers insert and delete all day and lose nothing).  An
 * entry's window starts with its first count and ends tfguard.window
 * later; an expired entry is reused.  When no entry is free, a removal
 * that needs one is refused (fail closed): the table is sized by
 * tfguard.window_entries.
 *
 * A filter of one bit per table OID (modulo its size), set when an entry
 * is made and never cleared, lets a transaction that only inserted skip
 * the lookup when no role removed anything from that table: one memory
 * read.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "removal_window.h"

#define WINDOW_FILTER_BITS 65536

typedef struct WindowKey
{
	Oid			database;
	Oid			relid;
	Oid			role;
} WindowKey;

typedef struct WindowEntry
{
	WindowKey	key;
	TimestampTz started;
	int64		removed;		/* net: rows removed less rows added */
} WindowEntry;

typedef struct RemovalWindow
{
	LWLock	   *lock;
	int			nentries;		/* in the hash table; at most
								 * tfguard.window_entries (a shared hash
								 * table would grow past its size) */
	uint8		filter[WINDOW_FILTER_BITS / 8];
} RemovalWindow;

static RemovalWindow *window = NULL;
static HTAB *entries = NULL;

int			tfguard_window_s = 3600;
int			tfguard_window_entries = 4096;

Size
tfguard_window_shmem_size(void)
{
	return add_size(MAXALIGN(sizeof(RemovalWindow)),
					hash_estimate_size(tfguard_window_entries, sizeof(WindowEntry)));
}

void
tfguard_window_shmem_attach(void)
{
	bool		found;
	HASHCTL		info;

	window = ShmemInitStruct("tfguard removal window", sizeof(RemovalWindow), &found);
	if (!found)
	{
		memset(window, 0, sizeof(RemovalWindow));
		window->lock = &(GetNamedLWLockTranche("tfguard removal window"))->lock;
	}
	info.keysize = sizeof(WindowKey);
	info.entrysize = sizeof(WindowEntry);
	entries = ShmemInitHash("tfguard removal window entries",
							tfguard_window_entries, tfguard_window_entries,
							&info, HASH_ELEM | HASH_BLOBS);
}

static inline bool
filter_may_hold(Oid relid)
{
	uint32		bit = relid % WINDOW_FILTER_BITS;

	return (window->filter[bit / 8] & (1 << (bit % 8))) != 0;
}

bool
tfguard_window_may_hold(Oid relid)
{
	return window != NULL && tfguard_window_s > 0 && filter_may_hold(relid);
}

static inline WindowKey
key_of(Oid relid, Oid role)
{
	WindowKey	key;

	memset(&key, 0, sizeof(key));
	key.database = MyDatabaseId;
	key.relid = relid;
	key.role = role;
	return key;
}

static inline bool
entry_expired(const WindowEntry *entry, TimestampTz now)
{
	return TimestampDifferenceExceeds(entry->started, now, tfguard_window_s * 1000);
}

/* The rows "role" removed from the table, net, within the window: 0 if none. */
int64
tfguard_window_removed(Oid relid, Oid role)
{
	TimestampTz now = GetCurrentTimestamp();
	WindowKey	key = key_of(relid, role);
	WindowEntry *entry;
	int64		removed = 0;

	if (!tfguard_window_may_hold(relid))
		return 0;
	LWLockAcquire(window->lock, LW_SHARED);
	entry = hash_search(entries, &key, HASH_FIND, NULL);
	if (entry != NULL && !entry_expired(entry, now))
		removed = entry->removed;
	LWLockRelease(window->lock);
	return removed;
}

/* Make room: forget every expired entry.  Called with the lock held. */
static void
forget_expired(TimestampTz now)
{
	HASH_SEQ_STATUS status;
	WindowEntry *entry;

	hash_seq_init(&status, entries);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		if (entry_expired(entry, now))
		{
			hash_search(entries, &entry->key, HASH_REMOVE, NULL);
			window->nentries--;
		}
	}
}

/*
 * Count "removed" (negative: added) rows of the table against the role.
 * Rows added make no entry of their own.  False if an entry was needed and
 * none was free.
 */
bool
tfguard_window_add(Oid relid, Oid role, int64 removed)
{
	TimestampTz now = GetCurrentTimestamp();
	WindowKey	key = key_of(relid, role);
	WindowEntry *entry;
	bool		found;

	if (window == NULL || tfguard_window_s <= 0 || removed == 0)
		return true;
	if (removed < 0 && !filter_may_hold(relid))
		return true;

	LWLockAcquire(window->lock, LW_EXCLUSIVE);
	if (removed < 0)
	{
		entry = hash_search(entries, &key, HASH_FIND, NULL);
		if (entry != NULL && !entry_expired(entry, now))
			entry->removed += removed;
		LWLockRelease(window->lock);
		return true;
	}
	entry = hash_search(entries, &key, HASH_FIND, NULL);
	found = entry != NULL;
	if (!found && window->nentries >= tfguard_window_entries)
		forget_expired(now);
	if (!found && window->nentries < tfguard_window_entries)
	{
		entry = hash_search(entries, &key, HASH_ENTER_NULL, &found);
		if (entry != NULL)
			window->nentries++;
	}
	if (entry != NULL)
	{
		uint32		bit = relid % WINDOW_FILTER_BITS;

		if (!found || entry_expired(entry, now))
		{
			entry->started = now;
			entry->removed = 0;
		}
		entry->removed += removed;
		window->filter[bit / 8] |= 1 << (bit % 8);
	}
	LWLockRelease(window->lock);
	return entry != NULL;
}
