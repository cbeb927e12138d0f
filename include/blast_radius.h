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

#include "nodes/execnodes.h"
#include "nodes/plannodes.h"

extern void tfguard_check_countable(PlannedStmt *stmt);
extern void tfguard_judge_changes_of(EState *estate);
extern void tfguard_note_additions_of(EState *estate);

#endif							/* TFGUARD_BLAST_RADIUS_H */
