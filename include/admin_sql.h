/*-------------------------------------------------------------------------
 *
 * admin_sql.h
 *	  What the SQL-callable admin functions share (admin_sql.c): who may
 *	  call them, where, and the one way they record what they did.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_ADMIN_SQL_H
#define TFGUARD_ADMIN_SQL_H

#include "fmgr.h"

#include "tfguard.h"

extern void tfguard_check_caller_is_admin(const char *action);
extern void tfguard_check_not_standby(const char *action);
extern char *tfguard_reason_arg(FunctionCallInfo fcinfo, int argno, int max_bytes);
extern int64 tfguard_record_admin_event(const char *operation, const char *object,
										const char *decision, const char *unlock_id,
										const char *detail, int64 refers_to);

#endif							/* TFGUARD_ADMIN_SQL_H */
