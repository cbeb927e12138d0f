/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every PostgreSQL-version difference tfguard depends on, in one place.
 *
 * tfguard is tested on PostgreSQL 15 and 18: scripts/test.sh builds and
 * runs the whole suite (pg_regress and TAP) on both.  The rest of the code
 * is written as if there were one version: when a release changes a hook
 * signature, a function or a plan node, the shim goes here and nowhere
 * else.
 *
 * PostgreSQL 16 and 17 compile, untested, because for each difference
 * below they take the branch of a tested end: 17 is PostgreSQL 18's API
 * throughout; 16 is 18's for GUC memory and ACL checks and 15's for
 * LockHeldByMe, REFRESH's permission check, backend status lookup and
 * MERGE join conditions.  Older and newer releases are refused: nothing
 * says their APIs are the ones tested here.
 *
 * Checked against PostgreSQL 18's source and found unchanged from 15 for
 * what tfguard uses: the ExecutorStart, ProcessUtility and object access
 * hook signatures (ExecutorStart still returns void in 18), shmem_request
 * and shmem_startup hooks, named LWLock tranches, custom GUC definition
 * and MarkGUCPrefixReserved, background worker registration, the
 * ModifyTable fields tfguard reads.  tfguard reads no range-table
 * permission fields, so RTEPermissionInfo (16) does not concern it; MERGE
 * RETURNING (17) and OLD/NEW in RETURNING (18) change what a statement
 * returns, not what it deletes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_COMPAT_H
#define TFGUARD_COMPAT_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "nodes/plannodes.h"
#include "utils/guc.h"

#if PG_VERSION_NUM < 150000 || PG_VERSION_NUM >= 190000
#error "tfguard is tested on PostgreSQL 15 and 18 and builds on 15 to 18 only; see include/compat.h"
#endif

/*
 * LockHeldByMe() gained "orstronger" in PostgreSQL 17; false asks, as
 * before, whether exactly this mode is held.  (16: 15's branch.)
 */
#include "storage/lock.h"
#if PG_VERSION_NUM >= 170000
#define LockHeldByMeExactly(tag, mode) LockHeldByMe((tag), (mode), false)
#else
#define LockHeldByMeExactly(tag, mode) LockHeldByMe((tag), (mode))
#endif

/*
 * The check REFRESH MATERIALIZED VIEW makes before it locks: ownership up
 * to PostgreSQL 16, the MAINTAIN privilege from 17 on, under a new name.
 * (16: 15's branch.)
 */
#if PG_VERSION_NUM < 170000
#define RangeVarCallbackMaintainsTable RangeVarCallbackOwnsTable
#endif

/*
 * From PostgreSQL 17 on, the join condition of a MERGE may sit in
 * ModifyTable instead of the plan below it.  (16: 15's branch.)
 */
#if PG_VERSION_NUM >= 170000
#define ModifyTableMergeJoinConditions(mt) ((mt)->mergeJoinConditions)
#else
#define ModifyTableMergeJoinConditions(mt) NIL
#endif

/*
 * transaction_timeout exists from PostgreSQL 17 on: the audit writer turns
 * it off.  (16: 15's branch.)
 */
#if PG_VERSION_NUM >= 170000
#define HAVE_TRANSACTION_TIMEOUT 1
#endif

/*
 * PostgreSQL 17 added WHEN NOT MATCHED BY SOURCE: a MergeAction says which
 * rows it acts on with matchKind instead of "matched".  (16: 15's branch.)
 */
#if PG_VERSION_NUM >= 170000
#define MergeActionOnMatched(action) ((action)->matchKind == MERGE_WHEN_MATCHED)
#define MergeActionOnNotMatchedBySource(action) \
	((action)->matchKind == MERGE_WHEN_NOT_MATCHED_BY_SOURCE)
#else
#define MergeActionOnMatched(action) ((action)->matched)
#define MergeActionOnNotMatchedBySource(action) false
#endif

