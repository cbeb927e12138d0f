--
-- drop_database: DROP DATABASE is refused, also WITH (FORCE), for the
-- database's owner and for a superuser.  (dropdb, and DROP DATABASE issued
-- while connected to another database, are in t/002_drop_database.pl.)
--
\set VERBOSITY terse
\set refused '\\echo SQLSTATE :SQLSTATE'

-- As a superuser: even the template and the current database are refused
-- by tfguard before PostgreSQL's own checks; the home database (here the
-- current one) counts as reconfiguring tfguard.
DROP DATABASE template1;
:refused
DROP DATABASE contrib_regression;
:refused

\c - agent
\set VERBOSITY terse
\set refused '\\echo SQLSTATE :SQLSTATE'
CREATE DATABASE agent_shop;
SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = 'agent_shop';
DROP DATABASE agent_shop;
:refused
DROP DATABASE IF EXISTS agent_shop;
:refused
DROP DATABASE agent_shop WITH (FORCE);
:refused
-- nothing to lose: not guarded
DROP DATABASE IF EXISTS no_such_database;
SELECT count(*) AS still_there FROM pg_database WHERE datname = 'agent_shop';
