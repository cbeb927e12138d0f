/*-------------------------------------------------------------------------
 *
 * classify_utility.c
 *	  Utility statements that change tfguard itself -> reconfigure attempts;
 *	  REFRESH MATERIALIZED VIEW that would empty a view -> truncate attempts.
 *
 * Most guarded operations are classified where PostgreSQL removes the
 * object (classify_object.c).  Statements aimed at tfguard itself are
 * caught here instead, from the parse tree, before PostgreSQL takes any
 * lock of its own:
 *
 * - refusing a DROP at OAT_DROP would wait for the audit writer while
 *   holding the lock the writer needs to record the refusal;
 * - COPY ... FROM writes rows without going through the executor hook
 *   that protects the audit table from every other write;
 * - REINDEX, CLUSTER, VACUUM FULL and LOCK would hold a lock that stalls
 *   the writer, and with it every guarded operation of the cluster;
 * - GRANT, OWNER TO, rules and SECURITY DEFINER change who may do what
 *   with the trail and the admin functions.
 *
 * Objects are judged by what the names resolve to (search_path applied),
 * never by how the statement spells them: an unqualified name with
 * tfguard on the search path is tfguard's object all the same.  Setting
 * names are compared as PostgreSQL compares them, in any case.
 *
 * Cost: the switch on the statement type comes first; ordinary statements
 * (transaction control, SET, DML wrapped in utility) look nothing up.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_namespace.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "commands/tablespace.h"
#include "rewrite/rewriteHandler.h"
#include "utils/acl.h"
#include "utils/formatting.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "audit.h"
#include "classify.h"
#include "decide.h"
#include "own_objects.h"

/* An attempt on something that has a name and no OID: a setting, tfguard. */
static void
decide_on_name(GuardedOperation operation, GuardedObjectKind object_kind,
			   const char *object_name)
{
	GuardedAttempt attempt = {0};

	attempt.operation = operation;
	attempt.object_kind = object_kind;
	attempt.object_name = object_name;
	attempt.object_class = InvalidOid;
	attempt.object_id = InvalidOid;
	tfguard_decide(&attempt);
}

static void
refuse_reconfigure(GuardedObjectKind object_kind, const char *object_name)
{
	decide_on_name(GUARDED_RECONFIGURE, object_kind, object_name);
}

/*
 * Does a view read the audit table, directly, through other views, or in
 * a subquery, CTE or sublink?  LOCK on a view locks every table its query
 * reads (as PostgreSQL's LockViewRecurse does), the audit table among them.
 */
typedef struct ViewWalk
{
	Oid			view;			/* the view being walked */
	int			depth;
} ViewWalk;

static bool view_reads_audit_table(Oid viewid, int depth);

static bool
query_reads_audit_table(Node *node, ViewWalk *walk)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		/* before PostgreSQL 16 a view's rule lists the view itself (OLD, NEW) */
		if (rte->rtekind != RTE_RELATION || rte->relid == walk->view)
			return false;
		return rte->relid == tfguard_audit_table_oid() ||
			(rte->relkind == RELKIND_VIEW && view_reads_audit_table(rte->relid, walk->depth + 1));
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, query_reads_audit_table,
								 (void *) walk, QTW_EXAMINE_RTES_BEFORE);
	return expression_tree_walker(node, query_reads_audit_table, (void *) walk);
}

static bool
view_reads_audit_table(Oid viewid, int depth)
{
	Relation	view;
	ViewWalk	walk = {viewid, depth};
	bool		reads;

	if (depth > 16)
		return true;			/* deeper than anyone writes: assume it does */
	view = relation_open(viewid, AccessShareLock);
	reads = query_reads_audit_table((Node *) get_view_query(view), &walk);
	relation_close(view, NoLock);
	return reads;
}

static TfguardPart
lock_target(LockStmt *stmt)
{
	TfguardPart part = tfguard_part_of_range_vars(stmt->relations);
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		Oid			relid = RangeVarGetRelid(lfirst_node(RangeVar, lc), NoLock, true);

		if (OidIsValid(relid) && get_rel_relkind(relid) == RELKIND_VIEW &&
			view_reads_audit_table(relid, 0))
			return PART_AUDIT_TABLE;
	}
	return part;
}

