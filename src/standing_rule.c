/*-------------------------------------------------------------------------
 *
 * standing_rule.c
 *	  Standing rules in shared memory, and the questions the guard asks
 *	  of them.
 *
 * A standing rule is a human's decision, made once with add_rule(), that
 * one job role (the one pg_repack or pg_partman runs as) may run some
 * guarded operations on some tables without asking each time.  The guard
 * runs in every database, the rules' table only in the home database, so
 * the rules are copied into shared memory (by the audit writer at its
 * start, by add_rule() and drop_rule() when they commit) and read from
 * there: no guarded attempt reads a catalog for them, and an ordinary
 * statement never looks at them at all.
 *
 * A rule names its tables: "schema.table", that table and its partitions,
 * or "schema.*", every table of the schema.  Names alone would let anyone
 * who can rename a table hand it to the rule: so a table that holds rows
 * does not enter a rule's reach by a rename, a move to another schema or
 * ATTACH PARTITION (nor by renaming its schema); each is refused as what
 * the rule would let happen to it (tfguard_rules_check_reach).  Tables
 * created in the reach, as pg_repack's and pg_partman's are, are covered.
 *
 * This is the only file that takes the rules' lock; under it, rules are
 * only copied.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/dependency.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "commands/extension.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "decide.h"
#include "operation.h"
#include "relation.h"
#include "standing_rule.h"
#include "transaction_list.h"

typedef struct RuleSet
{
	LWLock	   *lock;
	int			nrules;
	StandingRule rules[TFGUARD_MAX_RULES];
} RuleSet;

static RuleSet *rule_set = NULL;

/* ---------- shared memory (requested and attached by shmem.c) ---------- */

Size
tfguard_rules_shmem_size(void)
{
	return MAXALIGN(sizeof(RuleSet));
}

/* Called with AddinShmemInitLock held. */
void
tfguard_rules_shmem_attach(void)
{
	bool		found;

	rule_set = ShmemInitStruct("tfguard rules", sizeof(RuleSet), &found);
	if (!found)
	{
		memset(rule_set, 0, sizeof(RuleSet));
		rule_set->lock = &(GetNamedLWLockTranche("tfguard rules"))->lock;
	}
}

/* ---------- the shared copy ---------- */

/* The audit writer, at its start: the table's rules replace what was here. */
void
tfguard_rules_replace_all(const StandingRule *rules, int nrules)
{
	Assert(nrules <= TFGUARD_MAX_RULES);
	LWLockAcquire(rule_set->lock, LW_EXCLUSIVE);
	memcpy(rule_set->rules, rules, nrules * sizeof(StandingRule));
	rule_set->nrules = nrules;
	LWLockRelease(rule_set->lock);
}

/*
 * Add a rule, or replace the one of the same id (a writer that started
 * meanwhile may have read it from the table already).  False if there is
 * no room (add_rule() checked, and holds the table's lock).
 */
bool
tfguard_rules_add(const StandingRule *rule)
{
	bool		added = false;

	LWLockAcquire(rule_set->lock, LW_EXCLUSIVE);
	for (int i = 0; i < rule_set->nrules && !added; i++)
	{
		if (rule_set->rules[i].id == rule->id)
		{
			rule_set->rules[i] = *rule;
			added = true;
		}
	}
	if (!added && rule_set->nrules < TFGUARD_MAX_RULES)
	{
		rule_set->rules[rule_set->nrules++] = *rule;
		added = true;
	}
	LWLockRelease(rule_set->lock);
	return added;
}

/* Remove rule "id"; what it was goes to *removed.  False if absent. */
bool
tfguard_rules_remove(int64 id, StandingRule *removed)
{
	bool		found = false;

	LWLockAcquire(rule_set->lock, LW_EXCLUSIVE);
	for (int i = 0; i < rule_set->nrules; i++)
	{
		if (rule_set->rules[i].id == id)
		{
			*removed = rule_set->rules[i];
			rule_set->rules[i] = rule_set->rules[--rule_set->nrules];
			found = true;
			break;
		}
	}
	LWLockRelease(rule_set->lock);
	return found;
}