/*
 * Memory for GUC values and their "extra": GUC frees it with free() in
 * PostgreSQL 15, with guc_free() (from guc_malloc) from 16 on.  (16: 18's
 * branch.)
 */
#if PG_VERSION_NUM >= 160000
#define tfguard_guc_malloc(size) guc_malloc(LOG, (size))
#define tfguard_guc_free(ptr) guc_free(ptr)
#else
#define tfguard_guc_malloc(size) malloc(size)
#define tfguard_guc_free(ptr) free(ptr)
#endif

/*
 * PostgreSQL 16 folded the per-catalog ACL checks into object_aclcheck(),
 * and pg_database.h is no longer pulled in by the headers that declare it.
 * (16: 18's branch.)
 */
#if PG_VERSION_NUM >= 160000
#include "catalog/pg_database.h"
#define pg_database_aclcheck(dboid, roleid, mode) \
	object_aclcheck(DatabaseRelationId, (dboid), (roleid), (mode))
#define pg_class_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#endif

/*
 * Did the current transaction give the relation new storage (a rewrite,
 * TRUNCATE)?  Relfilenode became relfilelocator in PostgreSQL 16.  (16:
 * 18's branch.)
 */
#if PG_VERSION_NUM >= 160000
#define RelationRewrittenInTransaction(rel) \
	((rel)->rd_firstRelfilelocatorSubid != InvalidSubTransactionId)
#else
#define RelationRewrittenInTransaction(rel) \
	((rel)->rd_firstRelfilenodeSubid != InvalidSubTransactionId)
#endif

/*
 * stringToQualifiedNameList() takes an error-saving context from
 * PostgreSQL 16 on.  (16: 18's branch.)
 */
#if PG_VERSION_NUM >= 160000
#define stringToQualifiedNameListCompat(string) stringToQualifiedNameList((string), NULL)
#else
#define stringToQualifiedNameListCompat(string) stringToQualifiedNameList(string)
#endif

/*
 * A table's live-row count in the cumulative statistics: n_live_tuples up
 * to PostgreSQL 15, live_tuples from 16 on.  (16: 18's branch.)
 */
#if PG_VERSION_NUM >= 160000
#define StatTabEntryLiveTuples(entry) ((entry)->live_tuples)
#else
#define StatTabEntryLiveTuples(entry) ((entry)->n_live_tuples)
#endif

/*
 * The local copy of a backend's status, by 1-based index (renamed in 17).
 * (16: 15's branch.)
 */
#if PG_VERSION_NUM >= 170000
#define pgstat_local_beentry_by_index(i) pgstat_get_local_beentry_by_index(i)
#else
#define pgstat_local_beentry_by_index(i) pgstat_fetch_stat_local_beentry(i)
#endif

/*
 * The same on every supported version, kept under the names the rest of
 * the code uses: MERGE and TidRangeScan exist; the ProcessUtility hook
 * takes "readOnlyTree"; getObjectDescription() takes
 * "missing_ok"; A_Const carries its own null flag.
 */
#define HAVE_MERGE 1
#define HAVE_TID_RANGE_SCAN 1
#define PROCESS_UTILITY_PARAMS \
	PlannedStmt *pstmt, const char *queryString, bool readOnlyTree, \
	ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define PROCESS_UTILITY_ARGS \
	pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc
#define getObjectDescriptionCompat(object) getObjectDescription((object), true)
#define A_CONST_IS_NULL(c) ((c)->isnull)

/* SHA-256 through pg_cryptohash. */
#include "common/cryptohash.h"
#include "common/sha2.h"
static inline bool
tfguard_sha256(const uint8 *data, size_t len, uint8 *digest)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	bool		ok = ctx != NULL &&
		pg_cryptohash_init(ctx) == 0 &&
		pg_cryptohash_update(ctx, data, len) == 0 &&
		pg_cryptohash_final(ctx, digest, PG_SHA256_DIGEST_LENGTH) == 0;

	pg_cryptohash_free(ctx);
	return ok;
}

#endif							/* TFGUARD_COMPAT_H */
