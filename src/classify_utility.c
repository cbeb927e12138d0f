/*-------------------------------------------------------------------------
 *
 * classify_utility.c
 *	  Utility statements that change tfguard itself -> reconfigure attempts.
 *
 * Most guarded operations are classified where PostgreSQL removes the
 * object (classify_object.c).  Statements aimed at tfguard's own objects
 * in the home database (the extension, schema tfguard, the audit table)
 * are caught here instead, from the parse tree, before PostgreSQL takes
 * any lock:
 *
 * - refusing a DROP at OAT_DROP would wait for the audit writer while
 *   holding the lock the writer needs to record the refusal;
 * - COPY ... FROM writes rows without going through the executor hook
 *   that protects the audit table from every other write;
 * - ALTER TABLE can empty columns (ALTER ... TYPE ... USING NULL), and a
 *   rename would move the table out from under the name-based protection.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "utils/lsyscache.h"

#include "tfguard.h"

/* The part of tfguard a utility statement would change, if any. */
typedef enum TfguardPart
{
	PART_NONE,
	PART_AUDIT_TABLE,			/* tfguard.audit_log */
	PART_AUDIT_SEQUENCE,		/* the audit table's ids */
	PART_SCHEMA,				/* schema tfguard and what it holds */
	PART_EXTENSION,				/* the extension itself */
	PART_SETTING				/* a setting ALTER SYSTEM would write */
} TfguardPart;

static void
refuse_reconfigure(const char *object_kind, const char *object_name)
{
	GuardedAttempt attempt;

	attempt.operation = GUARDED_RECONFIGURE;
	attempt.object_kind = object_kind;
	attempt.object_name = object_name;
	attempt.object_id = InvalidOid;
	tfguard_decide(&attempt);
}

static bool
range_var_is_audit_table(RangeVar *relation)
{
	Oid			audit_table;

	if (relation == NULL)
		return false;
	audit_table = tfguard_audit_table_oid();
	return OidIsValid(audit_table) &&
		RangeVarGetRelid(relation, NoLock, true) == audit_table;
}

/* Is the name (a String, or a List of them for qualified names) "tfguard"? */
static bool
name_is_tfguard(Node *name)
{
	return IsA(name, String) && strcmp(strVal(name), "tfguard") == 0;
}

static bool
qualified_name_is_audit_table(List *names)
{
	return OidIsValid(tfguard_audit_table_oid()) &&
		range_var_is_audit_table(makeRangeVarFromNameList(names));
}

/* Which part of tfguard does a DROP name, if any? */
static TfguardPart
drop_target(DropStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		Node	   *object = lfirst(lc);

		switch (stmt->removeType)
		{
			case OBJECT_EXTENSION:
				if (name_is_tfguard(object))
					return PART_EXTENSION;
				break;
			case OBJECT_SCHEMA:
				if (name_is_tfguard(object) &&
					OidIsValid(tfguard_audit_table_oid()))
					return PART_SCHEMA;
				break;
			case OBJECT_TABLE:
				if (qualified_name_is_audit_table(castNode(List, object)))
					return PART_AUDIT_TABLE;
				break;
			default:
				return PART_NONE;
		}
	}
	return PART_NONE;
}

/* Does any of the relations (RangeVars) name the audit table? */
static bool
any_is_audit_table(List *relations)
{
	ListCell   *lc;

	foreach(lc, relations)
	{
		if (range_var_is_audit_table(lfirst_node(RangeVar, lc)))
			return true;
	}
	return false;
}

/*
 * ALTER TABLE of the audit table itself, or of another table to make it
 * inherit from the audit table (its rows would then show in the trail).
 */
static bool
alter_table_touches_audit_table(AlterTableStmt *stmt)
{
	ListCell   *lc;

	if (range_var_is_audit_table(stmt->relation))
		return true;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		if (cmd->subtype == AT_AddInherit &&
			range_var_is_audit_table((RangeVar *) cmd->def))
			return true;
	}
	return false;
}