/* A FOREIGN KEY referencing the audit table locks it, and adds triggers to it. */
static bool
constraint_references_audit_table(Node *node)
{
	return IsA(node, Constraint) &&
		((Constraint *) node)->contype == CONSTR_FOREIGN &&
		tfguard_part_of_range_var(((Constraint *) node)->pktable) == PART_AUDIT_TABLE;
}

static bool
table_elements_reference_audit_table(List *elements)
{
	ListCell   *lc;
	ListCell   *lc2;

	foreach(lc, elements)
	{
		Node	   *element = lfirst(lc);

		if (constraint_references_audit_table(element))
			return true;
		if (IsA(element, ColumnDef))
		{
			foreach(lc2, ((ColumnDef *) element)->constraints)
			{
				if (constraint_references_audit_table(lfirst(lc2)))
					return true;
			}
		}
	}
	return false;
}

/* ALTER TABLE ALL IN TABLESPACE moves the audit table if it is there. */
static TfguardPart
move_all_target(AlterTableMoveAllStmt *stmt)
{
	Oid			tablespace = get_tablespace_oid(stmt->orig_tablespacename, true);
	Oid			audit_tablespace = get_rel_tablespace(tfguard_audit_table_oid());

	if (!OidIsValid(audit_tablespace))
		audit_tablespace = MyDatabaseTableSpace;
	return tablespace == audit_tablespace ? PART_AUDIT_TABLE : PART_NONE;
}

/*
 * DROP OWNED BY the role that owns tfguard's schema drops it; DROP OWNED
 * BY tfguard_admin revokes what the admins were granted; REASSIGN OWNED
 * BY the owner hands tfguard's objects to another role.
 */
static TfguardPart
owned_by_target(List *roles, bool drop)
{
	Oid			admins = get_role_oid("tfguard_admin", true);
	Oid			owner = InvalidOid;
	HeapTuple	tuple = SearchSysCache1(NAMESPACEOID,
										ObjectIdGetDatum(tfguard_schema_oid()));
	ListCell   *lc;

	if (HeapTupleIsValid(tuple))
	{
		owner = ((Form_pg_namespace) GETSTRUCT(tuple))->nspowner;
		ReleaseSysCache(tuple);
	}

	foreach(lc, roles)
	{
		Oid			role = get_rolespec_oid(lfirst_node(RoleSpec, lc), true);

		if (OidIsValid(role) && (role == owner || (drop && role == admins)))
			return PART_SCHEMA;
	}
	return PART_NONE;
}

static TfguardPart
default_privileges_target(AlterDefaultPrivilegesStmt *stmt)
{
	TfguardPart part = PART_NONE;
	ListCell   *lc;
	ListCell   *lc2;

	foreach(lc, stmt->options)
	{
		DefElem    *option = lfirst_node(DefElem, lc);

		if (strcmp(option->defname, "schemas") == 0)
			foreach(lc2, (List *) option->arg)
				part = tfguard_worse_part(part, tfguard_part_of_schema_name(strVal(lfirst(lc2))));
	}
	return part;
}

static TfguardPart
statistics_target(CreateStatsStmt *stmt)
{
	TfguardPart part = stmt->defnames ? tfguard_part_of_new_name(stmt->defnames) : PART_NONE;
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		if (IsA(lfirst(lc), RangeVar))
			part = tfguard_worse_part(part, tfguard_part_of_range_var(lfirst_node(RangeVar, lc)));
	}
	return part;
}

/* ---------- statement by statement ---------- */

/*
 * Does ALTER SYSTEM touch a setting that decides whether and which
 * tfguard code loads and runs?  Returns the setting's name in lower case
 * (as PostgreSQL shows it), or NULL.
 */
