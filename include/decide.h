/*-------------------------------------------------------------------------
 *
 * decide.h
 *	  The one place that allows, warns about or refuses an attempt
 *	  (decide.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_DECIDE_H
#define TFGUARD_DECIDE_H

#include "tfguard.h"

extern void tfguard_decide(const GuardedAttempt *attempt);

/* one decision per statement (tfguard.c opens and closes the scope) */
extern void tfguard_decide_statement_begin(void);
extern void tfguard_decide_statement_end(void);
extern void tfguard_decide_statement_abandon(void);

#endif							/* TFGUARD_DECIDE_H */
