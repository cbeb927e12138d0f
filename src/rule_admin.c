/*-------------------------------------------------------------------------
 *
 * rule_admin.c
 *	  tfguard.add_rule() and tfguard.drop_rule(), the table the rules are
 *	  kept in, and its reading into shared memory.
 *
 * The table (tfguard.rule_store, in the home database) is what survives a
 * restart and reaches standbys; shared memory (standing_rule.c) is what
 * the guard reads, in every database.  Both functions write the table
 * directly, past the executor (so past the guard, which refuses every
 * other write to it as reconfigure), holding the table's lock until their
 * transaction ends, and change shared memory so that it never holds a rule
 * the table does not: a new rule is added when its transaction commits, a
 * dropped one is removed at once and put back if its (sub)transaction
 * rolls back.  The audit writer reads the whole table in at its start.
 *
 * A rule's id is the audit id of the row that records its making: unique
 * for good, and the trail's rows about the rule refer to it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "admin_sql.h"
#include "operation.h"
#include "standing_rule.h"

PG_FUNCTION_INFO_V1(tfguard_add_rule);
PG_FUNCTION_INFO_V1(tfguard_drop_rule);

/* tfguard.rule_store's columns */
enum
{
	RULE_ID,
	RULE_ROLE,
	RULE_DATABASE,
	RULE_OPERATIONS,
	RULE_OBJECTS,
	RULE_MAX_ROWS,
	RULE_CREATED_BY,
	RULE_CREATED_AT,
	RULE_EXPIRES,
	RULE_REASON,
	RULE_NCOLUMNS
};

/* a reason longer than this is cut, on a character boundary */
#define RULE_REASON_MAX 1000

/* ---------- the table ---------- */

static Oid
rule_store_oid(bool missing_ok)
{
	Oid			nspid = get_namespace_oid("tfguard", true);
	Oid			relid = OidIsValid(nspid) ?
		get_relname_relid("rule_store", nspid) : InvalidOid;

	if (!OidIsValid(relid) && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("tfguard's standing rules need version 1.1 of extension tfguard"),
				 errhint("Run ALTER EXTENSION tfguard UPDATE in database \"%s\" (a reconfigure: it needs another administrator's token).",
						 tfguard_database)));
	return relid;
}

/*
 * "schema.table" or "schema.*", as SQL writes names (unquoted names are
 * folded to lower case).  False if it is neither.
 */
bool
tfguard_parse_rule_object(const char *text, RuleObject *object)
{
	char	   *raw = pstrdup(text);
	List	   *names;
	const char *schema;
	const char *table;

	if (!SplitIdentifierString(raw, '.', &names) || list_length(names) != 2)
		return false;
	/* "*" in quotes would read as every table: a table of that name is not named */
	if (strstr(text, "\"*\"") != NULL)
		return false;
	schema = (const char *) linitial(names);
	table = (const char *) lsecond(names);
	if (schema[0] == '\0' || table[0] == '\0' ||
		strlen(schema) >= NAMEDATALEN || strlen(table) >= NAMEDATALEN)
		return false;
	memset(object, 0, sizeof(RuleObject));
	namestrcpy(&object->schema, schema);
	if (strcmp(table, "*") != 0)
		namestrcpy(&object->table, table);
	return true;
}

static char *
rule_object_text(const RuleObject *object)
{
	return psprintf("%s.%s", quote_identifier(NameStr(object->schema)),
					NameStr(object->table)[0] ? quote_identifier(NameStr(object->table)) : "*");
}

/* The elements of a text[], none NULL. */
static List *
text_array_elements(ArrayType *array, const char *what)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *out = NIL;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional array", what)));
	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain NULL", what)));
		out = lappend(out, TextDatumGetCString(elems[i]));
	}
	return out;
}

static ArrayType *
text_array(List *texts)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(texts), 1));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, texts)
		elems[n++] = CStringGetTextDatum((const char *) lfirst(lc));
	return construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT);
}

/*
 * A stored row as a rule.  The functions wrote it, so a row that does not
 * read back is skipped with a WARNING (it covers nothing: fail closed).
 */