static const char *
alter_system_target(AlterSystemStmt *stmt)
{
	const char *name = stmt->setstmt->name;
	size_t		len;

	if (name == NULL)
		return "ALL";			/* ALTER SYSTEM RESET ALL */
	len = strlen(name);
	if (pg_strncasecmp(name, "tfguard.", 8) == 0 ||
		(len >= 18 && pg_strcasecmp(name + len - 18, "_preload_libraries") == 0) ||
		/* where "tfguard" is looked for when the server loads it */
		pg_strcasecmp(name, "dynamic_library_path") == 0 ||
		/* the audit writer is a background worker: none, no trail */
		pg_strcasecmp(name, "max_worker_processes") == 0)
		return asc_tolower(name, len);
	return NULL;
}

/* Is the named database, or the one a rename makes, the home database? */
static TfguardPart
rename_database_target(RenameStmt *stmt)
{
	return strcmp(stmt->subname, tfguard_database) == 0 ||
		strcmp(stmt->newname, tfguard_database) == 0 ? PART_HOME_DATABASE : PART_NONE;
}

static TfguardPart
grant_target(GrantStmt *stmt)
{
	ListCell   *lc;
	TfguardPart part = PART_NONE;

	if (stmt->targtype == ACL_TARGET_ALL_IN_SCHEMA)
	{
		foreach(lc, stmt->objects)
			part = tfguard_worse_part(part, tfguard_part_of_schema_name(strVal(lfirst(lc))));
		return part;
	}
	if (stmt->targtype != ACL_TARGET_OBJECT)
		return PART_NONE;
	switch (stmt->objtype)
	{
		case OBJECT_TABLE:
		case OBJECT_SEQUENCE:
			return tfguard_part_of_range_vars(stmt->objects);
		case OBJECT_FUNCTION:
		case OBJECT_PROCEDURE:
		case OBJECT_ROUTINE:
			foreach(lc, stmt->objects)
				part = tfguard_worse_part(part, tfguard_part_of_function(stmt->objtype,
													lfirst_node(ObjectWithArgs, lc)));
			return part;
		case OBJECT_SCHEMA:
			return tfguard_part_of_objects(stmt->objtype, stmt->objects);
		default:
			return PART_NONE;
	}
}

/* VACUUM FULL takes the lock the writer's INSERT waits for. */
static TfguardPart
vacuum_target(VacuumStmt *stmt)
{
	TfguardPart part = PART_NONE;
	ListCell   *lc;
	bool		full = false;

	foreach(lc, stmt->options)
	{
		DefElem    *option = lfirst_node(DefElem, lc);

		if (strcmp(option->defname, "full") == 0)
			full = option->arg == NULL || defGetBoolean(option);
	}
	if (!full)
		return PART_NONE;
	/* every table of the database, the audit table among them */
	if (stmt->rels == NIL)
		return PART_AUDIT_TABLE;
	foreach(lc, stmt->rels)
		part = tfguard_worse_part(part, tfguard_part_of_range_var(lfirst_node(VacuumRelation, lc)->relation));
	return part;
}

static TfguardPart
alter_table_target(AlterTableStmt *stmt)
{
	TfguardPart part = tfguard_part_of_range_var(stmt->relation);
	ListCell   *lc;

	/* a table made to inherit from the audit table shows its rows in the trail */
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		if (cmd->subtype == AT_AddInherit &&
			tfguard_part_of_range_var((RangeVar *) cmd->def) == PART_AUDIT_TABLE)
			return PART_AUDIT_TABLE;
		/* the audit table attached as (or detached from being) a partition */
		if ((cmd->subtype == AT_AttachPartition || cmd->subtype == AT_DetachPartition) &&
			tfguard_part_of_range_var(castNode(PartitionCmd, cmd->def)->name) == PART_AUDIT_TABLE)
			return PART_AUDIT_TABLE;
		if ((cmd->subtype == AT_AddConstraint || cmd->subtype == AT_AddColumn) &&
			cmd->def != NULL &&
			table_elements_reference_audit_table(list_make1(cmd->def)))
			return PART_AUDIT_TABLE;
	}
	return part;
}

/*
 * Does a list of RoleSpecs (or AccessPrivs naming roles) name
 * tfguard_admin, or a role that is a member of it (granting that role
 * makes an approver too)?
 */