/* Is the relation in schema tfguard of the home database (its sequence)? */
static bool
range_var_in_tfguard_schema(RangeVar *relation)
{
	Oid			audit_table = tfguard_audit_table_oid();
	Oid			relid;

	if (!OidIsValid(audit_table))
		return false;
	relid = RangeVarGetRelid(relation, NoLock, true);
	return OidIsValid(relid) &&
		get_rel_namespace(relid) == get_rel_namespace(audit_table);
}

/* Does ALTER SYSTEM touch the guard's settings or what loads it? */
static const char *
alter_system_target(AlterSystemStmt *stmt)
{
	const char *name = stmt->setstmt->name;
	size_t		len;

	if (name == NULL)
		return "ALL";			/* ALTER SYSTEM RESET ALL */
	len = strlen(name);
	if (strncmp(name, "tfguard.", 8) == 0 ||
		(len >= 18 && strcmp(name + len - 18, "_preload_libraries") == 0))
		return name;
	return NULL;
}

/* Is a qualified name's schema, or else the creation schema, tfguard? */
static bool
creates_in_tfguard_schema(List *qualified_name)
{
	char	   *objname;
	Oid			nspid;

	if (!OidIsValid(tfguard_audit_table_oid()))
		return false;
	nspid = QualifiedNameGetCreationNamespace(qualified_name, &objname);
	return nspid == get_rel_namespace(tfguard_audit_table_oid());
}

/* Does a DROP name a function, view, sequence or index in schema tfguard? */
static bool
drops_from_tfguard_schema(DropStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		List	   *names = NIL;
		Node	   *object = lfirst(lc);

		switch (stmt->removeType)
		{
			case OBJECT_FUNCTION:
			case OBJECT_PROCEDURE:
			case OBJECT_ROUTINE:
				names = castNode(ObjectWithArgs, object)->objname;
				break;
			case OBJECT_VIEW:
			case OBJECT_SEQUENCE:
			case OBJECT_INDEX:
				names = castNode(List, object);
				break;
			default:
				return false;
		}
		if (list_length(names) >= 2 && name_is_tfguard(linitial(names)) &&
			OidIsValid(tfguard_audit_table_oid()))
			return true;
	}
	return false;
}

/* Does a function name (RENAME, SET SCHEMA, ALTER FUNCTION) lie in schema tfguard? */
static bool
function_in_tfguard_schema(ObjectType type, Node *object)
{
	return (type == OBJECT_FUNCTION || type == OBJECT_PROCEDURE ||
			type == OBJECT_ROUTINE) &&
		creates_in_tfguard_schema(castNode(ObjectWithArgs, object)->objname);
}

static List *
range_var_name(RangeVar *relation)
{
	return relation->schemaname ?
		list_make2(makeString(relation->schemaname), makeString(relation->relname)) :
		list_make1(makeString(relation->relname));
}

