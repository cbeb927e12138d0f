/*-------------------------------------------------------------------------
 *
 * classify_plan.c
 *	  Plans about to run -> delete_all and update_all attempts.
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
 * "Restricts" means: a condition on the path the target's rows travel up
 * to the DELETE (a scan filter, an index or TID condition, a filter above,
 * the clauses of a join that drops unmatched target rows, a parameter a
 * nested loop passes down) refers to a column of the target table.  A
 * condition that mentions no target column (only parameters, constants, a
 * stable function, an uncorrelated EXISTS, or another table in USING)
 * selects all rows or none, and a condition on the nullable side of an
 * outer join filters nothing of the target: neither counts.  A gating
 * condition that is constant false or null deletes nothing, so it does.
 *
 * The same walk over every plan also refuses writes to the audit table by
 * anyone but the audit writer (reconfigure), and tells the relation
 * tracker when an UPDATE may move old rows into a new partition.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "nodes/nodeFuncs.h"
#include "nodes/primnodes.h"
#include "parser/parsetree.h"

#include "audit.h"
#include "blast_radius.h"
#include "classify.h"
#include "decide.h"
#include "own_objects.h"
#include "relation.h"

typedef bool (*PlanVisitor) (Plan *plan, void *context);

/*
 * The range table entries a ModifyTable writes through: most name one
 * (kept without allocating, as every UPDATE by key passes here), the rest
 * a set (partitions, inheritance children, the named root).
 */
typedef struct TargetSet
{
	Index		single;			/* the one entry, or 0 */
	Bitmapset  *many;			/* else the set of them */
} TargetSet;

static inline bool
is_target(const TargetSet *targets, int varno)
{
	return targets->many == NULL ? varno == (int) targets->single :
		bms_is_member(varno, targets->many);
}

/*
 * The plan nodes directly below "plan".  Subqueries reached through SubPlan
 * expressions are separate entries of PlannedStmt.subplans, not children.
 */
static List *
plan_children(Plan *plan)
{
	List	   *children = NIL;

	if (plan->lefttree)
		children = lappend(children, plan->lefttree);
	if (plan->righttree)
		children = lappend(children, plan->righttree);

	switch (nodeTag(plan))
	{
		case T_Append:
			return list_concat(children, ((Append *) plan)->appendplans);
		case T_MergeAppend:
			return list_concat(children, ((MergeAppend *) plan)->mergeplans);
		case T_BitmapAnd:
			return list_concat(children, ((BitmapAnd *) plan)->bitmapplans);
		case T_BitmapOr:
			return list_concat(children, ((BitmapOr *) plan)->bitmapplans);
		case T_SubqueryScan:
			return lappend(children, ((SubqueryScan *) plan)->subplan);
		case T_CustomScan:
			return list_concat(children, ((CustomScan *) plan)->custom_plans);
		default:
			return children;
	}
}

/* Visit "plan" and every node below it, until "visit" returns true. */
static bool
plan_tree_walk(Plan *plan, PlanVisitor visit, void *context)
{
	ListCell   *lc;

	if (plan == NULL)
		return false;
	if (visit(plan, context))
		return true;
	foreach(lc, plan_children(plan))
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
expression_references_target(Node *node, const TargetSet *targets)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *var = (Var *) node;
		int			varno = IS_SPECIAL_VARNO(var->varno) ?
			(int) var->varnosyn : (int) var->varno;

		return varno > 0 && is_target(targets, varno);
	}
	if (IsA(node, CurrentOfExpr))
		return is_target(targets, (int) ((CurrentOfExpr *) node)->cvarno);
	return expression_tree_walker(node, expression_references_target,
								  (void *) targets);
}

static bool
nestloop_params_reference_target(List *nestParams, const TargetSet *targets)
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
 * Does this node filter its own output on a column of the target, or
 * through a constant-false gate?  Join clauses are judged separately, as
 * whether they filter the target depends on the side it is on.
 */
static bool
node_filters_target(Plan *plan, const TargetSet *targets)
{
	Node	   *conditions = NULL;

	if (expression_references_target((Node *) plan->qual, targets))
		return true;

	switch (nodeTag(plan))
	{
		case T_Result:
			return gating_qual_is_constant_false(((Result *) plan)->resconstantqual);
		case T_IndexScan:
			conditions = (Node *) ((IndexScan *) plan)->indexqualorig;
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
		default:
			return false;
	}
	return expression_references_target(conditions, targets);
}