static bool
names_admin_role(List *roles)
{
	Oid			admins = get_role_oid("tfguard_admin", true);
	ListCell   *lc;

	foreach(lc, roles)
	{
		Node	   *role = lfirst(lc);
		Oid			roleid = InvalidOid;

		if (IsA(role, AccessPriv) && ((AccessPriv *) role)->priv_name != NULL)
		{
			if (strcmp(((AccessPriv *) role)->priv_name, "tfguard_admin") == 0)
				return true;
			roleid = get_role_oid(((AccessPriv *) role)->priv_name, true);
		}
		else if (IsA(role, RoleSpec))
		{
			if (((RoleSpec *) role)->roletype == ROLESPEC_CSTRING &&
				strcmp(((RoleSpec *) role)->rolename, "tfguard_admin") == 0)
				return true;
			roleid = get_rolespec_oid((RoleSpec *) role, true);
		}
		if (OidIsValid(roleid) && OidIsValid(admins) && is_member_of_role(roleid, admins))
			return true;
	}
	return false;
}

/*
 * Changes to tfguard_admin, whose members approve and issue unlocks: the
 * role itself (ALTER, RENAME, DROP) by anyone, its membership by anyone
 * but a superuser (a role with CREATEROLE would otherwise make a second
 * role of its own an approver of its own attempts).
 */
static TfguardPart
admin_role_target(Node *parsetree)
{
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_AlterRoleStmt:
			return names_admin_role(list_make1(((AlterRoleStmt *) parsetree)->role)) ?
				PART_ADMIN_ROLE : PART_NONE;
		case T_DropRoleStmt:
			return names_admin_role(((DropRoleStmt *) parsetree)->roles) ?
				PART_ADMIN_ROLE : PART_NONE;
		case T_RenameStmt:
			return ((RenameStmt *) parsetree)->renameType == OBJECT_ROLE &&
				(strcmp(((RenameStmt *) parsetree)->subname, "tfguard_admin") == 0 ||
				 strcmp(((RenameStmt *) parsetree)->newname, "tfguard_admin") == 0) ?
				PART_ADMIN_ROLE : PART_NONE;
		case T_GrantRoleStmt:
			return !superuser() &&
				names_admin_role(((GrantRoleStmt *) parsetree)->granted_roles) ?
				PART_ADMIN_ROLE : PART_NONE;
		case T_CreateRoleStmt:
			if (superuser())
				return PART_NONE;
			foreach(lc, ((CreateRoleStmt *) parsetree)->options)
			{
				DefElem    *option = lfirst_node(DefElem, lc);

				if (strcmp(option->defname, "addroleto") == 0 &&
					names_admin_role((List *) option->arg))
					return PART_ADMIN_ROLE;
			}
			return PART_NONE;
		default:
			return PART_NONE;
	}
}

/* Is the role the one the audit writer runs as, or all roles (NULL)? */
static bool
is_writer_role(RoleSpec *role)
{
	return role == NULL || get_rolespec_oid(role, true) == BOOTSTRAP_SUPERUSERID;
}

/*
 * Would the setting, made for the home database or the writer's role,
 * make the audit writer someone else or run other code in it?  (The
 * writer overrides the settings that could stop its INSERT: search_path,
 * read-only transactions, timeouts, role.)
 */
static bool
setting_reaches_writer(VariableSetStmt *setstmt)
{
	const char *name = setstmt->name;
	size_t		len;

	if (name == NULL)
		return false;			/* RESET ALL */
	len = strlen(name);
	return pg_strcasecmp(name, "session_authorization") == 0 ||
		pg_strcasecmp(name, "role") == 0 ||
		(len >= 18 && pg_strcasecmp(name + len - 18, "_preload_libraries") == 0);
}

