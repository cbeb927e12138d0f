/*-------------------------------------------------------------------------
 *
 * relation.h
 *	  Which relations hold data worth guarding (relation.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_RELATION_H
#define TFGUARD_RELATION_H

#include "tfguard.h"

extern void tfguard_note_relation_created(Oid relid);
extern void tfguard_new_partitions_may_hold_old_rows(void);
extern bool tfguard_relation_is_guarded(Oid relid, GuardedOperation operation,
										GuardedAttempt *attempt);

#endif							/* TFGUARD_RELATION_H */