/* Do the join's clauses, or the parameters a nested loop passes, name the target? */
static bool
join_clauses_reference_target(Plan *plan, const TargetSet *targets)
{
	if (expression_references_target((Node *) ((Join *) plan)->joinqual, targets))
		return true;
	switch (nodeTag(plan))
	{
		case T_NestLoop:
			return nestloop_params_reference_target(((NestLoop *) plan)->nestParams,
													targets);
		case T_MergeJoin:
			return expression_references_target((Node *) ((MergeJoin *) plan)->mergeclauses,
												targets);
		case T_HashJoin:
			return expression_references_target((Node *) ((HashJoin *) plan)->hashclauses,
												targets);
		default:
			return false;
	}
}

/* PlanVisitor: is this a scan of one of the target range table entries? */
static bool
node_scans_target(Plan *plan, void *context)
{
	switch (nodeTag(plan))
	{
		case T_SeqScan:
		case T_SampleScan:
		case T_IndexScan:
		case T_IndexOnlyScan:
		case T_BitmapHeapScan:
		case T_TidScan:
#ifdef HAVE_TID_RANGE_SCAN
		case T_TidRangeScan:
#endif
		case T_ForeignScan:
		case T_CustomScan:
			return is_target((const TargetSet *) context,
							 (int) ((Scan *) plan)->scanrelid);
		default:
			return false;
	}
}

static bool
subtree_scans_target(Plan *plan, const TargetSet *targets)
{
	return plan_tree_walk(plan, node_scans_target, (void *) targets);
}

/*
 * Does a join output every row of its "outer" (or inner) side whether or
 * not the join clauses match?  Then those clauses do not restrict that
 * side's rows.  An anti join outputs outer rows that do not match, so its
 * clauses do restrict them.  Unknown join types count as preserving.
 */
static bool
join_preserves_side(JoinType jointype, bool outer_side)
{
	switch (jointype)
	{
		case JOIN_INNER:
		case JOIN_SEMI:
			return false;
		case JOIN_LEFT:
			return outer_side;
		case JOIN_ANTI:
			return !outer_side;
		case JOIN_RIGHT:
			return !outer_side;
		default:
			return true;
	}
}

/*
 * Are the target rows that reach the top of this subtree restricted by a
 * condition on the target?  Only conditions on the path the target's rows
 * travel count: a condition on the nullable side of an outer join, or in a
 * branch that does not hold the target, filters nothing of it.
 */
static bool
target_rows_restricted(Plan *plan, const TargetSet *targets)
{
	ListCell   *lc;
	bool		any_target_child = false;

	if (plan == NULL)
		return false;
	if (node_filters_target(plan, targets))
		return true;

	switch (nodeTag(plan))
	{
		case T_NestLoop:
		case T_MergeJoin:
		case T_HashJoin:
			{
				JoinType	jointype = ((Join *) plan)->jointype;
				bool		in_outer = subtree_scans_target(outerPlan(plan), targets);
				bool		in_inner = subtree_scans_target(innerPlan(plan), targets);

				if (((in_outer && !join_preserves_side(jointype, true)) ||
					 (in_inner && !join_preserves_side(jointype, false))) &&
					join_clauses_reference_target(plan, targets))
					return true;
				return (in_outer && target_rows_restricted(outerPlan(plan), targets)) ||
					(in_inner && target_rows_restricted(innerPlan(plan), targets));
			}
		case T_Append:
		case T_MergeAppend:
			/* every branch that holds target rows must be restricted */
			foreach(lc, plan_children(plan))
			{
				Plan	   *child = (Plan *) lfirst(lc);

				if (!subtree_scans_target(child, targets))
					continue;
				if (!target_rows_restricted(child, targets))
					return false;
				any_target_child = true;
			}
			return any_target_child;
		default:
			/* the rows pass through: look at the branch that holds them */
			foreach(lc, plan_children(plan))
			{
				Plan	   *child = (Plan *) lfirst(lc);

				if (subtree_scans_target(child, targets) &&
					target_rows_restricted(child, targets))
					return true;
			}
			return false;
	}
}

/*
 * Decide on every guarded relation an unrestricted DELETE empties: the one
 * it names (the partitioned root or the nominal relation), then each
 * result relation, children and partitions included.  An unlock for the
 * named table does not reach a table attached or made to inherit from it
 * since: that one is decided on by itself.
 */
static void
decide_on_emptied_relations(PlannedStmt *stmt, ModifyTable *mt,
							GuardedOperation operation)
{
	Index		named = mt->rootRelation ? mt->rootRelation : mt->nominalRelation;
	Oid			named_relid = named > 0 ? rt_fetch(named, stmt->rtable)->relid : InvalidOid;
	GuardedAttempt attempt;
	ListCell   *lc;

	if (OidIsValid(named_relid) &&
		tfguard_relation_is_guarded(named_relid, operation, &attempt))
		tfguard_decide(&attempt);
	foreach(lc, mt->resultRelations)
	{
		Oid			relid = rt_fetch(lfirst_int(lc), stmt->rtable)->relid;

		if (relid != named_relid &&
			tfguard_relation_is_guarded(relid, operation, &attempt))
			tfguard_decide(&attempt);
	}
}