static bool
rule_from_tuple(HeapTuple tuple, TupleDesc desc, StandingRule *rule)
{
	Datum		values[RULE_NCOLUMNS];
	bool		nulls[RULE_NCOLUMNS];
	ListCell   *lc;
	List	   *operations;
	List	   *objects;

	heap_deform_tuple(tuple, desc, values, nulls);
	memset(rule, 0, sizeof(StandingRule));
	rule->id = DatumGetInt64(values[RULE_ID]);
	rule->role = DatumGetObjectId(values[RULE_ROLE]);
	rule->database = nulls[RULE_DATABASE] ? InvalidOid : DatumGetObjectId(values[RULE_DATABASE]);
	rule->max_rows = nulls[RULE_MAX_ROWS] ? -1 : DatumGetInt64(values[RULE_MAX_ROWS]);
	rule->expires = nulls[RULE_EXPIRES] ? 0 : DatumGetTimestampTz(values[RULE_EXPIRES]);

	operations = text_array_elements(DatumGetArrayTypeP(values[RULE_OPERATIONS]), "operations");
	foreach(lc, operations)
	{
		GuardedOperation operation;

		if (!tfguard_parse_operation((const char *) lfirst(lc), &operation) ||
			(TFGUARD_RULE_OPERATIONS & (1 << operation)) == 0)
			return false;
		rule->operations |= 1 << operation;
	}
	objects = text_array_elements(DatumGetArrayTypeP(values[RULE_OBJECTS]), "objects");
	if (list_length(objects) > TFGUARD_RULE_OBJECTS)
		return false;
	foreach(lc, objects)
	{
		if (!tfguard_parse_rule_object((const char *) lfirst(lc),
									   &rule->objects[rule->nobjects++]))
			return false;
	}
	return rule->operations != 0 && rule->nobjects > 0;
}

/*
 * The audit writer, at its start, in a transaction of its own: every rule
 * of the table replaces what shared memory held (a writer started again
 * after a crash finds the table as it is).  A rule added or dropped by a
 * transaction still open is put in or taken out again when it commits.
 */
void
tfguard_rules_load(void)
{
	StandingRule *rules = palloc0(sizeof(StandingRule) * TFGUARD_MAX_RULES);
	int			n = 0;
	Oid			relid;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	relid = rule_store_oid(true);
	if (OidIsValid(relid))
	{
		/*
		 * No lock that an open add_rule() or drop_rule() would make the
		 * writer wait for (and with it every guarded attempt): a change
		 * committing meanwhile sets shared memory itself when it commits.
		 */
		Relation	rel = table_open(relid, AccessShareLock);
		TableScanDesc scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
		HeapTuple	tuple;

		while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
		{
			if (n == TFGUARD_MAX_RULES)
			{
				ereport(WARNING,
						(errmsg("tfguard.rule_store holds more than %d standing rules; the others cover nothing",
								TFGUARD_MAX_RULES)));
				break;
			}
			if (rule_from_tuple(tuple, RelationGetDescr(rel), &rules[n]))
				n++;
			else
				ereport(WARNING,
						(errmsg("tfguard ignores a row of tfguard.rule_store it cannot read")));
		}
		table_endscan(scan);
		tfguard_rules_replace_all(rules, n);
		table_close(rel, NoLock);
	}
	else
		tfguard_rules_replace_all(rules, 0);
	PopActiveSnapshot();
	CommitTransactionCommand();
	if (n > 0)
		ereport(LOG, (errmsg("tfguard loaded %d standing rules", n)));
}

/* ---------- shared memory follows the transaction ---------- */

typedef struct RuleChange
{
	bool		added;			/* else dropped (already out of shared memory) */
	StandingRule rule;
	SubTransactionId subid;
} RuleChange;

static List *rule_changes = NIL;	/* in TopTransactionContext */
static bool callbacks_registered = false;