int
tfguard_rules_free_slots(void)
{
	int			free_slots;

	LWLockAcquire(rule_set->lock, LW_SHARED);
	free_slots = TFGUARD_MAX_RULES - rule_set->nrules;
	LWLockRelease(rule_set->lock);
	return free_slots;
}

/*
 * Are there any rules?  Read without the lock: a rule added at this very
 * moment is seen by the next statement.  Ordinary statements never ask.
 */
bool
tfguard_rules_exist(void)
{
	return rule_set != NULL && rule_set->nrules > 0;
}

/*
 * Copy the live rules for this database (and, if role is valid, that
 * role) that name one of "operations"; returns how many.
 */
static int
copy_live_rules(Oid role, uint32 operations, StandingRule *out)
{
	TimestampTz now = GetCurrentTimestamp();
	int			n = 0;

	LWLockAcquire(rule_set->lock, LW_SHARED);
	for (int i = 0; i < rule_set->nrules; i++)
	{
		const StandingRule *rule = &rule_set->rules[i];

		if ((rule->operations & operations) == 0 ||
			(OidIsValid(role) && rule->role != role) ||
			(OidIsValid(rule->database) && rule->database != MyDatabaseId) ||
			(rule->expires != 0 && rule->expires <= now))
			continue;
		out[n++] = *rule;
	}
	LWLockRelease(rule_set->lock);
	return n;
}

/* ---------- reach ---------- */

/*
 * Which of the rules have an object naming this relation or one of its
 * ancestors?  Fills reaches[0..n-1]; the names are looked up once.
 */
static void
rules_reaching(const StandingRule *rules, int n, Oid relid, bool *reaches)
{
	List	   *lineage = list_make1_oid(relid);
	ListCell   *lc;

	memset(reaches, 0, n * sizeof(bool));
	if (get_rel_relispartition(relid))
		lineage = list_concat(lineage, get_partition_ancestors(relid));

	foreach(lc, lineage)
	{
		Oid			each = lfirst_oid(lc);
		char	   *relname = get_rel_name(each);
		char	   *nspname = get_namespace_name(get_rel_namespace(each));

		if (relname == NULL || nspname == NULL)
			continue;
		for (int r = 0; r < n; r++)
		{
			for (int i = 0; i < rules[r].nobjects && !reaches[r]; i++)
			{
				const RuleObject *object = &rules[r].objects[i];

				if (strcmp(NameStr(object->schema), nspname) != 0)
					continue;
				/* "schema.*" takes the relation itself, by its own schema */
				reaches[r] = NameStr(object->table)[0] == '\0' ? each == relid :
					strcmp(NameStr(object->table), relname) == 0;
			}
		}
	}
}

/*
 * Count the rows of a relation (of its partitions, if partitioned) up to
 * "limit": any committed row and this transaction's own, as the guard
 * counts what a DROP loses.
 */
static int64
count_rows_up_to(Oid relid, int64 limit)
{
	List	   *tables = find_all_inheritors(relid, AccessShareLock, NULL);
	int64		rows = 0;
	ListCell   *lc;

	foreach(lc, tables)
	{
		Oid			each = lfirst_oid(lc);
		char		relkind = get_rel_relkind(each);
		Relation	rel;
		TableScanDesc scan;
		TupleTableSlot *slot;

		if (relkind != RELKIND_RELATION && relkind != RELKIND_MATVIEW)
			continue;
		rel = table_open(each, AccessShareLock);
		scan = table_beginscan(rel, SnapshotSelf, 0, NULL);
		slot = table_slot_create(rel, NULL);
		while (rows < limit &&
			   table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			rows++;
			CHECK_FOR_INTERRUPTS();
		}
		ExecDropSingleTupleTableSlot(slot);
		table_endscan(scan);
		table_close(rel, AccessShareLock);
		if (rows >= limit)
			break;
	}
	return rows;
}

