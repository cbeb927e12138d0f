/*-------------------------------------------------------------------------
 *
 * unlock_store.c
 *	  Tokens and approvals in shared memory.
 *
 * The guard runs in every database, and the home database's tables are
 * not reachable from the others, so the unlocks live in shared memory: a
 * fixed table under one LWLock, holding for a token the SHA-256 of its
 * secret, never the secret.  Unlocks do not survive a restart (or a
 * failover: a standby's memory is its own).
 *
 * This is the only file that takes the table's lock.  Under it, entries
 * are only found, copied or flagged: nothing that can fail or wait (a
 * catalog lookup, an audit record) runs while it is held.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "miscadmin.h"
#include "mb/pg_wchar.h"
#include "storage/lwlock.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "unlock_store.h"

typedef struct UnlockTable
{
	LWLock	   *lock;
	UnlockEntry entries[MAX_UNLOCKS];
} UnlockTable;

static UnlockTable *unlock_table = NULL;

/* ---------- shared memory (requested and attached by shmem.c) ---------- */

Size
tfguard_unlock_store_shmem_size(void)
{
	return MAXALIGN(sizeof(UnlockTable));
}

/* Called with AddinShmemInitLock held. */
void
tfguard_unlock_store_shmem_attach(void)
{
	bool		found;

	unlock_table = ShmemInitStruct("tfguard tokens", sizeof(UnlockTable), &found);
	if (!found)
	{
		memset(unlock_table, 0, sizeof(UnlockTable));
		unlock_table->lock = &(GetNamedLWLockTranche("tfguard tokens"))->lock;
	}
}

/* False in a server that did not preload tfguard. */
bool
tfguard_unlock_store_ready(void)
{
	return unlock_table != NULL;
}

/* ---------- secrets ---------- */

static void
random_hex(char *dest, int nbytes)
{
	uint8		bytes[TOKEN_SECRET_BYTES];

	Assert(nbytes <= TOKEN_SECRET_BYTES);
	if (!pg_strong_random(bytes, nbytes))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random unlock token")));
	for (int i = 0; i < nbytes; i++)
		sprintf(dest + 2 * i, "%02x", bytes[i]);
}

/* A new secret: the prefix and 160 random bits in hex (TOKEN_SECRET_LEN). */
void
tfguard_new_token_secret(char *secret)
{
	strcpy(secret, TFGUARD_TOKEN_PREFIX);
	random_hex(secret + strlen(TFGUARD_TOKEN_PREFIX), TOKEN_SECRET_BYTES);
}

/* Is it the shape of a secret: the prefix and 40 lowercase hex digits? */
bool
tfguard_looks_like_secret(const char *value)
{
	size_t		prefix = strlen(TFGUARD_TOKEN_PREFIX);

	if (strncmp(value, TFGUARD_TOKEN_PREFIX, prefix) != 0 ||
		strlen(value) != prefix + 2 * TOKEN_SECRET_BYTES)
		return false;
	for (const char *p = value + prefix; *p; p++)
	{
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	}
	return true;
}

void
tfguard_hash_secret(const char *secret, uint8 *hash)
{
	if (!tfguard_sha256((const uint8 *) secret, strlen(secret), hash))
		elog(ERROR, "could not compute SHA-256");
}

/*
 * What a drop_column approval binds to besides the table: the column, by
 * a 64-bit hash of its quoted name (not its number: the refusal may have
 * been made in another database than the approval).
 */
uint64
tfguard_column_hash(const char *quoted_column)
{
	uint64		hash = hash_bytes_extended((const unsigned char *) quoted_column,
										   (int) strlen(quoted_column), 0);

	return hash == 0 ? 1 : hash;
}

/* ---------- entries ---------- */

/* Start an entry: what every token and approval has. */
void
tfguard_unlock_entry_init(UnlockEntry *entry, double ttl_s, const char *reason)
{
	TimestampTz now = GetCurrentTimestamp();

	memset(entry, 0, sizeof(UnlockEntry));
	entry->in_use = true;
	random_hex(entry->id, UNLOCK_ID_BYTES);
	strlcpy(entry->issued_by, GetUserNameFromId(GetUserId(), false), NAMEDATALEN);
	entry->issued_at = now;
	/* see identity.c */
	entry->issued_xid = GetOldestActiveTransactionId();
	entry->expires_at = TimestampTzPlusMilliseconds(now, (int64) (ttl_s * 1000));
	strlcpy(entry->reason, reason ? reason : "", sizeof(entry->reason));
	/* never cut a multibyte character in half */
	entry->reason[pg_mbcliplen(entry->reason, strlen(entry->reason),
							   sizeof(entry->reason) - 1)] = '\0';
	entry->encoding = GetDatabaseEncoding();
}

bool
tfguard_unlock_pinned_here(const UnlockEntry *entry)
{
	return entry->pinned_pid == MyProcPid &&
		entry->pinned_start == MyStartTimestamp;
}

