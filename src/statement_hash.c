/*-------------------------------------------------------------------------
 *
 * statement_hash.c
 *	  The hash of the statement the client sent, as text.
 *
 * A refused change to tfguard itself has no object with an OID to bind an
 * approval to (a setting, "schema tfguard"), and one name covers many
 * changes: an approval of GRANT SELECT ON tfguard.pending must not let
 * the same session DROP VIEW tfguard.pending.  Such an approval is bound
 * to the statement that was refused: the session runs exactly that text
 * again, or nothing.  A leaf.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/sha2.h"
#include "tcop/tcopprot.h"

#include "statement_hash.h"

/* The first 128 bits of the SHA-256 of the client's statement, in hex. */
void
tfguard_statement_hash(char *hash)
{
	const char *statement = debug_query_string ? debug_query_string : "";
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	if (!tfguard_sha256((const uint8 *) statement, strlen(statement), digest))
		elog(ERROR, "could not compute SHA-256");
	for (int i = 0; i < (TFGUARD_STATEMENT_HASH_LEN - 1) / 2; i++)
		sprintf(hash + 2 * i, "%02x", digest[i]);
}
