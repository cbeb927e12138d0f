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

/* Which of tfguard's own objects does a DROP name, if any? */
static const char *
drop_target(DropStmt *stmt, const char **kind)
{
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		Node	   *object = lfirst(lc);

		switch (stmt->removeType)
		{
			case OBJECT_EXTENSION:
				if (name_is_tfguard(object))
				{
					*kind = "extension";
					return "tfguard";
				}
				break;
			case OBJECT_SCHEMA:
				if (name_is_tfguard(object) &&
					OidIsValid(tfguard_audit_table_oid()))
				{
					*kind = "schema";
					return "tfguard";
				}
				break;
			case OBJECT_TABLE:
				if (qualified_name_is_audit_table(castNode(List, object)))
				{
					*kind = "audit table";
					return "tfguard.audit_log";
				}
				break;
			default:
				return NULL;
		}
	}
	return NULL;
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

/* Called from the ProcessUtility hook for every utility statement. */
void
tfguard_classify_utility(PlannedStmt *pstmt)
{
	Node	   *parsetree = pstmt->utilityStmt;
	const char *kind = NULL;
	const char *object = NULL;

	if (tfguard_running_own_script())
		return;

	switch (nodeTag(parsetree))
	{
		case T_AlterSystemStmt:
			/* in every database: the settings are the whole cluster's */
			if ((object = alter_system_target((AlterSystemStmt *) parsetree)) != NULL)
				kind = "setting";
			break;
		case T_CreateFunctionStmt:
			if (creates_in_tfguard_schema(((CreateFunctionStmt *) parsetree)->funcname))
			{
				kind = "schema";
				object = "tfguard";
			}
			break;
		case T_AlterFunctionStmt:
			if (creates_in_tfguard_schema(((AlterFunctionStmt *) parsetree)->func->objname))
			{
				kind = "schema";
				object = "tfguard";
			}
			break;
		case T_ViewStmt:
			{
				RangeVar   *view = ((ViewStmt *) parsetree)->view;

				if (creates_in_tfguard_schema(view->schemaname ?
											  list_make2(makeString(view->schemaname),
														 makeString(view->relname)) :
											  list_make1(makeString(view->relname))))
				{
					kind = "schema";
					object = "tfguard";
				}
			}
			break;
		case T_DropStmt:
			object = drop_target((DropStmt *) parsetree, &kind);
			if (object == NULL && drops_from_tfguard_schema((DropStmt *) parsetree))
			{
				kind = "schema";
				object = "tfguard";
			}
			break;
		case T_CopyStmt:
			if (((CopyStmt *) parsetree)->is_from && !tfguard_is_audit_writer &&
				range_var_is_audit_table(((CopyStmt *) parsetree)->relation))
				object = "tfguard.audit_log";
			break;
		case T_AlterTableStmt:
			if (alter_table_touches_audit_table((AlterTableStmt *) parsetree))
				object = "tfguard.audit_log";
			else if (range_var_in_tfguard_schema(((AlterTableStmt *) parsetree)->relation))
			{
				kind = "schema";
				object = "tfguard";
			}
			break;
		case T_CreateStmt:
			if (any_is_audit_table(((CreateStmt *) parsetree)->inhRelations))
				object = "tfguard.audit_log";
			break;
		case T_CreateTrigStmt:
			if (range_var_is_audit_table(((CreateTrigStmt *) parsetree)->relation))
				object = "tfguard.audit_log";
			break;
		case T_RuleStmt:
			if (range_var_is_audit_table(((RuleStmt *) parsetree)->relation))
				object = "tfguard.audit_log";
			break;
		case T_IndexStmt:
			if (range_var_is_audit_table(((IndexStmt *) parsetree)->relation))
				object = "tfguard.audit_log";
			break;
		case T_LockStmt:
			if (any_is_audit_table(((LockStmt *) parsetree)->relations))
				object = "tfguard.audit_log";
			break;
		case T_AlterSeqStmt:
			if (range_var_in_tfguard_schema(((AlterSeqStmt *) parsetree)->sequence))
			{
				kind = "sequence";
				object = "tfguard.audit_log_id_seq";
			}
			break;
		case T_AlterExtensionStmt:
			if (strcmp(((AlterExtensionStmt *) parsetree)->extname, "tfguard") == 0)
			{
				kind = "extension";
				object = "tfguard";
			}
			break;
		case T_AlterExtensionContentsStmt:
			if (strcmp(((AlterExtensionContentsStmt *) parsetree)->extname, "tfguard") == 0)
			{
				kind = "extension";
				object = "tfguard";
			}
			break;
		case T_AlterObjectSchemaStmt:
			if (range_var_is_audit_table(((AlterObjectSchemaStmt *) parsetree)->relation))
				object = "tfguard.audit_log";
			break;
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) parsetree;

				if (stmt->renameType == OBJECT_SCHEMA &&
					strcmp(stmt->subname, "tfguard") == 0 &&
					OidIsValid(tfguard_audit_table_oid()))
				{
					kind = "schema";
					object = "tfguard";
				}
				else if (range_var_is_audit_table(stmt->relation))
					object = "tfguard.audit_log";
			}
			break;
		default:
			break;
	}

	if (object != NULL)
		refuse_reconfigure(kind ? kind : "audit table", object);
}
