/* tfguard--1.0.sql: schema tfguard and role tfguard_admin */

\echo Use "CREATE EXTENSION tfguard" to load this file. \quit

/*
 * Refuse to install where the guard cannot work: without the preload, or
 * outside the home database (tfguard.database).  The check function lives
 * in pg_catalog, the extension's schema, only while the script runs.
 */
CREATE FUNCTION tfguard_assert_installable() RETURNS void
	AS 'MODULE_PATHNAME', 'tfguard_assert_installable'
	LANGUAGE C STRICT;
SELECT tfguard_assert_installable();
DROP FUNCTION tfguard_assert_installable();

CREATE SCHEMA tfguard;
COMMENT ON SCHEMA tfguard IS 'tfguard: audit trail and admin functions';
REVOKE ALL ON SCHEMA tfguard FROM PUBLIC;

/*
 * Humans who unlock are members of tfguard_admin.  Roles are cluster-wide
 * and outlive the extension, so an existing one is kept as it is.
 */
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'tfguard_admin') THEN
		CREATE ROLE tfguard_admin NOLOGIN;
	END IF;
END
$$;
GRANT USAGE ON SCHEMA tfguard TO tfguard_admin;

/*
 * The audit trail: one row per attempt at a guarded operation.  Only the
 * tfguard audit writer (a background worker) inserts; tfguard refuses
 * every other INSERT, UPDATE, DELETE, MERGE, COPY FROM and TRUNCATE on it,
 * for every role, and DROP EXTENSION tfguard.  The column "current_role"
 * must be quoted in queries: unquoted, current_role is the SQL function.
 */
CREATE TABLE tfguard.audit_log (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	logged_at timestamptz NOT NULL,
	database_name text NOT NULL,
	session_role text NOT NULL,
	"current_role" text NOT NULL,
	client_addr inet,
	application_name text,
	backend_pid int NOT NULL,
	operation text NOT NULL,
	object_name text,
	statement text,
	decision text NOT NULL,
	token_id text,
	detail text
);
COMMENT ON TABLE tfguard.audit_log IS
	'tfguard: every attempt at a guarded operation, committed before the client heard the outcome';
-- rows arrive in time order: a BRIN index serves "since" queries for almost nothing
CREATE INDEX audit_log_logged_at ON tfguard.audit_log USING brin (logged_at);
REVOKE ALL ON tfguard.audit_log FROM PUBLIC;
GRANT SELECT ON tfguard.audit_log TO tfguard_admin;
-- pg_dump of the home database keeps the trail
SELECT pg_catalog.pg_extension_config_dump('tfguard.audit_log', '');

/*
 * Unlock tokens.  Enforcement lives in C; these functions only reach it.
 * Each checks that its caller is a superuser or a member of tfguard_admin,
 * and pins search_path.
 */
CREATE FUNCTION tfguard.issue_token(
	role name,
	operations text[],
	objects text[] DEFAULT NULL,
	ttl interval DEFAULT '15 minutes',
	database name DEFAULT NULL,
	reason text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'tfguard_issue_token'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tfguard.issue_token(name, text[], text[], interval, name, text) IS
	'tfguard: issue an unlock token for another role; returns the secret, which is stored nowhere';

CREATE FUNCTION tfguard.revoke_token(token_id text) RETURNS void
AS 'MODULE_PATHNAME', 'tfguard_revoke_token'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION tfguard.token_list(
	OUT id text, OUT role text, OUT operations text, OUT objects text,
	OUT database text, OUT issued_by text, OUT issued_at timestamptz,
	OUT expires_at timestamptz, OUT pinned_pid int, OUT pinned_backend_start timestamptz,
	OUT revoked bool, OUT reason text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tfguard_token_list'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE VIEW tfguard.tokens AS
	SELECT *, NOT revoked AND expires_at > now() AS live FROM tfguard.token_list();
COMMENT ON VIEW tfguard.tokens IS
	'tfguard: unlock tokens in shared memory (never their secrets); objects/database NULL means any';

REVOKE ALL ON FUNCTION tfguard.issue_token(name, text[], text[], interval, name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tfguard.revoke_token(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tfguard.token_list() FROM PUBLIC;
REVOKE ALL ON tfguard.tokens FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tfguard.issue_token(name, text[], text[], interval, name, text) TO tfguard_admin;
GRANT EXECUTE ON FUNCTION tfguard.revoke_token(text) TO tfguard_admin;
GRANT EXECUTE ON FUNCTION tfguard.token_list() TO tfguard_admin;
GRANT SELECT ON tfguard.tokens TO tfguard_admin;
