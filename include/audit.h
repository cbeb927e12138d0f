/*-------------------------------------------------------------------------
 *
 * audit.h
 *	  Recording attempts and events in the audit trail (audit.c) and the
 *	  writer that commits them (audit_writer.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_AUDIT_H
#define TFGUARD_AUDIT_H

#include "tfguard.h"

/* audit.c: the backend side */
extern Size tfguard_audit_shmem_size(void);
extern void tfguard_audit_shmem_attach(void);
extern bool tfguard_audit_record(const AuditEvent *event, int64 *audit_id,
								 char **failure);
extern int64 tfguard_audit_event_or_error(const AuditEvent *event);
extern Oid	tfguard_audit_table_lookup(void);
extern bool tfguard_audit_table_known;
extern Oid	tfguard_audit_table_cached;

/*
 * The OID of tfguard.audit_log in the current database, or InvalidOid:
 * looked up once and kept until an invalidation touches it, so that the
 * check costs ordinary statements a test and a load.
 */
static inline Oid
tfguard_audit_table_oid(void)
{
	return likely(tfguard_audit_table_known) ? tfguard_audit_table_cached :
		tfguard_audit_table_lookup();
}
extern bool tfguard_running_own_script(void);

/* audit_writer.c: the background worker that commits the records */
extern bool tfguard_is_audit_writer;
extern void tfguard_audit_writer_register(void);

#endif							/* TFGUARD_AUDIT_H */
