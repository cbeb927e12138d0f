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