/* The parts of tfguard that exist in every database: settings, databases. */
static TfguardPart
part_changed_anywhere(Node *parsetree, const char **setting)
{
	switch (nodeTag(parsetree))
	{
		case T_AlterSystemStmt:
			*setting = alter_system_target((AlterSystemStmt *) parsetree);
			return *setting ? PART_SETTING : PART_NONE;
		case T_RenameStmt:
			if (((RenameStmt *) parsetree)->renameType == OBJECT_ROLE)
				return admin_role_target(parsetree);
			return ((RenameStmt *) parsetree)->renameType == OBJECT_DATABASE ?
				rename_database_target((RenameStmt *) parsetree) : PART_NONE;
		case T_AlterDatabaseStmt:
			/* ALLOW_CONNECTIONS false, CONNECTION LIMIT 0: the writer is shut out */
			return strcmp(((AlterDatabaseStmt *) parsetree)->dbname, tfguard_database) == 0 ?
				PART_HOME_DATABASE : PART_NONE;
		case T_AlterDatabaseSetStmt:
			/* a setting (session_authorization, ...) the writer would start with */
			return strcmp(((AlterDatabaseSetStmt *) parsetree)->dbname, tfguard_database) == 0 &&
				setting_reaches_writer(((AlterDatabaseSetStmt *) parsetree)->setstmt) ?
				PART_HOME_DATABASE : PART_NONE;
		case T_AlterRoleSetStmt:
			{
				AlterRoleSetStmt *stmt = (AlterRoleSetStmt *) parsetree;

				return is_writer_role(stmt->role) &&
					(stmt->database == NULL || strcmp(stmt->database, tfguard_database) == 0) &&
					setting_reaches_writer(stmt->setstmt) ?
					PART_HOME_DATABASE : PART_NONE;
			}
		case T_AlterRoleStmt:
		case T_DropRoleStmt:
		case T_GrantRoleStmt:
		case T_CreateRoleStmt:
			return admin_role_target(parsetree);
		case T_AlterOwnerStmt:
			return ((AlterOwnerStmt *) parsetree)->objectType == OBJECT_DATABASE ?
				tfguard_part_of_object(OBJECT_DATABASE, ((AlterOwnerStmt *) parsetree)->object) :
				PART_NONE;
		case T_DropStmt:
			return ((DropStmt *) parsetree)->removeType == OBJECT_EXTENSION ?
				tfguard_part_of_objects(OBJECT_EXTENSION, ((DropStmt *) parsetree)->objects) :
				PART_NONE;
		case T_AlterExtensionStmt:
			return strcmp(((AlterExtensionStmt *) parsetree)->extname, "tfguard") == 0 ?
				PART_EXTENSION : PART_NONE;
		case T_AlterExtensionContentsStmt:
			return strcmp(((AlterExtensionContentsStmt *) parsetree)->extname, "tfguard") == 0 ?
				PART_EXTENSION : PART_NONE;
		default:
			return PART_NONE;
	}
}

