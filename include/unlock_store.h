/*-------------------------------------------------------------------------
 *
 * unlock_store.h
 *	  Tokens and approvals in shared memory (unlock_store.c), the only
 *	  module that takes their lock.  Callers work on copies.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_UNLOCK_STORE_H
#define TFGUARD_UNLOCK_STORE_H

#include "common/sha2.h"
#include "datatype/timestamp.h"

#include "tfguard.h"

#define MAX_UNLOCKS 128
#define MAX_UNLOCK_OBJECTS 16
#define MAX_APPROVED_OBJECTS 64	/* a refused statement's objects */
#define TOKEN_SECRET_BYTES 20
#define TOKEN_SECRET_LEN (sizeof(TFGUARD_TOKEN_PREFIX) + 2 * TOKEN_SECRET_BYTES)
#define UNLOCK_ID_BYTES 6
#define UNLOCK_ID_LEN (UNLOCK_ID_BYTES * 2 + 1)
#define UNLOCK_REASON_LEN 256

/* A token (a secret a human handed over) or an approval (of a refusal). */
typedef struct UnlockEntry
{
	bool		in_use;
	char		id[UNLOCK_ID_LEN];	/* public, for the trail and the view */
	uint8		hash[PG_SHA256_DIGEST_LENGTH];	/* of a token's secret */
	Oid			role;
	char		role_name[NAMEDATALEN];
	Oid			database;		/* InvalidOid: any database */
	char		database_name[NAMEDATALEN];
	uint32		operations;		/* bit (1 << GuardedOperation) */
	int			nobjects;		/* -1: any object */
	char		objects[MAX_UNLOCK_OBJECTS][TFGUARD_OBJECT_NAME_MAX];
	int			encoding;		/* of the names in objects[] */
	char		issued_by[NAMEDATALEN];
	TimestampTz issued_at;
	TimestampTz expires_at;
	bool		revoked;
	int			pinned_pid;		/* 0 until first validly presented */
	TimestampTz pinned_start;	/* that backend's start time */
	char		reason[UNLOCK_REASON_LEN];
	TransactionId issued_xid;	/* oldest running xid when issued: a catalog
								 * row written since is newer (identity.c) */
	int64		approves;		/* an approval: the refused attempt's audit
								 * id; it has no secret and is pinned from
								 * the start.  0 for a token. */
	/*
	 * an approval: the refused statement's objects, and the raw xmin of
	 * each one's catalog row then (identity.c).  Names are only shown.
	 */
	int			napproved;
	Oid			object_oids[MAX_APPROVED_OBJECTS];
	TransactionId object_stamps[MAX_APPROVED_OBJECTS];
	uint32		object_operations[MAX_APPROVED_OBJECTS];	/* what was refused
															 * on each */
	uint64		object_columns[MAX_APPROVED_OBJECTS];	/* drop_column: a hash
														 * of the column's
														 * quoted name, or 0 */
	bool		denial;			/* not an unlock: a human's "no" to request
								 * "approves", kept to tell the agent why
								 * (revoked, never usable) */
	int64		rows_approved;	/* an approval of mass_delete or
								 * mass_update: the rows the human saw, or
								 * -1 */
} UnlockEntry;

extern Size tfguard_unlock_store_shmem_size(void);
extern void tfguard_unlock_store_shmem_attach(void);
extern bool tfguard_unlock_store_ready(void);

/* secrets */
extern void tfguard_new_token_secret(char *secret);
extern bool tfguard_looks_like_secret(const char *value);
extern void tfguard_hash_secret(const char *secret, uint8 *hash);
extern uint64 tfguard_column_hash(const char *quoted_column);

/* entries */
extern void tfguard_unlock_entry_init(UnlockEntry *entry, double ttl_s,
									  const char *reason);
extern const char *tfguard_unlock_unusable_reason(const UnlockEntry *entry);
extern bool tfguard_unlock_pinned_here(const UnlockEntry *entry);

/* the store */
extern void tfguard_unlock_store_install(const UnlockEntry *entry);
extern void tfguard_unlock_store_forget(const char *id);
extern bool tfguard_unlock_store_get(const char *id, UnlockEntry *copy);
extern bool tfguard_unlock_store_find_token(const uint8 *hash, UnlockEntry *copy);
extern bool tfguard_unlock_store_pin(const char *id);
extern bool tfguard_unlock_store_revoke(const char *id, UnlockEntry *copy);
extern void tfguard_unlock_store_revoke_approvals_of(int64 request);
extern void tfguard_unlock_store_end_session_approvals(void);
extern bool tfguard_unlock_store_find_approval(int64 request, UnlockEntry *copy);
extern bool tfguard_unlock_store_find_denial(Oid role, Oid database, Oid object_oid,
											 UnlockEntry *copy);
extern int	tfguard_unlock_store_session_approvals(uint32 operations,
												   Oid object_oid,
												   UnlockEntry *copies, int max);
extern int	tfguard_unlock_store_list(UnlockEntry **copies);

#endif							/* TFGUARD_UNLOCK_STORE_H */