/* Why this session cannot use the unlock now, or NULL if it can. */
const char *
tfguard_unlock_unusable_reason(const UnlockEntry *entry)
{
	if (entry->revoked)
		return "it was revoked";
	if (GetCurrentTimestamp() >= entry->expires_at)
		return "it has expired";
	if (entry->role != GetSessionUserId())
		return "it was issued for another role";
	if (OidIsValid(entry->database) && entry->database != MyDatabaseId)
		return "it was issued for another database";
	if (entry->pinned_pid != 0 && !tfguard_unlock_pinned_here(entry))
		return "it was already presented by another session";
	return NULL;
}

static bool
entry_is_live(const UnlockEntry *entry, TimestampTz now)
{
	return entry->in_use && !entry->revoked && entry->expires_at > now;
}

/* Under the lock: the entry with this id, or NULL. */
static UnlockEntry *
find_by_id(const char *id)
{
	for (int i = 0; i < MAX_UNLOCKS; i++)
	{
		if (unlock_table->entries[i].in_use &&
			strcmp(unlock_table->entries[i].id, id) == 0)
			return &unlock_table->entries[i];
	}
	return NULL;
}

/* ---------- the store ---------- */

/*
 * Put a fully built entry into the table: a free slot, or one whose unlock
 * can never be used again.  An approval is not installed if the same
 * request already has a live one: checked under the same lock, so that two
 * admins approving at once cannot both succeed.
 */
void
tfguard_unlock_store_install(const UnlockEntry *entry)
{
	TimestampTz now = GetCurrentTimestamp();
	UnlockEntry *slot = NULL;
	bool		already_approved = false;

	LWLockAcquire(unlock_table->lock, LW_EXCLUSIVE);
	for (int i = 0; i < MAX_UNLOCKS && entry->approves != 0; i++)
	{
		if (unlock_table->entries[i].approves == entry->approves &&
			entry_is_live(&unlock_table->entries[i], now))
			already_approved = true;
	}
	for (int i = 0; i < MAX_UNLOCKS && slot == NULL && !already_approved; i++)
	{
		UnlockEntry *candidate = &unlock_table->entries[i];

		/* a denial unlocks nothing, but is kept for its time all the same */
		if (!entry_is_live(candidate, now) &&
			!(candidate->in_use && candidate->denial && candidate->expires_at > now))
			slot = candidate;
	}
	if (slot != NULL)
		memcpy(slot, entry, sizeof(UnlockEntry));
	LWLockRelease(unlock_table->lock);
	if (already_approved)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("audit id " INT64_FORMAT " was already approved",
						entry->approves)));
	if (slot == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many live unlocks (%d)", MAX_UNLOCKS),
				 errhint("Revoke tokens that are no longer needed.")));
}

/* Take back an unlock that could not be recorded. */
void
tfguard_unlock_store_forget(const char *id)
{
	UnlockEntry *entry;

	LWLockAcquire(unlock_table->lock, LW_EXCLUSIVE);
	entry = find_by_id(id);
	if (entry != NULL)
		entry->in_use = false;
	LWLockRelease(unlock_table->lock);
}

/* A copy of the entry with this id; false if there is none. */
bool
tfguard_unlock_store_get(const char *id, UnlockEntry *copy)
{
	UnlockEntry *entry;

	LWLockAcquire(unlock_table->lock, LW_SHARED);
	entry = find_by_id(id);
	if (entry != NULL)
		memcpy(copy, entry, sizeof(UnlockEntry));
	LWLockRelease(unlock_table->lock);
	return entry != NULL;
}

/* A copy of the token whose secret has this hash; false if none. */
bool
tfguard_unlock_store_find_token(const uint8 *hash, UnlockEntry *copy)
{
	UnlockEntry *found = NULL;

	LWLockAcquire(unlock_table->lock, LW_SHARED);
	for (int i = 0; i < MAX_UNLOCKS && found == NULL; i++)
	{
		UnlockEntry *entry = &unlock_table->entries[i];

		if (entry->in_use && entry->approves == 0 &&
			memcmp(entry->hash, hash, PG_SHA256_DIGEST_LENGTH) == 0)
			found = entry;
	}
	if (found != NULL)
		memcpy(copy, found, sizeof(UnlockEntry));
	LWLockRelease(unlock_table->lock);
	return found != NULL;
}

/*
 * Pin the token to this session, unless another session has it: true if
 * it is (now) this session's.
 */
bool
tfguard_unlock_store_pin(const char *id)
{
	UnlockEntry *entry;
	bool		ours = false;

	LWLockAcquire(unlock_table->lock, LW_EXCLUSIVE);
	entry = find_by_id(id);
	if (entry != NULL && entry->pinned_pid == 0)
	{
		entry->pinned_pid = MyProcPid;
		entry->pinned_start = MyStartTimestamp;
	}
	if (entry != NULL)
		ours = tfguard_unlock_pinned_here(entry);
	LWLockRelease(unlock_table->lock);
	return ours;
}