/* The parts of tfguard that live in the home database: its schema's objects. */
static TfguardPart
part_changed_at_home(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_DropStmt:
			return tfguard_part_of_objects(((DropStmt *) parsetree)->removeType,
								   ((DropStmt *) parsetree)->objects);
		case T_TruncateStmt:
			/* the trail is not a table to empty, whatever unlocks a TRUNCATE */
			return tfguard_part_of_range_vars(((TruncateStmt *) parsetree)->relations);
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) parsetree;

				if (stmt->renameType == OBJECT_SCHEMA)
					return tfguard_part_of_schema_name(stmt->subname);
				return tfguard_worse_part(tfguard_part_of_range_var(stmt->relation),
							 tfguard_part_of_object(stmt->renameType, stmt->object));
			}
		case T_AlterObjectSchemaStmt:
			{
				AlterObjectSchemaStmt *stmt = (AlterObjectSchemaStmt *) parsetree;

				/* moving something into schema tfguard changes it too */
				return tfguard_worse_part(tfguard_worse_part(tfguard_part_of_range_var(stmt->relation),
								   tfguard_part_of_object(stmt->objectType, stmt->object)),
							 tfguard_part_of_schema_name(stmt->newschema));
			}
		case T_AlterOwnerStmt:
			{
				AlterOwnerStmt *stmt = (AlterOwnerStmt *) parsetree;

				return tfguard_worse_part(tfguard_part_of_range_var(stmt->relation),
							 tfguard_part_of_object(stmt->objectType, stmt->object));
			}
		case T_GrantStmt:
			return grant_target((GrantStmt *) parsetree);
		case T_CopyStmt:
			/* into the audit table, or into any other table of schema tfguard */
			return ((CopyStmt *) parsetree)->is_from && !tfguard_is_audit_writer ?
				tfguard_part_of_range_var(((CopyStmt *) parsetree)->relation) : PART_NONE;
		case T_AlterTableStmt:
			return alter_table_target((AlterTableStmt *) parsetree);
		case T_CreateStmt:
			{
				RangeVar   *table = ((CreateStmt *) parsetree)->relation;

				/* INHERITS or PARTITION OF the audit table, or a table in schema tfguard */
				if (table_elements_reference_audit_table(((CreateStmt *) parsetree)->tableElts))
					return PART_AUDIT_TABLE;
				return tfguard_worse_part(tfguard_part_of_range_vars(((CreateStmt *) parsetree)->inhRelations),
							 tfguard_part_of_new_relation(table));
			}
		case T_CreateTrigStmt:
			return tfguard_part_of_range_var(((CreateTrigStmt *) parsetree)->relation);
		case T_RuleStmt:
			/* CREATE OR REPLACE RULE "_RETURN" hides what a view shows */
			return tfguard_part_of_range_var(((RuleStmt *) parsetree)->relation);
		case T_IndexStmt:
			return tfguard_part_of_range_var(((IndexStmt *) parsetree)->relation);
		case T_LockStmt:
			/* a view's lock reaches the tables it reads: the audit table */
			return lock_target((LockStmt *) parsetree);
		case T_ReindexStmt:
			{
				ReindexStmt *stmt = (ReindexStmt *) parsetree;

				if (stmt->kind == REINDEX_OBJECT_SCHEMA)
					return tfguard_part_of_schema_name(stmt->name);
				return tfguard_part_of_range_var(stmt->relation);
			}
		case T_ClusterStmt:
			return tfguard_part_of_range_var(((ClusterStmt *) parsetree)->relation);
		case T_VacuumStmt:
			return vacuum_target((VacuumStmt *) parsetree);
		case T_AlterSeqStmt:
			return tfguard_part_of_range_var(((AlterSeqStmt *) parsetree)->sequence);
		case T_CreateFunctionStmt:
			return tfguard_part_of_new_name(((CreateFunctionStmt *) parsetree)->funcname);
		case T_AlterFunctionStmt:
			return tfguard_part_of_function(((AlterFunctionStmt *) parsetree)->objtype,
									((AlterFunctionStmt *) parsetree)->func);
		case T_ViewStmt:
			return tfguard_part_of_new_relation(((ViewStmt *) parsetree)->view);
		case T_CreatePolicyStmt:
			/* a policy's lock, held open, stalls the writer */
			return tfguard_part_of_range_var(((CreatePolicyStmt *) parsetree)->table);
		case T_AlterPolicyStmt:
			return tfguard_part_of_range_var(((AlterPolicyStmt *) parsetree)->table);
		case T_AlterTableMoveAllStmt:
			return move_all_target((AlterTableMoveAllStmt *) parsetree);
		case T_CreateSeqStmt:
			return tfguard_part_of_new_relation(((CreateSeqStmt *) parsetree)->sequence);
		case T_CreateTableAsStmt:
			/* CREATE TABLE AS, CREATE MATERIALIZED VIEW, SELECT INTO */
			return tfguard_part_of_new_relation(((CreateTableAsStmt *) parsetree)->into->rel);
		case T_CompositeTypeStmt:
			return tfguard_part_of_new_relation(((CompositeTypeStmt *) parsetree)->typevar);
		case T_CreateEnumStmt:
			return tfguard_part_of_new_name(((CreateEnumStmt *) parsetree)->typeName);
		case T_CreateRangeStmt:
			return tfguard_part_of_new_name(((CreateRangeStmt *) parsetree)->typeName);
		case T_CreateDomainStmt:
			return tfguard_part_of_new_name(((CreateDomainStmt *) parsetree)->domainname);
		case T_DefineStmt:
			/* types, operators, aggregates, collations, text search objects */
			return tfguard_part_of_new_name(((DefineStmt *) parsetree)->defnames);
		case T_CreateStatsStmt:
			return statistics_target((CreateStatsStmt *) parsetree);
		case T_CommentStmt:
			return tfguard_part_of_object(((CommentStmt *) parsetree)->objtype,
								  ((CommentStmt *) parsetree)->object);
		case T_SecLabelStmt:
			return tfguard_part_of_object(((SecLabelStmt *) parsetree)->objtype,
								  ((SecLabelStmt *) parsetree)->object);
		case T_AlterDefaultPrivilegesStmt:
			return default_privileges_target((AlterDefaultPrivilegesStmt *) parsetree);
		case T_AlterObjectDependsStmt:
			return tfguard_worse_part(tfguard_part_of_range_var(((AlterObjectDependsStmt *) parsetree)->relation),
						 tfguard_part_of_object(((AlterObjectDependsStmt *) parsetree)->objectType,
										((AlterObjectDependsStmt *) parsetree)->object));
		case T_DropOwnedStmt:
			return owned_by_target(((DropOwnedStmt *) parsetree)->roles, true);
		case T_ReassignOwnedStmt:
			return owned_by_target(((ReassignOwnedStmt *) parsetree)->roles, false);
		case T_CreateSubscriptionStmt:
		case T_AlterSubscriptionStmt:
			/* its apply worker writes tables without passing any hook */
			return PART_AUDIT_TABLE;
		case T_CreateForeignTableStmt:
			return tfguard_part_of_new_relation(((CreateForeignTableStmt *) parsetree)->base.relation);
		case T_CreateOpFamilyStmt:
			return tfguard_part_of_new_name(((CreateOpFamilyStmt *) parsetree)->opfamilyname);
		case T_CreateOpClassStmt:
			return tfguard_part_of_new_name(((CreateOpClassStmt *) parsetree)->opclassname);
		case T_CreateConversionStmt:
			return tfguard_part_of_new_name(((CreateConversionStmt *) parsetree)->conversion_name);
		case T_ImportForeignSchemaStmt:
			return tfguard_part_of_schema_name(((ImportForeignSchemaStmt *) parsetree)->local_schema);
		case T_CreateExtensionStmt:
			/* pg_surgery edits heap tuples in place, past every DML hook */
			return strcmp(((CreateExtensionStmt *) parsetree)->extname, "pg_surgery") == 0 ?
				PART_AUDIT_TABLE : PART_NONE;
		default:
			return PART_NONE;
	}
}