/*
 * What each rule let this transaction destroy, per table: max_rows caps
 * the sum over a partition tree, so that a DELETE over many partitions,
 * judged one partition at a time, cannot take more than the cap in all.
 * A table judged again (a mass change growing) replaces its own count.
 */
typedef struct RuleUse
{
	int64		rule_id;
	Oid			root;			/* the partition tree's root, or the table */
	Oid			relid;
	int64		rows;
} RuleUse;

static TransactionList rule_uses;

static Oid
partition_root(Oid relid)
{
	List	   *ancestors;

	if (!get_rel_relispartition(relid))
		return relid;
	ancestors = get_partition_ancestors(relid);
	return ancestors == NIL ? relid : llast_oid(ancestors);
}

/* Rows the rule already let this transaction destroy in the tree, but this table's. */
static int64
rows_used_elsewhere(int64 rule_id, Oid root, Oid relid)
{
	int64		rows = 0;
	ListCell   *lc;

	foreach(lc, rule_uses.list)
	{
		RuleUse    *use = (RuleUse *) lfirst(lc);

		if (use->rule_id == rule_id && use->root == root && use->relid != relid)
			rows += use->rows;
	}
	return rows;
}

static void
note_rule_use(int64 rule_id, Oid root, Oid relid, int64 rows)
{
	MemoryContext oldcontext;
	RuleUse    *use;
	ListCell   *lc;

	foreach(lc, rule_uses.list)
	{
		use = (RuleUse *) lfirst(lc);
		if (use->rule_id == rule_id && use->relid == relid)
		{
			use->rows = Max(use->rows, rows);
			return;
		}
	}
	oldcontext = transaction_list_switch_to(&rule_uses);
	use = palloc(sizeof(RuleUse));
	use->rule_id = rule_id;
	use->root = root;
	use->relid = relid;
	use->rows = rows;
	rule_uses.list = lappend(rule_uses.list, use);
	MemoryContextSwitchTo(oldcontext);
}

/*
 * Does a standing rule of this session's role cover the attempt?  If so,
 * *rule_id is the rule's.  If a rule reaches the attempt but its max_rows
 * does not allow it, *why_not says so (and *rule_id names that rule).
 * Only tables are covered: never a database, never tfguard itself.
 */
bool
tfguard_rule_covers(const GuardedAttempt *attempt, int64 *rule_id,
					const char **why_not)
{
	StandingRule rules[TFGUARD_MAX_RULES];
	bool		reaches[TFGUARD_MAX_RULES];
	int			n;

	*why_not = NULL;
	if (!tfguard_rules_exist() ||
		attempt->object_class != RelationRelationId ||
		attempt->object_kind == OBJECT_KIND_RULE_REACH ||
		(TFGUARD_RULE_OPERATIONS & (1 << attempt->operation)) == 0)
		return false;

	n = copy_live_rules(GetSessionUserId(), 1 << attempt->operation, rules);
	rules_reaching(rules, n, attempt->object_id, reaches);
	for (int i = 0; i < n; i++)
	{
		int64		rows;
		Oid			root;
		bool		per_tree;

		if (!reaches[i])
			continue;
		if (rules[i].max_rows >= 0)
		{
			/*
			 * Rows a DELETE or UPDATE changes add up over the partitions
			 * it is judged on one by one; a drop or truncate is capped by
			 * itself (a retention job drops one partition after another).
			 */
			per_tree = attempt->operation != GUARDED_DROP_TABLE &&
				attempt->operation != GUARDED_TRUNCATE;
			root = per_tree ? partition_root(attempt->object_id) : attempt->object_id;
			if (attempt->operation == GUARDED_MASS_DELETE ||
				attempt->operation == GUARDED_MASS_UPDATE)
				rows = attempt->rows_changed < 0 ? PG_INT64_MAX : attempt->rows_changed;
			else
				rows = count_rows_up_to(attempt->object_id, rules[i].max_rows + 1);
			if (rows > rules[i].max_rows ||
				rows + rows_used_elsewhere(rules[i].id, root, attempt->object_id) > rules[i].max_rows)
			{
				*rule_id = rules[i].id;
				*why_not = psprintf("it would destroy more than the " INT64_FORMAT " rows standing rule " INT64_FORMAT " allows",
									rules[i].max_rows, rules[i].id);
				continue;
			}
			note_rule_use(rules[i].id, root, attempt->object_id, rows);
		}
		*rule_id = rules[i].id;
		*why_not = NULL;
		return true;
	}
	return false;
}