static void
rules_at_transaction_end(XactEvent event, void *arg)
{
	ListCell   *lc;

	if (rule_changes == NIL)
		return;
	switch (event)
	{
		case XACT_EVENT_PRE_PREPARE:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot PREPARE a transaction that added or dropped a standing rule")));
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			foreach(lc, rule_changes)
			{
				RuleChange *change = (RuleChange *) lfirst(lc);

				/* add_rule() made room, under the table's lock */
				if (change->added && !tfguard_rules_add(&change->rule))
					ereport(WARNING,
							(errmsg("standing rule " INT64_FORMAT " was committed but finds no room in shared memory; it covers nothing until the server restarts",
									change->rule.id)));
				/* a writer that started meanwhile may have read it back */
				if (!change->added)
				{
					StandingRule removed;

					(void) tfguard_rules_remove(change->rule.id, &removed);
				}
			}
			rule_changes = NIL;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			foreach(lc, rule_changes)
			{
				RuleChange *change = (RuleChange *) lfirst(lc);

				if (!change->added)
					(void) tfguard_rules_add(&change->rule);
			}
			rule_changes = NIL;
			break;
		default:
			break;
	}
}

static void
rules_at_subtransaction_end(SubXactEvent event, SubTransactionId mySubid,
							SubTransactionId parentSubid, void *arg)
{
	List	   *kept = NIL;
	ListCell   *lc;

	if (rule_changes == NIL)
		return;
	if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		foreach(lc, rule_changes)
		{
			RuleChange *change = (RuleChange *) lfirst(lc);

			if (change->subid == mySubid)
				change->subid = parentSubid;
		}
	}
	else if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		foreach(lc, rule_changes)
		{
			RuleChange *change = (RuleChange *) lfirst(lc);

			if (change->subid != mySubid)
				kept = lappend(kept, change);
			else if (!change->added)
				(void) tfguard_rules_add(&change->rule);
		}
		rule_changes = kept;
	}
}

static void
note_rule_change(bool added, const StandingRule *rule)
{
	MemoryContext oldcontext = MemoryContextSwitchTo(TopTransactionContext);
	RuleChange *change = palloc(sizeof(RuleChange));

	if (!callbacks_registered)
	{
		RegisterXactCallback(rules_at_transaction_end, NULL);
		RegisterSubXactCallback(rules_at_subtransaction_end, NULL);
		callbacks_registered = true;
	}
	change->added = added;
	change->rule = *rule;
	change->subid = GetCurrentSubTransactionId();
	rule_changes = lappend(rule_changes, change);
	MemoryContextSwitchTo(oldcontext);
}

static int
rules_added_here(void)
{
	int			n = 0;
	ListCell   *lc;

	foreach(lc, rule_changes)
		n += ((RuleChange *) lfirst(lc))->added ? 1 : 0;
	return n;
}

/* ---------- add_rule() ---------- */

/* "a, b, c" */
static char *
joined(List *texts)
{
	StringInfoData out;
	ListCell   *lc;

	initStringInfo(&out);
	foreach(lc, texts)
		appendStringInfo(&out, "%s%s", out.len ? ", " : "", (const char *) lfirst(lc));
	return out.data;
}

/* A set of operations as a list of their names, as the table keeps them. */
static List *
operation_names(uint32 operations)
{
	List	   *names = NIL;
	char	   *all = tfguard_operations_text(operations);
	char	   *save;

	for (char *each = strtok_r(all, ",", &save); each; each = strtok_r(NULL, ",", &save))
		names = lappend(names, each);
	return names;
}

/*
 * The role a rule is for: never the caller's own, nor one the caller can
 * act as, so that no one makes a rule for themselves.
 */
static Oid
rule_role(const char *name)
{
	Oid			role = get_role_oid(name, false);
	Oid			admin = get_role_oid("tfguard_admin", true);

	if (role == GetUserId() || role == GetSessionUserId() ||
		is_member_of_role_nosuper(GetUserId(), role) ||
		is_member_of_role_nosuper(GetSessionUserId(), role))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot add a standing rule for role \"%s\"", name),
				 errdetail("A standing rule is another human's decision: no one makes one for a role they are or can act as."),
				 errhint("Ask another member of tfguard_admin to add it.")));
	if (role == BOOTSTRAP_SUPERUSERID)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot add a standing rule for role \"%s\"", name),
				 errdetail("Role \"%s\" is the bootstrap superuser, which the audit writer runs as and humans log in as; a job gets a role of its own.",
						   name)));
	if (superuser_arg(role) && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot add a standing rule for role \"%s\"", name),
				 errdetail("Role \"%s\" is a superuser: only another superuser may give it a standing rule.",
						   name)));
	if (OidIsValid(admin) && (role == admin || is_member_of_role_nosuper(role, admin)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot add a standing rule for role \"%s\"", name),
				 errdetail("Role \"%s\" is tfguard_admin or one of its members, who decide on rules and unlocks; a job role gets the rule.",
						   name)));
	return role;
}