/* ---------- what standbys and backups recover from ---------- */

/*
 * The settings on which streaming standbys, WAL archiving (the backups)
 * and crash recovery depend: turned off or down, replicas and backups stop
 * being usable, and no one may notice until they are needed.
 */
static const char *const recovery_settings[] = {
	"archive_mode", "archive_command", "archive_library",
	"basic_archive.archive_directory",
	"wal_level", "max_wal_senders", "max_replication_slots",
	"wal_keep_size", "max_slot_wal_keep_size",
	"idle_replication_slot_timeout",	/* 18: invalidates idle slots */
	"fsync", "full_page_writes"
};

/* tfguard_recovery_function()'s, whose names are their C symbols */
static const Oid recovery_functions[] = {
	F_PG_DROP_REPLICATION_SLOT, F_PG_REPLICATION_SLOT_ADVANCE,
	F_PG_LOGICAL_SLOT_GET_CHANGES, F_PG_LOGICAL_SLOT_GET_BINARY_CHANGES,
	F_PG_REPLICATION_ORIGIN_ADVANCE, F_PG_REPLICATION_ORIGIN_XACT_SETUP,
	F_PG_REPLICATION_ORIGIN_DROP
};

static void
refuse_recovery_change(GuardedObjectKind kind, const char *name)
{
	if (tfguard_operation_guarded(GUARDED_BREAK_RECOVERY))
		decide_on_name(GUARDED_BREAK_RECOVERY, kind, name);
}