/*
 * The rule, among the live ones for this database, that reaches the
 * relation, and the operation it would let run on it (drop_table first),
 * or NULL.
 */
static const StandingRule *
rule_reaching(const StandingRule *rules, int n, Oid relid,
			  GuardedOperation *operation)
{
	static const GuardedOperation worst_first[] = {
		GUARDED_DROP_TABLE, GUARDED_TRUNCATE, GUARDED_DELETE_ALL,
		GUARDED_MASS_DELETE, GUARDED_DROP_COLUMN, GUARDED_UPDATE_ALL,
		GUARDED_MASS_UPDATE
	};

	bool		reaches[TFGUARD_MAX_RULES];

	rules_reaching(rules, n, relid, reaches);
	for (int i = 0; i < n; i++)
	{
		if (!reaches[i])
			continue;
		for (int j = 0; j < (int) lengthof(worst_first); j++)
		{
			if (rules[i].operations & (1 << worst_first[j]))
			{
				*operation = worst_first[j];
				return &rules[i];
			}
		}
	}
	return NULL;
}

/*
 * Called after a statement that may have brought an existing relation
 * into a rule's reach (a rename, SET SCHEMA, ATTACH PARTITION): the
 * relation and its partitions.  One that holds rows, and was not created
 * by this transaction, is decided on as what the rule would let happen
 * to it: refused unless a human unlocked that.
 */
void
tfguard_rules_check_reach(Oid relid)
{
	StandingRule rules[TFGUARD_MAX_RULES];
	int			n;
	List	   *tables;
	ListCell   *lc;

	if (!tfguard_rules_exist() || !OidIsValid(relid) ||
		get_rel_relkind(relid) == '\0')
		return;
	n = copy_live_rules(InvalidOid, TFGUARD_RULE_OPERATIONS, rules);
	if (n == 0)
		return;

	tables = find_all_inheritors(relid, NoLock, NULL);
	foreach(lc, tables)
	{
		Oid			each = lfirst_oid(lc);
		GuardedOperation operation;
		const StandingRule *rule = rule_reaching(rules, n, each, &operation);
		GuardedAttempt attempt = {0};

		if (rule == NULL ||
			!tfguard_relation_is_guarded(each, operation, &attempt) ||
			count_rows_up_to(each, 1) == 0)
			continue;
		attempt.object_kind = OBJECT_KIND_RULE_REACH;
		attempt.rule_id = rule->id;
		attempt.rule_role = rule->role;
		tfguard_decide(&attempt);
	}
}

/* After ALTER SCHEMA ... RENAME: every relation of the schema. */
void
tfguard_rules_check_schema_reach(Oid nspid)
{
	Relation	pg_class;
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *relids = NIL;
	ListCell   *lc;

	if (!tfguard_rules_exist())
		return;
	pg_class = table_open(RelationRelationId, AccessShareLock);
	scan = systable_beginscan(pg_class, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);

		/* a partitioned table brings its partitions, in whatever schema */
		if (form->relnamespace == nspid &&
			(form->relkind == RELKIND_RELATION || form->relkind == RELKIND_MATVIEW ||
			 form->relkind == RELKIND_PARTITIONED_TABLE))
			relids = lappend_oid(relids, form->oid);
	}
	systable_endscan(scan);
	table_close(pg_class, AccessShareLock);

	foreach(lc, relids)
		tfguard_rules_check_reach(lfirst_oid(lc));
}

