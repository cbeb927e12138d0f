/*-------------------------------------------------------------------------
 *
 * shmem.h
 *	  Requests and attaches the shared memory of the audit queue and the
 *	  unlock store (shmem.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TFGUARD_SHMEM_H
#define TFGUARD_SHMEM_H

extern void tfguard_shmem_init(void);

#endif							/* TFGUARD_SHMEM_H */
