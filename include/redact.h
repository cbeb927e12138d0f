/*-------------------------------------------------------------------------
 *
 * redact.h
 *	  Token secrets out of the server log, the trail and pg_stat_activity
 *	  (redact.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_REDACT_H
#define TFGUARD_REDACT_H

extern void tfguard_redact_init(void);
extern const char *tfguard_redact_tokens(const char *text);
extern void tfguard_redact_activity(void);

#endif							/* TFGUARD_REDACT_H */
