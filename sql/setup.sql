--
-- CREATE EXTENSION in the home database (tfguard.database is
-- contrib_regression here), and the roles the other suites use.
--
CREATE EXTENSION tfguard;
SELECT nspname FROM pg_namespace WHERE nspname = 'tfguard';
SELECT rolname, rolcanlogin, rolsuper FROM pg_roles WHERE rolname = 'tfguard_admin';
-- the guard's settings, as the server has them
SHOW tfguard.mode;
SHOW tfguard.database;
-- no session can turn the guard off or invent a tfguard setting
SET tfguard.mode = 'off';
SET tfguard.anything = 'x';
-- the agent: a restricted role that owns its data and may create databases
CREATE ROLE agent LOGIN CREATEDB;
GRANT CREATE ON DATABASE contrib_regression TO agent;
