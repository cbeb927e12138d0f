/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every PostgreSQL-version difference tfguard depends on, in one place.
 *
 * tfguard is built and tested on PostgreSQL 15 and keeps compiling on 13
 * to 17.  The rest of the code is written as if there were one version:
 * when a release changes a hook signature or a plan node, the shim goes
 * here and nowhere else.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_COMPAT_H
#define TFGUARD_COMPAT_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "nodes/plannodes.h"
#include "utils/guc.h"

#if PG_VERSION_NUM < 130000 || PG_VERSION_NUM >= 180000
#error "tfguard supports PostgreSQL 13 to 17"
#endif

/*
 * PostgreSQL 15 can reserve a GUC prefix, so that "SET tfguard.anything"
 * fails instead of creating a placeholder.  Older releases can only warn
 * about placeholders that already exist.
 */
#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/*
 * PostgreSQL 14 gave ModifyTable a single subplan, its outer plan, which a
 * walk over lefttree already reaches; 13 kept one subplan per result
 * relation in "plans", which a walk has to visit on its own.
 */
#if PG_VERSION_NUM >= 140000
#define ModifyTableSubplans(mt) list_make1(outerPlan(mt))
#define ModifyTableChildrenBesideLefttree(mt) NIL
#else
#define ModifyTableSubplans(mt) ((mt)->plans)
#define ModifyTableChildrenBesideLefttree(mt) ((mt)->plans)
#endif

/*
 * MERGE (with its DELETE action) exists from PostgreSQL 15 on; from 17 on
 * the join condition of a MERGE may sit in ModifyTable instead of the plan.
 */
#if PG_VERSION_NUM >= 150000
#define HAVE_MERGE 1
#endif
#if PG_VERSION_NUM >= 170000
#define ModifyTableMergeJoinConditions(mt) ((mt)->mergeJoinConditions)
#else
#define ModifyTableMergeJoinConditions(mt) NIL
#endif

/* TidRangeScan exists from PostgreSQL 14 on. */
#if PG_VERSION_NUM >= 140000
#define HAVE_TID_RANGE_SCAN 1
#endif

/*
 * ProcessUtility_hook gained "readOnlyTree" in PostgreSQL 14.  The other
 * hooks tfguard installs (object_access_hook, ExecutorStart_hook) have the
 * same signatures in 13 to 17.
 */
#if PG_VERSION_NUM >= 140000
#define PROCESS_UTILITY_PARAMS \
	PlannedStmt *pstmt, const char *queryString, bool readOnlyTree, \
	ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define PROCESS_UTILITY_ARGS \
	pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc
#else
#define PROCESS_UTILITY_PARAMS \
	PlannedStmt *pstmt, const char *queryString, \
	ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define PROCESS_UTILITY_ARGS \
	pstmt, queryString, context, params, queryEnv, dest, qc
#endif

/*
 * Memory for GUC values and their "extra": GUC frees it with free() up to
 * PostgreSQL 15, with guc_free() (from guc_malloc) from 16 on.
 */
#if PG_VERSION_NUM >= 160000
#define tfguard_guc_malloc(size) guc_malloc(LOG, (size))
#define tfguard_guc_free(ptr) guc_free(ptr)
#else
#define tfguard_guc_malloc(size) malloc(size)
#define tfguard_guc_free(ptr) free(ptr)
#endif

/* getObjectDescription() gained "missing_ok" in PostgreSQL 14. */
#if PG_VERSION_NUM >= 140000
#define getObjectDescriptionCompat(object) getObjectDescription((object), true)
#else
#define getObjectDescriptionCompat(object) getObjectDescription(object)
#endif

/* PostgreSQL 16 folded the per-catalog ACL checks into object_aclcheck(). */
#if PG_VERSION_NUM >= 160000
#define pg_database_aclcheck(dboid, roleid, mode) \
	object_aclcheck(DatabaseRelationId, (dboid), (roleid), (mode))
#endif

/* The local copy of a backend's status, by 1-based index (renamed in 17). */
#if PG_VERSION_NUM >= 170000
#define pgstat_local_beentry_by_index(i) pgstat_get_local_beentry_by_index(i)
#else
#define pgstat_local_beentry_by_index(i) pgstat_fetch_stat_local_beentry(i)
#endif

/*
 * A_Const carries its own null flag from PostgreSQL 15 on; before, a null
 * constant was a Value node of type T_Null.
 */
#if PG_VERSION_NUM >= 150000
#define A_CONST_IS_NULL(c) ((c)->isnull)
#else
#define A_CONST_IS_NULL(c) IsA(&(c)->val, Null)
#endif

/* SHA-256: pg_cryptohash from PostgreSQL 14 on, pg_sha256_* in 13. */
#if PG_VERSION_NUM >= 140000
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
#else
#include "common/sha2.h"
static inline bool
tfguard_sha256(const uint8 *data, size_t len, uint8 *digest)
{
	pg_sha256_ctx ctx;

	pg_sha256_init(&ctx);
	pg_sha256_update(&ctx, data, len);
	pg_sha256_final(&ctx, digest);
	return true;
}
#endif

/*
 * A set-returning function's tuplestore: InitMaterializedSRF from
 * PostgreSQL 15 on, spelled out before.
 */
#if PG_VERSION_NUM < 150000
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/tuplestore.h"
static inline void
InitMaterializedSRF(FunctionCallInfo fcinfo, int flags)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext oldcontext;
	TupleDesc	tupdesc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		elog(ERROR, "set-valued function called in context that cannot accept a set");
	oldcontext = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->setDesc = CreateTupleDescCopy(tupdesc);
	MemoryContextSwitchTo(oldcontext);
}
#endif

#endif							/* TFGUARD_COMPAT_H */
