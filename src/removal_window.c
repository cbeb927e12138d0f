/*-------------------------------------------------------------------------
 *
 * removal_window.c
 *	  How many rows each role removed from each table within the last
 *	  tfguard.window, net of the rows it added: shared by every session, so
 *	  that batches in separate transactions add up.
 *
 * A shared hash table, one entry per (database, table, role), sized by
 * tfguard.window_entries.  Each entry counts in six buckets of a sixth of
 * the window, so the window slides: what is summed is the last six
 * buckets, never less than five sixths of the window back.
 *
 * A transaction adds its net removal before it commits (PRE_COMMIT), and
 * is judged against what the others added before it, under the entry's
 * lock, so two sessions committing at once cannot both pass on the same
 * count; if it then aborts, its addition is taken back.  Rows added make
 * no entry of their own, only lessen one (a queue's workers insert and
 * delete all day and lose nothing).  When no entry is free, entries that
 * count nothing (expired, or net nothing removed) are reused; when none
 * is, a removal that needs one is refused (fail closed).
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
#define WINDOW_BUCKETS 6

typedef struct WindowKey
{
	Oid			database;
	Oid			relid;
	Oid			role;
} WindowKey;

typedef struct WindowEntry
{
	WindowKey	key;
	int64		bucket_of[WINDOW_BUCKETS];	/* which bucket of time each
											 * slot counts */
	int64		removed[WINDOW_BUCKETS];	/* net: rows removed less rows
											 * added */
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

/* The bucket of time now falls in: a sixth of the window each. */
static int64
current_bucket(void)
{
	int64		length = Max(tfguard_window_s / WINDOW_BUCKETS, 1);

	return (int64) (GetCurrentTimestamp() / USECS_PER_SEC) / length;
}

/* The entry's net removal over the last WINDOW_BUCKETS buckets. */
static int64
entry_total(const WindowEntry *entry, int64 now)
{
	int64		total = 0;

	for (int i = 0; i < WINDOW_BUCKETS; i++)
	{
		if (entry->bucket_of[i] > now - WINDOW_BUCKETS)
			total += entry->removed[i];
	}
	return total;
}

/* Count into the bucket of now, starting it afresh if it held an old one. */
static void
entry_add(WindowEntry *entry, int64 now, int64 removed)
{
	int			slot = (int) (now % WINDOW_BUCKETS);

	if (entry->bucket_of[slot] != now)
	{
		entry->bucket_of[slot] = now;
		entry->removed[slot] = 0;
	}
	entry->removed[slot] += removed;
}

/* The rows "role" removed from the table, net, within the window: 0 if none. */
int64
tfguard_window_removed(Oid relid, Oid role)
{
	WindowKey	key = key_of(relid, role);
	WindowEntry *entry;
	int64		removed = 0;

	if (!tfguard_window_may_hold(relid))
		return 0;
	LWLockAcquire(window->lock, LW_SHARED);
	entry = hash_search(entries, &key, HASH_FIND, NULL);
	if (entry != NULL)
		removed = entry_total(entry, current_bucket());
	LWLockRelease(window->lock);
	return removed;
}

/*
 * Make room: forget every entry that counts nothing now (its buckets are
 * old, or what the role removed it also added).  Called with the lock
 * held.
 */
static void
forget_idle(int64 now)
{
	HASH_SEQ_STATUS status;
	WindowEntry *entry;

	hash_seq_init(&status, entries);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		if (entry_total(entry, now) <= 0)
		{
			hash_search(entries, &entry->key, HASH_REMOVE, NULL);
			window->nentries--;
		}
	}
}

/*
 * Count "removed" (negative: added) rows of the table against the role;
 * *before (if not NULL) is what the window counted before.  Rows added
 * make no entry of their own.  False if an entry was needed and none was
 * free.
 */
bool
tfguard_window_add(Oid relid, Oid role, int64 removed, int64 *before)
{
	WindowKey	key = key_of(relid, role);
	int64		now = current_bucket();
	WindowEntry *entry;
	bool		found;

	if (before != NULL)
		*before = 0;
	if (window == NULL || tfguard_window_s <= 0 || removed == 0)
		return true;
	if (removed < 0 && !filter_may_hold(relid))
		return true;

	LWLockAcquire(window->lock, LW_EXCLUSIVE);
	entry = hash_search(entries, &key, HASH_FIND, NULL);
	if (entry == NULL && removed > 0)
	{
		if (window->nentries >= tfguard_window_entries)
			forget_idle(now);
		if (window->nentries < tfguard_window_entries)
		{
			entry = hash_search(entries, &key, HASH_ENTER_NULL, &found);
			if (entry != NULL)
			{
				uint32		bit = relid % WINDOW_FILTER_BITS;

				memset(entry->bucket_of, 0, sizeof(entry->bucket_of));
				memset(entry->removed, 0, sizeof(entry->removed));
				window->nentries++;
				window->filter[bit / 8] |= 1 << (bit % 8);
			}
		}
	}
	if (entry != NULL)
	{
		if (before != NULL)
			*before = entry_total(entry, now);
		entry_add(entry, now, removed);
	}
	LWLockRelease(window->lock);
	return entry != NULL || removed < 0;
}
