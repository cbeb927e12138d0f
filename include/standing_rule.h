/*-------------------------------------------------------------------------
 *
 * standing_rule.h
 *	  Standing rules: what a named job role may run without asking each
 *	  time (standing_rule.c: the shared copy and the questions asked of
 *	  it; rule_admin.c: the table, add_rule() and drop_rule()).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_STANDING_RULE_H
#define TFGUARD_STANDING_RULE_H

#include "nodes/parsenodes.h"

#include "tfguard.h"

#define TFGUARD_MAX_RULES 64
#define TFGUARD_RULE_OBJECTS 16

/* the operations a rule may name: never drop_database, never reconfigure */
#define TFGUARD_RULE_OPERATIONS \
	((1 << GUARDED_DROP_TABLE) | (1 << GUARDED_TRUNCATE) | \
	 (1 << GUARDED_DELETE_ALL) | (1 << GUARDED_UPDATE_ALL) | \
	 (1 << GUARDED_MASS_DELETE) | (1 << GUARDED_MASS_UPDATE) | \
	 (1 << GUARDED_DROP_COLUMN))

/* "schema.table" (that table and its partitions), or "schema.*" */
typedef struct RuleObject
{
	NameData	schema;
	NameData	table;			/* empty: every table of the schema */
} RuleObject;

typedef struct StandingRule
{
	int64		id;
	Oid			role;
	Oid			database;		/* InvalidOid: every database */
	uint32		operations;		/* bits 1 << GuardedOperation */
	int64		max_rows;		/* -1: no cap */
	TimestampTz expires;		/* 0: until dropped */
	int			nobjects;
	RuleObject	objects[TFGUARD_RULE_OBJECTS];
} StandingRule;

/* shared memory (shmem.c) */
extern Size tfguard_rules_shmem_size(void);
extern void tfguard_rules_shmem_attach(void);

/* the shared copy, kept by rule_admin.c */
extern void tfguard_rules_replace_all(const StandingRule *rules, int nrules);
extern bool tfguard_rules_add(const StandingRule *rule);
extern bool tfguard_rules_remove(int64 id, StandingRule *removed);
extern int	tfguard_rules_free_slots(void);

/* the questions the guard asks */
extern bool tfguard_rules_exist(void);
extern bool tfguard_rule_covers(const GuardedAttempt *attempt, int64 *rule_id,
								const char **why_not);
extern void tfguard_rules_check_reach(Oid relid);
extern void tfguard_rules_check_schema_reach(Oid nspid);
extern bool tfguard_rules_reach_target(Node *parsetree, Oid *relid, Oid *nspid,
									   Oid *extension);
extern void tfguard_rules_check_reach_after(Oid relid, Oid nspid, Oid extension);

/* rule_admin.c: read the table into shared memory (the audit writer) */
extern void tfguard_rules_load(void);
extern bool tfguard_parse_rule_object(const char *text, RuleObject *object);

#endif							/* TFGUARD_STANDING_RULE_H */