/*
 * Before a utility statement: may it bring existing tables into a rule's
 * reach?  Returns the relation (any rename of a relation, SET SCHEMA, the
 * partition of ATTACH PARTITION), the schema (a rename of a schema) or the
 * extension (ALTER EXTENSION ... SET SCHEMA) to check once it ran,
 * resolved now, before names change.
 * Costs ordinary statements nothing: asked only while rules exist.
 */
bool
tfguard_rules_reach_target(Node *parsetree, Oid *relid, Oid *nspid, Oid *extension)
{
	*relid = InvalidOid;
	*nspid = InvalidOid;
	*extension = InvalidOid;
	if (!tfguard_rules_exist())
		return false;
	switch (nodeTag(parsetree))
	{
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) parsetree;

				/*
				 * ALTER INDEX (and, where PostgreSQL allows it, ALTER VIEW,
				 * SEQUENCE, FOREIGN TABLE) renames any relation: every
				 * rename of a relation is looked at, whatever it says.
				 */
				if (stmt->renameType == OBJECT_SCHEMA)
					*nspid = get_namespace_oid(stmt->subname, true);
				else if ((stmt->renameType == OBJECT_TABLE ||
						  stmt->renameType == OBJECT_MATVIEW ||
						  stmt->renameType == OBJECT_INDEX ||
						  stmt->renameType == OBJECT_VIEW ||
						  stmt->renameType == OBJECT_SEQUENCE ||
						  stmt->renameType == OBJECT_FOREIGN_TABLE) && stmt->relation)
					*relid = RangeVarGetRelid(stmt->relation, NoLock, true);
				break;
			}
		case T_AlterObjectSchemaStmt:
			{
				AlterObjectSchemaStmt *stmt = (AlterObjectSchemaStmt *) parsetree;

				if ((stmt->objectType == OBJECT_TABLE ||
					 stmt->objectType == OBJECT_MATVIEW ||
					 stmt->objectType == OBJECT_VIEW ||
					 stmt->objectType == OBJECT_SEQUENCE ||
					 stmt->objectType == OBJECT_FOREIGN_TABLE) && stmt->relation)
					*relid = RangeVarGetRelid(stmt->relation, NoLock, true);
				else if (stmt->objectType == OBJECT_EXTENSION)
					*extension = get_extension_oid(strVal(stmt->object), true);
				break;
			}
		case T_AlterTableStmt:
			{
				ListCell   *lc;

				foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
				{
					AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

					if (cmd->subtype == AT_AttachPartition)
						*relid = RangeVarGetRelid(castNode(PartitionCmd, cmd->def)->name,
												  NoLock, true);
				}
				break;
			}
		default:
			break;
	}
	return OidIsValid(*relid) || OidIsValid(*nspid) || OidIsValid(*extension);
}

/* ALTER EXTENSION ... SET SCHEMA moves the extension's tables with it. */
static void
check_extension_reach(Oid extension)
{
	Relation	depend = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *relids = NIL;
	ListCell   *lc;

	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(ExtensionRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(extension));
	scan = systable_beginscan(depend, DependReferenceIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_depend form = (Form_pg_depend) GETSTRUCT(tuple);

		if (form->classid == RelationRelationId && form->objsubid == 0 &&
			form->deptype == DEPENDENCY_EXTENSION)
			relids = lappend_oid(relids, form->objid);
	}
	systable_endscan(scan);
	table_close(depend, AccessShareLock);

	foreach(lc, relids)
		tfguard_rules_check_reach(lfirst_oid(lc));
}

/* After the statement tfguard_rules_reach_target() was asked about. */
void
tfguard_rules_check_reach_after(Oid relid, Oid nspid, Oid extension)
{
	/* what the statement changed is seen from here on */
	CommandCounterIncrement();
	if (OidIsValid(relid))
		tfguard_rules_check_reach(relid);
	if (OidIsValid(nspid))
		tfguard_rules_check_schema_reach(nspid);
	if (OidIsValid(extension))
		check_extension_reach(extension);
}
