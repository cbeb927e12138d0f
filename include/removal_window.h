/*-------------------------------------------------------------------------
 *
 * removal_window.h
 *	  Rows each role removed from each table within the last
 *	  tfguard.window, net of the rows it added (removal_window.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_REMOVAL_WINDOW_H
#define TFGUARD_REMOVAL_WINDOW_H

extern int	tfguard_window_s;
extern int	tfguard_window_entries;

extern Size tfguard_window_shmem_size(void);
extern void tfguard_window_shmem_attach(void);
extern bool tfguard_window_may_hold(Oid relid);
extern int64 tfguard_window_removed(Oid relid, Oid role);
extern bool tfguard_window_add(Oid relid, Oid role, int64 removed, int64 *before);

#endif							/* TFGUARD_REMOVAL_WINDOW_H */
