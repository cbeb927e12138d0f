/*-------------------------------------------------------------------------
 *
 * dropped.h
 *	  What the current statement has removed so far (dropped.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_DROPPED_H
#define TFGUARD_DROPPED_H

#include "lib/stringinfo.h"

extern void tfguard_note_dropped(Oid classId, Oid objectId, int subId);
extern void tfguard_forget_dropped_so_far(void);
extern void tfguard_append_dropped_so_far(StringInfo out);

#endif							/* TFGUARD_DROPPED_H */
