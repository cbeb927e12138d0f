/*-------------------------------------------------------------------------
 *
 * classify_plan.c
 *	  Plans about to run -> delete_all attempts.
 *
 * A DELETE is refused when nothing in its plan restricts which rows of the
 * target table it removes.  The check runs on the finished plan, at
 * ExecutorStart, because that is the only point every DELETE passes:
 * top-level statements, PL/pgSQL, SQL functions, prepared statements and
 * cached generic plans, rules, triggers and modifying CTEs all reach the
 * executor, and parse-time checks miss cached plans and rule rewrites.
 * Looking at the plan also means the planner has already folded constant
 * conditions: "WHERE true", "WHERE 1=1" and a parameter bound to true in a
 * custom plan simply vanish.
 *
 * "Restricts" means: some condition in the subplan under the DELETE (a
 * scan filter, an index or TID condition, a join clause, a parameter a
 * nested loop passes down) refers to a column of the target table.  A
 * condition that mentions no target column (only parameters, constants, a
 * stable function, an uncorrelated EXISTS, or another table in USING)
 * selects all rows or none, so it does not count.  A gating condition that
 * is constant false or null deletes nothing, so it does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/nodeFuncs.h"
#include "nodes/primnodes.h"
#include "parser/parsetree.h"

#include "tfguard.h"

typedef bool (*PlanVisitor) (Plan *plan, void *context);

/*
 * Visit "plan" and every plan node below it, stopping as soon as "visit"
 * returns true.  Subqueries reached through SubPlan expressions are
 * separate entries of PlannedStmt.subplans and are not followed.
 */
static bool
plan_tree_walk(Plan *plan, PlanVisitor visit, void *context)
{
	List	   *children = NIL;
	ListCell   *lc;

	if (plan == NULL)
		return false;
	if (visit(plan, context))
		return true;
	if (plan_tree_walk(plan->lefttree, visit, context) ||
		plan_tree_walk(plan->righttree, visit, context))
		return true;

	switch (nodeTag(plan))
	{
		case T_Append:
			children = ((Append *) plan)->appendplans;
			break;
		case T_MergeAppend:
			children = ((MergeAppend *) plan)->mergeplans;
			break;
		case T_BitmapAnd:
			children = ((BitmapAnd *) plan)->bitmapplans;
			break;
		case T_BitmapOr:
			children = ((BitmapOr *) plan)->bitmapplans;
			break;
		case T_SubqueryScan:
			children = list_make1(((SubqueryScan *) plan)->subplan);
			break;
		case T_CustomScan:
			children = ((CustomScan *) plan)->custom_plans;
			break;
		case T_ModifyTable:
			children = ModifyTableChildrenBesideLefttree((ModifyTable *) plan);
			break;
		default:
			break;
	}
	foreach(lc, children)
	{
		if (plan_tree_walk((Plan *) lfirst(lc), visit, context))
			return true;
	}
	return false;
}

/*
 * Does the expression refer to a column of one of the target range table
 * entries?  Above the scans, setrefs has replaced Vars by references to
 * the child's output (OUTER_VAR, INNER_VAR, INDEX_VAR); varnosyn still
 * names the range table entry the column came from.
 */
static bool
expression_references_target(Node *node, Bitmapset *targets)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *var = (Var *) node;
		int			varno = IS_SPECIAL_VARNO(var->varno) ?
			(int) var->varnosyn : (int) var->varno;

		return varno > 0 && bms_is_member(varno, targets);
	}
	if (IsA(node, CurrentOfExpr))
		return bms_is_member((int) ((CurrentOfExpr *) node)->cvarno, targets);
	return expression_tree_walker(node, expression_references_target,
								  (void *) targets);
}

static bool
nestloop_params_reference_target(List *nestParams, Bitmapset *targets)
{
	ListCell   *lc;

	foreach(lc, nestParams)
	{
		NestLoopParam *param = (NestLoopParam *) lfirst(lc);

		if (expression_references_target((Node *) param->paramval, targets))
			return true;
	}
	return false;
}

/* A gating condition that is constant false or null lets no row through. */
static bool
gating_qual_is_constant_false(Node *resconstantqual)
{
	ListCell   *lc;

	if (resconstantqual == NULL || !IsA(resconstantqual, List))
		return false;
	foreach(lc, (List *) resconstantqual)
	{
		Node	   *qual = (Node *) lfirst(lc);

		if (IsA(qual, Const) &&
			(((Const *) qual)->constisnull ||
			 !DatumGetBool(((Const *) qual)->constvalue)))
			return true;
	}
	return false;
}

/*
 * PlanVisitor: does this node hold a condition that restricts the target?
 * Node types not listed carry all their conditions in plan.qual.
 */
static bool
node_restricts_target(Plan *plan, void *context)
{
	Bitmapset  *targets = (Bitmapset *) context;
	Node	   *conditions = (Node *) plan->qual;

	if (expression_references_target(conditions, targets))
		return true;

	switch (nodeTag(plan))
	{
		case T_Result:
			conditions = ((Result *) plan)->resconstantqual;
			if (gating_qual_is_constant_false(conditions))
				return true;
			break;
		case T_IndexScan:
			conditions = (Node *) ((IndexScan *) plan)->indexqualorig;
			break;
		case T_BitmapIndexScan:
			conditions = (Node *) ((BitmapIndexScan *) plan)->indexqualorig;
			break;
		case T_BitmapHeapScan:
			conditions = (Node *) ((BitmapHeapScan *) plan)->bitmapqualorig;
			break;
		case T_TidScan:
			conditions = (Node *) ((TidScan *) plan)->tidquals;
			break;
#ifdef HAVE_TID_RANGE_SCAN
		case T_TidRangeScan:
			conditions = (Node *) ((TidRangeScan *) plan)->tidrangequals;
			break;
#endif
		case T_NestLoop:
			if (nestloop_params_reference_target(((NestLoop *) plan)->nestParams,
												 targets))
				return true;
			conditions = (Node *) ((Join *) plan)->joinqual;
			break;
		case T_MergeJoin:
			if (expression_references_target((Node *) ((MergeJoin *) plan)->mergeclauses,
											 targets))
				return true;
			conditions = (Node *) ((Join *) plan)->joinqual;
			break;
		case T_HashJoin:
			if (expression_references_target((Node *) ((HashJoin *) plan)->hashclauses,
											 targets))
				return true;
			conditions = (Node *) ((Join *) plan)->joinqual;
			break;
		default:
			return false;
	}
	return expression_references_target(conditions, targets);
}