static uint32
rule_operations(List *names)
{
	uint32		operations = 0;
	ListCell   *lc;

	if (names == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a standing rule must name at least one operation")));
	foreach(lc, names)
	{
		const char *name = (const char *) lfirst(lc);
		GuardedOperation operation;

		if (!tfguard_parse_operation(name, &operation))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"%s\" is not a guarded operation", name),
					 errhint("A standing rule may name %s.",
							 tfguard_operations_text(TFGUARD_RULE_OPERATIONS))));
		if (operation == GUARDED_RECONFIGURE)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("a standing rule cannot allow reconfigure"),
					 errdetail("Changes to tfguard itself need another administrator's token each time.")));
		if ((TFGUARD_RULE_OPERATIONS & (1 << operation)) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a standing rule cannot allow %s", name),
					 errdetail("Standing rules cover tables; %s needs a human's unlock each time.", name)));
		operations |= 1 << operation;
	}
	return operations;
}

static void
rule_objects(List *texts, StandingRule *rule, List **normalized)
{
	ListCell   *lc;

	if (texts == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a standing rule must name at least one table or schema")));
	if (list_length(texts) > TFGUARD_RULE_OBJECTS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a standing rule names at most %d objects", TFGUARD_RULE_OBJECTS)));
	foreach(lc, texts)
	{
		const char *text = (const char *) lfirst(lc);
		RuleObject *object = &rule->objects[rule->nobjects];

		int			shown = pg_mbcliplen(text, strlen(text), 200);

		if (!tfguard_parse_rule_object(text, object))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid object \"%.*s%s\" for a standing rule",
							shown, text, text[shown] ? "..." : ""),
					 errhint("Name a table as schema.table (it and its partitions) or every table of a schema as schema.*.")));
		if (strcmp(NameStr(object->schema), "tfguard") == 0 ||
			strcmp(NameStr(object->schema), "pg_catalog") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("a standing rule cannot reach schema \"%s\"", NameStr(object->schema))));
		*normalized = lappend(*normalized, rule_object_text(object));
		rule->nobjects++;
	}
}

