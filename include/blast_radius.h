/*-------------------------------------------------------------------------
 *
 * blast_radius.h
 *	  What a transaction removed or overwrote, table by table, judged
 *	  against what the tables held (blast_radius.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_BLAST_RADIUS_H
#define TFGUARD_BLAST_RADIUS_H

#include "nodes/plannodes.h"

extern void tfguard_note_changed_relations(PlannedStmt *stmt);
extern void tfguard_judge_changed_relations_now(void);

/* Called at the end of every executor run: nothing to do in most transactions. */
extern bool tfguard_transaction_changed_relations;

static inline void
tfguard_judge_changed_relations(void)
{
	if (unlikely(tfguard_transaction_changed_relations))
		tfguard_judge_changed_relations_now();
}

#endif							/* TFGUARD_BLAST_RADIUS_H */
