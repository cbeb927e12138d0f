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