/* The result relations, the nominal one and the root, as a TargetSet. */
static void
target_range_table_indexes(ModifyTable *mt, TargetSet *targets)
{
	ListCell   *lc;

	targets->many = NULL;
	targets->single = mt->resultRelations != NIL ?
		(Index) linitial_int(mt->resultRelations) : mt->nominalRelation;
	if (list_length(mt->resultRelations) <= 1 && targets->single > 0 &&
		(mt->nominalRelation == 0 || mt->nominalRelation == targets->single) &&
		(mt->rootRelation == 0 || mt->rootRelation == targets->single))
		return;

	targets->single = 0;
	foreach(lc, mt->resultRelations)
		targets->many = bms_add_member(targets->many, lfirst_int(lc));
	if (mt->nominalRelation > 0)
		targets->many = bms_add_member(targets->many, (int) mt->nominalRelation);
	if (mt->rootRelation > 0)
		targets->many = bms_add_member(targets->many, (int) mt->rootRelation);
}

/* Does the plan under the ModifyTable (its only one) restrict the target's rows? */
static bool
subplans_restrict_target(ModifyTable *mt, const TargetSet *targets)
{
	return target_rows_restricted(outerPlan(mt), targets);
}

#ifdef HAVE_MERGE
/*
 * Does the MERGE have an action of type "command" (DELETE, UPDATE) with no
 * condition on the target, for the rows that match (matched) or for those
 * that match no source row?
 */
static bool
merge_acts_unconditionally(ModifyTable *mt, const TargetSet *targets,
						   CmdType command, bool matched)
{
	ListCell   *lc_list;
	ListCell   *lc;

	foreach(lc_list, mt->mergeActionLists)
	{
		foreach(lc, (List *) lfirst(lc_list))
		{
			MergeAction *action = (MergeAction *) lfirst(lc);

			if (action->commandType == command &&
				(matched ? MergeActionOnMatched(action) :
				 MergeActionOnNotMatchedBySource(action)) &&
				!expression_references_target(action->qual, targets))
				return true;
		}
	}
	return false;
}

/*
 * A MERGE deletes (or updates) every target row when its join does not
 * restrict the target (ON true, or a condition on the source only) and a
 * WHEN MATCHED ... THEN DELETE has no condition on the target; or,
 * whatever the join, when both the rows that match and those that match
 * nothing (WHEN NOT MATCHED BY SOURCE, PostgreSQL 17) are deleted without
 * a condition.
 */
static bool
merge_acts_on_every_row(ModifyTable *mt, const TargetSet *targets, CmdType command)
{
	if (!merge_acts_unconditionally(mt, targets, command, true))
		return false;
	if (merge_acts_unconditionally(mt, targets, command, false))
		return true;
	return !expression_references_target((Node *) ModifyTableMergeJoinConditions(mt),
										  targets) &&
		!subplans_restrict_target(mt, targets);
}
#endif

/*
 * Would this ModifyTable remove (delete_all) or overwrite (update_all)
 * rows of its target without any condition on the target?  Returns
 * whether it would, and which.  The plan walk runs before any catalog
 * lookup, as it is the cheaper of the two.
 */
static bool
modify_table_is_unrestricted(ModifyTable *mt, GuardedOperation *operation)
{
	TargetSet	targets;
	bool		unrestricted = false;

	if (mt->operation != CMD_DELETE && mt->operation != CMD_UPDATE
#ifdef HAVE_MERGE
		&& mt->operation != CMD_MERGE
#endif
		)
		return false;

	target_range_table_indexes(mt, &targets);
	if (mt->operation == CMD_DELETE || mt->operation == CMD_UPDATE)
	{
		unrestricted = !subplans_restrict_target(mt, &targets);
		*operation = mt->operation == CMD_DELETE ?
			GUARDED_DELETE_ALL : GUARDED_UPDATE_ALL;
	}
#ifdef HAVE_MERGE
	else if (merge_acts_on_every_row(mt, &targets, CMD_DELETE))
	{
		unrestricted = true;
		*operation = GUARDED_DELETE_ALL;
	}
	else if (merge_acts_on_every_row(mt, &targets, CMD_UPDATE))
	{
		unrestricted = true;
		*operation = GUARDED_UPDATE_ALL;
	}
#endif
	bms_free(targets.many);
	return unrestricted;
}