/* Revoke the unlock with this id; false if there is none.  Fills *copy. */
bool
tfguard_unlock_store_revoke(const char *id, UnlockEntry *copy)
{
	UnlockEntry *entry;

	LWLockAcquire(unlock_table->lock, LW_EXCLUSIVE);
	entry = find_by_id(id);
	if (entry != NULL)
	{
		entry->revoked = true;
		memcpy(copy, entry, sizeof(UnlockEntry));
	}
	LWLockRelease(unlock_table->lock);
	return entry != NULL;
}

/* Deny: end any approval of the request that is still live. */
void
tfguard_unlock_store_revoke_approvals_of(int64 request)
{
	LWLockAcquire(unlock_table->lock, LW_EXCLUSIVE);
	for (int i = 0; i < MAX_UNLOCKS; i++)
	{
		if (unlock_table->entries[i].in_use &&
			unlock_table->entries[i].approves == request)
			unlock_table->entries[i].revoked = true;
	}
	LWLockRelease(unlock_table->lock);
}

static bool
approves_object(const UnlockEntry *entry, Oid object_oid)
{
	for (int i = 0; i < entry->napproved; i++)
	{
		if (entry->object_oids[i] == object_oid)
			return true;
	}
	return false;
}

/*
 * The live approval of request "request", copied; false if there is none
 * (not approved, denied, used, expired).
 */
bool
tfguard_unlock_store_find_approval(int64 request, UnlockEntry *copy)
{
	TimestampTz now = GetCurrentTimestamp();
	bool		found = false;

	LWLockAcquire(unlock_table->lock, LW_SHARED);
	for (int i = 0; i < MAX_UNLOCKS && !found; i++)
	{
		UnlockEntry *entry = &unlock_table->entries[i];

		if (entry_is_live(entry, now) && entry->approves == request)
		{
			memcpy(copy, entry, sizeof(UnlockEntry));
			found = true;
		}
	}
	LWLockRelease(unlock_table->lock);
	return found;
}

/*
 * The newest denial of a request of "role" in "database" about the
 * object, copied; false if there is none within its time.
 */
bool
tfguard_unlock_store_find_denial(Oid role, Oid database, Oid object_oid,
								 UnlockEntry *copy)
{
	TimestampTz now = GetCurrentTimestamp();
	bool		found = false;

	LWLockAcquire(unlock_table->lock, LW_SHARED);
	for (int i = 0; i < MAX_UNLOCKS; i++)
	{
		UnlockEntry *entry = &unlock_table->entries[i];

		if (entry->in_use && entry->denial && entry->expires_at > now &&
			entry->role == role && entry->database == database &&
			approves_object(entry, object_oid) &&
			(!found || entry->approves > copy->approves))
		{
			memcpy(copy, entry, sizeof(UnlockEntry));
			found = true;
		}
	}
	LWLockRelease(unlock_table->lock);
	return found;
}

/* RESET ALL, DISCARD ALL: every approval given to this session ends. */
void
tfguard_unlock_store_end_session_approvals(void)
{
	LWLockAcquire(unlock_table->lock, LW_EXCLUSIVE);
	for (int i = 0; i < MAX_UNLOCKS; i++)
	{
		UnlockEntry *entry = &unlock_table->entries[i];

		if (entry->in_use && entry->approves != 0 && tfguard_unlock_pinned_here(entry))
			entry->revoked = true;
	}
	LWLockRelease(unlock_table->lock);
}


/*
 * Copies of up to "max" usable approvals given to this session for this
 * operation on this object (by OID): however many approvals the session
 * holds for other objects, these are found.
 */
int
tfguard_unlock_store_session_approvals(uint32 operations, Oid object_oid,
									   UnlockEntry *copies, int max)
{
	int			n = 0;

	LWLockAcquire(unlock_table->lock, LW_SHARED);
	for (int i = 0; i < MAX_UNLOCKS && n < max; i++)
	{
		UnlockEntry *entry = &unlock_table->entries[i];

		if (entry->in_use && entry->approves != 0 &&
			approves_object(entry, object_oid) &&
			(entry->operations & operations) != 0 &&
			tfguard_unlock_pinned_here(entry) &&
			tfguard_unlock_unusable_reason(entry) == NULL)
			memcpy(&copies[n++], entry, sizeof(UnlockEntry));
	}
	LWLockRelease(unlock_table->lock);
	return n;
}

/* Copies of every entry in use (palloc'd), for the tfguard.tokens view. */
int
tfguard_unlock_store_list(UnlockEntry **copies)
{
	int			n = 0;

	*copies = palloc(sizeof(UnlockEntry) * MAX_UNLOCKS);
	LWLockAcquire(unlock_table->lock, LW_SHARED);
	for (int i = 0; i < MAX_UNLOCKS; i++)
	{
		if (unlock_table->entries[i].in_use)
			memcpy(&(*copies)[n++], &unlock_table->entries[i], sizeof(UnlockEntry));
	}
	LWLockRelease(unlock_table->lock);
	return n;
}