/* Which part of tfguard would the statement change, if any? */
static TfguardPart
part_changed(Node *parsetree, const char **setting)
{
	switch (nodeTag(parsetree))
	{
		case T_AlterSystemStmt:
			/* in every database: the settings are the whole cluster's */
			*setting = alter_system_target((AlterSystemStmt *) parsetree);
			return *setting ? PART_SETTING : PART_NONE;
		case T_DropStmt:
			{
				TfguardPart part = drop_target((DropStmt *) parsetree);

				if (part == PART_NONE &&
					drops_from_tfguard_schema((DropStmt *) parsetree))
					part = PART_SCHEMA;
				return part;
			}
		case T_AlterExtensionStmt:
			return strcmp(((AlterExtensionStmt *) parsetree)->extname, "tfguard") == 0 ?
				PART_EXTENSION : PART_NONE;
		case T_AlterExtensionContentsStmt:
			return strcmp(((AlterExtensionContentsStmt *) parsetree)->extname, "tfguard") == 0 ?
				PART_EXTENSION : PART_NONE;
		default:
			break;
	}

	/* the rest concerns objects of the home database only */
	if (!OidIsValid(tfguard_audit_table_oid()))
		return PART_NONE;

	switch (nodeTag(parsetree))
	{
		case T_CopyStmt:
			return ((CopyStmt *) parsetree)->is_from && !tfguard_is_audit_writer &&
				range_var_is_audit_table(((CopyStmt *) parsetree)->relation) ?
				PART_AUDIT_TABLE : PART_NONE;
		case T_AlterTableStmt:
			if (alter_table_touches_audit_table((AlterTableStmt *) parsetree))
				return PART_AUDIT_TABLE;
			return range_var_in_tfguard_schema(((AlterTableStmt *) parsetree)->relation) ?
				PART_SCHEMA : PART_NONE;
		case T_CreateStmt:
			return any_is_audit_table(((CreateStmt *) parsetree)->inhRelations) ?
				PART_AUDIT_TABLE : PART_NONE;
		case T_CreateTrigStmt:
			return range_var_is_audit_table(((CreateTrigStmt *) parsetree)->relation) ?
				PART_AUDIT_TABLE : PART_NONE;
		case T_RuleStmt:
			return range_var_is_audit_table(((RuleStmt *) parsetree)->relation) ?
				PART_AUDIT_TABLE : PART_NONE;
		case T_IndexStmt:
			return range_var_is_audit_table(((IndexStmt *) parsetree)->relation) ?
				PART_AUDIT_TABLE : PART_NONE;
		case T_LockStmt:
			return any_is_audit_table(((LockStmt *) parsetree)->relations) ?
				PART_AUDIT_TABLE : PART_NONE;
		case T_AlterSeqStmt:
			return range_var_in_tfguard_schema(((AlterSeqStmt *) parsetree)->sequence) ?
				PART_AUDIT_SEQUENCE : PART_NONE;
		case T_CreateFunctionStmt:
			return creates_in_tfguard_schema(((CreateFunctionStmt *) parsetree)->funcname) ?
				PART_SCHEMA : PART_NONE;
		case T_AlterFunctionStmt:
			return creates_in_tfguard_schema(((AlterFunctionStmt *) parsetree)->func->objname) ?
				PART_SCHEMA : PART_NONE;
		case T_ViewStmt:
			return creates_in_tfguard_schema(range_var_name(((ViewStmt *) parsetree)->view)) ?
				PART_SCHEMA : PART_NONE;
		case T_AlterObjectSchemaStmt:
			{
				AlterObjectSchemaStmt *stmt = (AlterObjectSchemaStmt *) parsetree;

				if (stmt->relation && range_var_is_audit_table(stmt->relation))
					return PART_AUDIT_TABLE;
				if ((stmt->relation && range_var_in_tfguard_schema(stmt->relation)) ||
					function_in_tfguard_schema(stmt->objectType, stmt->object))
					return PART_SCHEMA;
				return PART_NONE;
			}
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) parsetree;

				if (stmt->renameType == OBJECT_SCHEMA)
					return strcmp(stmt->subname, "tfguard") == 0 ? PART_SCHEMA : PART_NONE;
				if (stmt->relation && range_var_is_audit_table(stmt->relation))
					return PART_AUDIT_TABLE;
				if ((stmt->relation && range_var_in_tfguard_schema(stmt->relation)) ||
					function_in_tfguard_schema(stmt->renameType, stmt->object))
					return PART_SCHEMA;
				return PART_NONE;
			}
		default:
			return PART_NONE;
	}
}

/* Called from the ProcessUtility hook for every utility statement. */
void
tfguard_classify_utility(PlannedStmt *pstmt)
{
	const char *setting = NULL;

	if (tfguard_running_own_script())
		return;

	switch (part_changed(pstmt->utilityStmt, &setting))
	{
		case PART_NONE:
			break;
		case PART_AUDIT_TABLE:
			refuse_reconfigure("audit table", "tfguard.audit_log");
			break;
		case PART_AUDIT_SEQUENCE:
			refuse_reconfigure("sequence", "tfguard.audit_log_id_seq");
			break;
		case PART_SCHEMA:
			refuse_reconfigure("schema", "tfguard");
			break;
		case PART_EXTENSION:
			refuse_reconfigure("extension", "tfguard");
			break;
		case PART_SETTING:
			refuse_reconfigure("setting", setting);
			break;
	}
}
