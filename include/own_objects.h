/*-------------------------------------------------------------------------
 *
 * own_objects.h
 *	  Which part of tfguard a name resolves to (own_objects.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_OWN_OBJECTS_H
#define TFGUARD_OWN_OBJECTS_H

#include "nodes/parsenodes.h"

/* The part of tfguard a statement would change, if any. */
typedef enum TfguardPart
{
	PART_NONE,
	PART_AUDIT_TABLE,			/* tfguard.audit_log */
	PART_SCHEMA,				/* schema tfguard and what it holds */
	PART_EXTENSION,				/* the extension itself */
	PART_HOME_DATABASE,			/* the database that holds the trail */
	PART_ADMIN_ROLE,			/* tfguard_admin: who approves and issues */
	PART_SETTING				/* a setting ALTER SYSTEM would write */
} TfguardPart;

extern Oid	tfguard_schema_oid(void);
extern TfguardPart tfguard_worse_part(TfguardPart a, TfguardPart b);
extern TfguardPart tfguard_part_of_relation(Oid relid);
extern TfguardPart tfguard_part_of_range_var(RangeVar *relation);
extern TfguardPart tfguard_part_of_range_vars(List *relations);
extern TfguardPart tfguard_part_of_qualified_name(List *names);
extern TfguardPart tfguard_part_of_schema_name(const char *name);
extern TfguardPart tfguard_part_of_function(ObjectType type, ObjectWithArgs *function);
extern TfguardPart tfguard_part_of_object(ObjectType type, Node *object);
extern TfguardPart tfguard_part_of_objects(ObjectType type, List *objects);
extern TfguardPart tfguard_part_of_new_name(List *qualified_name);
extern TfguardPart tfguard_part_of_new_relation(RangeVar *relation);

#endif							/* TFGUARD_OWN_OBJECTS_H */