/* PlanVisitor: decide on every DELETE, UPDATE and MERGE in the tree. */
static bool
classify_modify_table(Plan *plan, void *context)
{
	PlannedStmt *stmt = (PlannedStmt *) context;
	GuardedOperation operation;

	if (IsA(plan, ModifyTable) &&
		modify_table_is_unrestricted((ModifyTable *) plan, &operation))
		decide_on_emptied_relations(stmt, (ModifyTable *) plan, operation);
	return false;
}

/*
 * The audit table is append-only, and only the audit writer appends: any
 * other INSERT, UPDATE, DELETE or MERGE on it is a reconfigure attempt.
 * So is one on any other table of schema tfguard (the standing rules'
 * table is written by add_rule() and drop_rule() only).  The audit
 * table's OID is valid in the home database only: elsewhere this costs a
 * test.
 */
static void
classify_audit_table_writes(PlannedStmt *stmt)
{
	Oid			audit_table;
	ListCell   *lc;

	if (stmt->resultRelations == NIL || tfguard_is_audit_writer)
		return;
	audit_table = tfguard_audit_table_oid();
	if (!OidIsValid(audit_table))
		return;
	foreach(lc, stmt->resultRelations)
	{
		Oid			relid = rt_fetch(lfirst_int(lc), stmt->rtable)->relid;
		GuardedAttempt attempt = {0};

		attempt.operation = GUARDED_RECONFIGURE;
		attempt.object_class = RelationRelationId;
		attempt.object_id = relid;
		if (relid == audit_table)
		{
			attempt.object_kind = OBJECT_KIND_AUDIT_TABLE;
			attempt.object_name = "tfguard.audit_log";
			tfguard_decide(&attempt);
		}
		else if (tfguard_part_of_relation(relid) == PART_SCHEMA)
		{
			attempt.object_kind = OBJECT_KIND_TFGUARD_SCHEMA;
			attempt.object_name = "tfguard";
			tfguard_decide(&attempt);
		}
	}
}

/* PlanVisitor: an UPDATE or MERGE, which can move rows between partitions? */
static bool
node_may_move_rows(Plan *plan, void *context)
{
	return IsA(plan, ModifyTable) &&
		(((ModifyTable *) plan)->operation == CMD_UPDATE
#ifdef HAVE_MERGE
		 || ((ModifyTable *) plan)->operation == CMD_MERGE
#endif
		);
}

static bool
plan_may_move_rows(PlannedStmt *stmt)
{
	ListCell   *lc;

	if (plan_tree_walk(stmt->planTree, node_may_move_rows, NULL))
		return true;
	foreach(lc, stmt->subplans)
	{
		if (plan_tree_walk((Plan *) lfirst(lc), node_may_move_rows, NULL))
			return true;
	}
	return false;
}

/*
 * Called at ExecutorStart for every plan that writes (the hook lets reads
 * through).  Plans that can neither delete nor update (no DELETE, UPDATE
 * or MERGE at top level, no data-modifying CTE) return after the audit
 * table check.
 */
void
tfguard_classify_plan(PlannedStmt *stmt)
{
	ListCell   *lc;

	/* reads were let through by the ExecutorStart hook */
	classify_audit_table_writes(stmt);

	/*
	 * An UPDATE can move old rows into a partition created just now, and
	 * so can one in a data-modifying CTE of any statement: the top command
	 * does not tell, the plan's ModifyTable nodes do.
	 */
	if (stmt->commandType == CMD_UPDATE ||
#ifdef HAVE_MERGE
		stmt->commandType == CMD_MERGE ||
#endif
		(stmt->hasModifyingCTE && plan_may_move_rows(stmt)))
		tfguard_new_partitions_may_hold_old_rows();

	if (stmt->commandType != CMD_DELETE && stmt->commandType != CMD_UPDATE &&
#ifdef HAVE_MERGE
		stmt->commandType != CMD_MERGE &&
#endif
		!stmt->hasModifyingCTE)
		return;

	/*
	 * The shapes first, refused before any row is touched.  Without a
	 * data-modifying CTE the only ModifyTable is the top node: no walk.
	 */
	if (!stmt->hasModifyingCTE)
		classify_modify_table(stmt->planTree, (void *) stmt);
	else
	{
		plan_tree_walk(stmt->planTree, classify_modify_table, (void *) stmt);
		foreach(lc, stmt->subplans)
			plan_tree_walk((Plan *) lfirst(lc), classify_modify_table,
						   (void *) stmt);
	}

	/* what it removes and overwrites is judged after it ran (blast_radius.c) */
	tfguard_check_countable(stmt);
}
