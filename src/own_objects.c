/*-------------------------------------------------------------------------
 *
 * own_objects.c
 *	  Which part of tfguard a name in a statement resolves to.
 *
 * Objects are judged by what the names resolve to (search_path applied),
 * never by how the statement spells them: an unqualified name with
 * tfguard on the search path is tfguard's object all the same.  Only the
 * home database holds tfguard's objects; elsewhere every answer is
 * PART_NONE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "access/htup_details.h"
#include "catalog/index.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "parser/parse_type.h"
#include "utils/syscache.h"
#include "utils/lsyscache.h"

#include "audit.h"
#include "own_objects.h"

/* Schema tfguard of this database, if this is the home database. */
Oid
tfguard_schema_oid(void)
{
	Oid			audit_table = tfguard_audit_table_oid();

	return OidIsValid(audit_table) ? get_rel_namespace(audit_table) : InvalidOid;
}

/* The TOAST table of a relation, or InvalidOid. */
static Oid
toast_table_of(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			toast = InvalidOid;

	if (HeapTupleIsValid(tuple))
	{
		toast = ((Form_pg_class) GETSTRUCT(tuple))->reltoastrelid;
		ReleaseSysCache(tuple);
	}
	return toast;
}

TfguardPart
tfguard_part_of_relation(Oid relid)
{
	Oid			audit_table = tfguard_audit_table_oid();
	Oid			nspid;

	if (!OidIsValid(relid) || !OidIsValid(audit_table))
		return PART_NONE;
	if (relid == audit_table)
		return PART_AUDIT_TABLE;
	nspid = get_rel_namespace(relid);
	if (nspid == PG_TOAST_NAMESPACE)
	{
		/* the audit table's TOAST table, or that table's index */
		Oid			toast = toast_table_of(audit_table);
		Oid			table = get_rel_relkind(relid) == RELKIND_INDEX ?
			IndexGetRelation(relid, true) : relid;

		return OidIsValid(toast) && table == toast ? PART_AUDIT_TABLE : PART_NONE;
	}
	return nspid == tfguard_schema_oid() ? PART_SCHEMA : PART_NONE;
}

TfguardPart
tfguard_part_of_range_var(RangeVar *relation)
{
	if (relation == NULL)
		return PART_NONE;
	return tfguard_part_of_relation(RangeVarGetRelid(relation, NoLock, true));
}

TfguardPart
tfguard_part_of_qualified_name(List *names)
{
	return tfguard_part_of_range_var(makeRangeVarFromNameList(names));
}

TfguardPart
tfguard_part_of_schema_name(const char *name)
{
	Oid			nspid = get_namespace_oid(name, true);

	return OidIsValid(nspid) && nspid == tfguard_schema_oid() ? PART_SCHEMA : PART_NONE;
}

TfguardPart
tfguard_part_of_function(ObjectType type, ObjectWithArgs *function)
{
	Oid			funcid = LookupFuncWithArgs(type, function, true);

	return OidIsValid(funcid) && get_func_namespace(funcid) == tfguard_schema_oid() ?
		PART_SCHEMA : PART_NONE;
}

/* The schema a type lives in. */
static Oid
get_typ_namespace(Oid typid)
{
	HeapTuple	tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	Oid			nspid = InvalidOid;

	if (HeapTupleIsValid(tuple))
	{
		nspid = ((Form_pg_type) GETSTRUCT(tuple))->typnamespace;
		ReleaseSysCache(tuple);
	}
	return nspid;
}

/* The more serious of two parts: the audit table, then the rest. */
TfguardPart
tfguard_worse_part(TfguardPart a, TfguardPart b)
{
	return a == PART_NONE ? b : a;
}

/*
 * Which part of tfguard is the object a statement names, as "type" and
 * "object" appear in DropStmt, RenameStmt, AlterObjectSchemaStmt and
 * AlterOwnerStmt?  Types tfguard has no object of answer PART_NONE.
 */
TfguardPart
tfguard_part_of_object(ObjectType type, Node *object)
{
	if (object == NULL)
		return PART_NONE;
	switch (type)
	{
		case OBJECT_TABLE:
		case OBJECT_VIEW:
		case OBJECT_MATVIEW:
		case OBJECT_SEQUENCE:
		case OBJECT_INDEX:
		case OBJECT_FOREIGN_TABLE:
			return tfguard_part_of_qualified_name(castNode(List, object));
		case OBJECT_COLUMN:
		case OBJECT_RULE:
		case OBJECT_TRIGGER:
		case OBJECT_POLICY:
		case OBJECT_TABCONSTRAINT:
			/* the relation's name, then the column's, rule's ... */
			return list_length(castNode(List, object)) < 2 ? PART_NONE :
				tfguard_part_of_qualified_name(list_truncate(list_copy(castNode(List, object)),
													 list_length(castNode(List, object)) - 1));
		case OBJECT_FUNCTION:
		case OBJECT_PROCEDURE:
		case OBJECT_ROUTINE:
		case OBJECT_AGGREGATE:
			return tfguard_part_of_function(type, castNode(ObjectWithArgs, object));
		case OBJECT_TYPE:
		case OBJECT_DOMAIN:
			{
				/* a TypeName in DROP and COMMENT, a name list elsewhere */
				TypeName   *name = IsA(object, TypeName) ? (TypeName *) object :
					makeTypeNameFromNameList(castNode(List, object));
				Oid			typid = LookupTypeNameOid(NULL, name, true);

				return OidIsValid(typid) && get_typ_namespace(typid) == tfguard_schema_oid() ?
					PART_SCHEMA : PART_NONE;
			}
		case OBJECT_SCHEMA:
			return tfguard_part_of_schema_name(strVal(object));
		case OBJECT_EXTENSION:
			return strcmp(strVal(object), "tfguard") == 0 ? PART_EXTENSION : PART_NONE;
		case OBJECT_DATABASE:
			return strcmp(strVal(object), tfguard_database) == 0 ?
				PART_HOME_DATABASE : PART_NONE;
		default:
			return PART_NONE;
	}
}

TfguardPart
tfguard_part_of_objects(ObjectType type, List *objects)
{
	TfguardPart part = PART_NONE;
	ListCell   *lc;

	foreach(lc, objects)
		part = tfguard_worse_part(part, tfguard_part_of_object(type, lfirst(lc)));
	return part;
}

TfguardPart
tfguard_part_of_range_vars(List *relations)
{
	TfguardPart part = PART_NONE;
	ListCell   *lc;

	foreach(lc, relations)
		part = tfguard_worse_part(part, tfguard_part_of_range_var(lfirst_node(RangeVar, lc)));
	return part;
}

/* Would a new object of this (possibly unqualified) name land in schema tfguard? */
TfguardPart
tfguard_part_of_new_name(List *qualified_name)
{
	char	   *objname;

	return QualifiedNameGetCreationNamespace(qualified_name, &objname) ==
		tfguard_schema_oid() ? PART_SCHEMA : PART_NONE;
}

TfguardPart
tfguard_part_of_new_relation(RangeVar *relation)
{
	if (relation->relpersistence == RELPERSISTENCE_TEMP)
		return PART_NONE;
	return tfguard_part_of_new_name(relation->schemaname ?
							list_make2(makeString(relation->schemaname),
									   makeString(relation->relname)) :
							list_make1(makeString(relation->relname)));
}
