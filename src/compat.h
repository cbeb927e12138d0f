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

#endif							/* TFGUARD_COMPAT_H */