/*
 * The relation a DELETE names: the partitioned root, or the nominal
 * relation (the one the statement wrote), or failing those any result
 * relation that is guarded.  Fills "attempt" and returns true if guarded.
 */
static bool
delete_target_is_guarded(PlannedStmt *stmt, ModifyTable *mt,
						 GuardedAttempt *attempt)
{
	Index		named = mt->rootRelation ? mt->rootRelation : mt->nominalRelation;
	ListCell   *lc;

	if (named > 0 &&
		tfguard_relation_is_guarded(rt_fetch(named, stmt->rtable)->relid,
									GUARDED_DELETE_ALL, attempt))
		return true;
	foreach(lc, mt->resultRelations)
	{
		Index		rti = (Index) lfirst_int(lc);

		if (tfguard_relation_is_guarded(rt_fetch(rti, stmt->rtable)->relid,
										GUARDED_DELETE_ALL, attempt))
			return true;
	}
	return false;
}

static Bitmapset *
target_range_table_indexes(ModifyTable *mt)
{
	Bitmapset  *targets = NULL;
	ListCell   *lc;

	foreach(lc, mt->resultRelations)
		targets = bms_add_member(targets, lfirst_int(lc));
	if (mt->nominalRelation > 0)
		targets = bms_add_member(targets, (int) mt->nominalRelation);
	if (mt->rootRelation > 0)
		targets = bms_add_member(targets, (int) mt->rootRelation);
	return targets;
}

/* Does every subplan under the ModifyTable restrict the target's rows? */
static bool
subplans_restrict_target(ModifyTable *mt, Bitmapset *targets)
{
	ListCell   *lc;

	foreach(lc, ModifyTableSubplans(mt))
	{
		if (!plan_tree_walk((Plan *) lfirst(lc), node_restricts_target,
							(void *) targets))
			return false;
	}
	return true;
}

#ifdef HAVE_MERGE
/*
 * A MERGE deletes every target row when its join does not restrict the
 * target (ON true, or a condition on the source only) and one of its
 * WHEN MATCHED ... THEN DELETE actions has no condition on the target.
 */
static bool
merge_deletes_without_target_condition(ModifyTable *mt, Bitmapset *targets)
{
	ListCell   *lc_list;
	ListCell   *lc;

	foreach(lc_list, mt->mergeActionLists)
	{
		foreach(lc, (List *) lfirst(lc_list))
		{
			MergeAction *action = (MergeAction *) lfirst(lc);

			if (action->commandType == CMD_DELETE &&
				!expression_references_target(action->qual, targets))
				return true;
		}
	}
	return false;
}
#endif

/*
 * Would this ModifyTable remove rows of its target without any condition
 * on the target?  The plan walk runs before any catalog lookup, as it is
 * the cheaper of the two.
 */
static bool
modify_table_is_unrestricted_delete(ModifyTable *mt)
{
	Bitmapset  *targets;
	bool		unrestricted = false;

	if (mt->operation != CMD_DELETE
#ifdef HAVE_MERGE
		&& mt->operation != CMD_MERGE
#endif
		)
		return false;

	targets = target_range_table_indexes(mt);
	if (mt->operation == CMD_DELETE)
		unrestricted = !subplans_restrict_target(mt, targets);
#ifdef HAVE_MERGE
	else
		unrestricted =
			!expression_references_target((Node *) ModifyTableMergeJoinConditions(mt),
										  targets) &&
			!subplans_restrict_target(mt, targets) &&
			merge_deletes_without_target_condition(mt, targets);
#endif
	bms_free(targets);
	return unrestricted;
}

/* PlanVisitor: decide on every DELETE and MERGE ... DELETE in the tree. */
static bool
classify_modify_table(Plan *plan, void *context)
{
	PlannedStmt *stmt = (PlannedStmt *) context;
	GuardedAttempt attempt;

	if (IsA(plan, ModifyTable) &&
		modify_table_is_unrestricted_delete((ModifyTable *) plan) &&
		delete_target_is_guarded(stmt, (ModifyTable *) plan, &attempt))
		tfguard_decide(&attempt);
	return false;
}

/*
 * Called at ExecutorStart for every plan.  Plans that cannot delete (no
 * DELETE or MERGE at top level, no data-modifying CTE) return at the
 * first test.
 */
void
tfguard_classify_plan(PlannedStmt *stmt)
{
	ListCell   *lc;

	if (stmt->commandType != CMD_DELETE &&
#ifdef HAVE_MERGE
		stmt->commandType != CMD_MERGE &&
#endif
		!stmt->hasModifyingCTE)
		return;

	plan_tree_walk(stmt->planTree, classify_modify_table, (void *) stmt);
	foreach(lc, stmt->subplans)
		plan_tree_walk((Plan *) lfirst(lc), classify_modify_table,
					   (void *) stmt);
}