Datum
tfguard_add_rule(PG_FUNCTION_ARGS)
{
	StandingRule rule = {0};
	List	   *normalized = NIL;
	char	   *role_name;
	char	   *reason;
	char	   *database_name = NULL;
	Oid			relid;
	Relation	rel;
	Datum		values[RULE_NCOLUMNS];
	bool		nulls[RULE_NCOLUMNS] = {0};
	HeapTuple	tuple;
	char	   *detail;

	tfguard_check_caller_is_admin("add standing rules");
	tfguard_check_not_standby("add a standing rule");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("role, operations and objects of a standing rule must not be NULL")));
	role_name = NameStr(*PG_GETARG_NAME(0));
	rule.role = rule_role(role_name);
	rule.operations = rule_operations(text_array_elements(PG_GETARG_ARRAYTYPE_P(1), "operations"));
	rule_objects(text_array_elements(PG_GETARG_ARRAYTYPE_P(2), "objects"), &rule, &normalized);

	rule.max_rows = PG_ARGISNULL(3) ? -1 : PG_GETARG_INT64(3);
	if (!PG_ARGISNULL(3) && rule.max_rows < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_rows must not be negative")));
	rule.expires = PG_ARGISNULL(4) ? 0 : PG_GETARG_TIMESTAMPTZ(4);
	if (!PG_ARGISNULL(4) &&
		(TIMESTAMP_NOT_FINITE(rule.expires) || rule.expires <= GetCurrentTimestamp()))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("expires must be a time in the future, or NULL for a rule that lasts until it is dropped")));

	reason = tfguard_reason_arg(fcinfo, 5, RULE_REASON_MAX);
	if (reason == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a standing rule needs a reason"),
				 errhint("Say which job runs under it and why, e.g. reason => 'pg_partman retention of public.logs'.")));
	if (!PG_ARGISNULL(6))
	{
		database_name = NameStr(*PG_GETARG_NAME(6));
		rule.database = get_database_oid(database_name, false);
	}

	/* one rule change at a time, until this transaction ends */
	relid = rule_store_oid(false);
	rel = table_open(relid, ExclusiveLock);
	if (tfguard_rules_free_slots() - rules_added_here() <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("tfguard keeps at most %d standing rules", TFGUARD_MAX_RULES),
				 errhint("Drop rules no longer needed with tfguard.drop_rule(id).")));

	/* recorded first: a rule that is not in the trail must not exist */
	detail = psprintf("role %s may %s on %s%s%s%s; reason: %s",
					  quote_identifier(role_name),
					  tfguard_operations_text(rule.operations),
					  joined(normalized),
					  database_name ? psprintf(" in database %s", quote_identifier(database_name)) : " in every database",
					  rule.max_rows >= 0 ? psprintf(", at most " INT64_FORMAT " rows a statement", rule.max_rows) : "",
					  rule.expires ? psprintf(", until %s", timestamptz_to_str(rule.expires)) : "",
					  reason);
	rule.id = tfguard_record_admin_event("add_rule", role_name, "allowed", NULL, detail, 0);

	values[RULE_ID] = Int64GetDatum(rule.id);
	values[RULE_ROLE] = ObjectIdGetDatum(rule.role);
	values[RULE_DATABASE] = ObjectIdGetDatum(rule.database);
	nulls[RULE_DATABASE] = !OidIsValid(rule.database);
	values[RULE_OPERATIONS] = PointerGetDatum(text_array(operation_names(rule.operations)));
	values[RULE_OBJECTS] = PointerGetDatum(text_array(normalized));
	values[RULE_MAX_ROWS] = Int64GetDatum(rule.max_rows);
	nulls[RULE_MAX_ROWS] = rule.max_rows < 0;
	values[RULE_CREATED_BY] = DirectFunctionCall1(namein,
												  CStringGetDatum(GetUserNameFromId(GetUserId(), false)));
	values[RULE_CREATED_AT] = TimestampTzGetDatum(GetCurrentTimestamp());
	values[RULE_EXPIRES] = TimestampTzGetDatum(rule.expires);
	nulls[RULE_EXPIRES] = rule.expires == 0;
	values[RULE_REASON] = CStringGetTextDatum(reason);

	tuple = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	simple_heap_insert(rel, tuple);
	table_close(rel, NoLock);
	note_rule_change(true, &rule);

	PG_RETURN_INT64(rule.id);
}

/* ---------- drop_rule() ---------- */

Datum
tfguard_drop_rule(PG_FUNCTION_ARGS)
{
	int64		id;
	char	   *reason = tfguard_reason_arg(fcinfo, 1, RULE_REASON_MAX);
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tuple;
	ItemPointerData found;
	bool		exists = false;
	StandingRule removed;
	char	   *role_name = NULL;

	tfguard_check_caller_is_admin("drop standing rules");
	tfguard_check_not_standby("drop a standing rule");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the standing rule's id must not be NULL")));
	id = PG_GETARG_INT64(0);

	rel = table_open(rule_store_oid(false), ExclusiveLock);
	scan = table_beginscan(rel, SnapshotSelf, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		Datum		value = heap_getattr(tuple, RULE_ID + 1, RelationGetDescr(rel), &isnull);

		if (!isnull && DatumGetInt64(value) == id)
		{
			Oid			role = DatumGetObjectId(heap_getattr(tuple, RULE_ROLE + 1,
															 RelationGetDescr(rel), &isnull));

			found = tuple->t_self;
			role_name = GetUserNameFromId(role, true);
			exists = true;
			break;
		}
	}
	table_endscan(scan);
	if (!exists)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("standing rule " INT64_FORMAT " does not exist", id),
				 errhint("tfguard.rules lists the rules.")));

	tfguard_record_admin_event("drop_rule", role_name ? role_name : "(dropped role)",
							   "allowed", NULL,
							   reason ? psprintf("reason: %s", reason) : NULL, id);
	simple_heap_delete(rel, &found);
	table_close(rel, NoLock);

	/* out of shared memory at once; back if this rolls back */
	if (tfguard_rules_remove(id, &removed))
		note_rule_change(false, &removed);
	PG_RETURN_VOID();
}