/* ALTER SYSTEM SET or RESET of one of them: break_recovery. */
static void
classify_recovery_setting(AlterSystemStmt *stmt)
{
	const char *name = stmt->setstmt->name;

	if (name == NULL)
		return;					/* RESET ALL: reconfigure already */
	for (int i = 0; i < (int) lengthof(recovery_settings); i++)
	{
		if (pg_strcasecmp(name, recovery_settings[i]) == 0)
		{
			refuse_recovery_change(OBJECT_KIND_SETTING, recovery_settings[i]);
			return;
		}
	}
}

/*
 * CREATE FUNCTION ... LANGUAGE internal AS 'pg_drop_replication_slot'
 * (a superuser's): a second name for a function that throws away what
 * standbys need, which the object access hook would not know by its OID.
 */
static void
classify_internal_alias(CreateFunctionStmt *stmt)
{
	const char *language = NULL;
	const char *symbol = NULL;
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *option = (DefElem *) lfirst(lc);

		if (strcmp(option->defname, "language") == 0 && IsA(option->arg, String))
			language = strVal(option->arg);
		else if (strcmp(option->defname, "as") == 0 && IsA(option->arg, List) &&
				 list_length((List *) option->arg) >= 1 &&
				 IsA(linitial((List *) option->arg), String))
			symbol = strVal(linitial((List *) option->arg));
	}
	if (language == NULL || symbol == NULL || pg_strcasecmp(language, "internal") != 0)
		return;
	for (int i = 0; i < (int) lengthof(recovery_functions); i++)
	{
		const char *name = tfguard_recovery_function(recovery_functions[i]);

		if (strcmp(name, symbol) == 0)
		{
			refuse_recovery_change(OBJECT_KIND_REPLICATION_SLOT, name);
			return;
		}
	}
}

/* Statements that cost a standby or subscriber what it recovers from. */
static void
classify_recovery_statement(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_AlterSystemStmt:
			classify_recovery_setting((AlterSystemStmt *) parsetree);
			break;
		case T_CreateFunctionStmt:
			classify_internal_alias((CreateFunctionStmt *) parsetree);
			break;
		case T_DropSubscriptionStmt:
			refuse_recovery_change(OBJECT_KIND_SUBSCRIPTION,
								   ((DropSubscriptionStmt *) parsetree)->subname);
			break;
		case T_AlterSubscriptionStmt:
			if (((AlterSubscriptionStmt *) parsetree)->kind == ALTER_SUBSCRIPTION_SKIP)
				refuse_recovery_change(OBJECT_KIND_SUBSCRIPTION,
									   ((AlterSubscriptionStmt *) parsetree)->subname);
			break;
		default:
			break;
	}
}

/* ---------- the entry point ---------- */

/* Called from the ProcessUtility hook for every utility statement. */
void
tfguard_classify_utility(PlannedStmt *pstmt)
{
	Node	   *parsetree = pstmt->utilityStmt;
	const char *setting = NULL;
	TfguardPart part;

	if (tfguard_running_own_script())
		return;

	classify_recovery_statement(parsetree);
	part = part_changed_anywhere(parsetree, &setting);
	/* outside the home database the audit table's OID is a cached invalid one */
	if (part == PART_NONE && OidIsValid(tfguard_audit_table_oid()))
		part = part_changed_at_home(parsetree);

	switch (part)
	{
		case PART_NONE:
			break;
		case PART_AUDIT_TABLE:
			refuse_reconfigure(OBJECT_KIND_AUDIT_TABLE, "tfguard.audit_log");
			break;
		case PART_SCHEMA:
			refuse_reconfigure(OBJECT_KIND_TFGUARD_SCHEMA, "tfguard");
			break;
		case PART_EXTENSION:
			refuse_reconfigure(OBJECT_KIND_EXTENSION, "tfguard");
			break;
		case PART_HOME_DATABASE:
			refuse_reconfigure(OBJECT_KIND_HOME_DATABASE, tfguard_database);
			break;
		case PART_SETTING:
			refuse_reconfigure(OBJECT_KIND_SETTING, setting);
			break;
		case PART_ADMIN_ROLE:
			refuse_reconfigure(OBJECT_KIND_ADMIN_ROLE, "tfguard_admin");
			break;
	}
}
