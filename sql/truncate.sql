--
-- truncate: TRUNCATE of one or many tables, ONLY, CASCADE (and the tables
-- it reaches through foreign keys), partitions and partitioned parents.
--
\set VERBOSITY terse
\set refused '\\echo SQLSTATE :SQLSTATE'

-- As a superuser.
CREATE SCHEMA su_trunc;
CREATE TABLE su_trunc.t (id int);
INSERT INTO su_trunc.t SELECT generate_series(1, 10);
TRUNCATE su_trunc.t;
:refused
TRUNCATE TABLE ONLY su_trunc.t RESTART IDENTITY;
:refused
SELECT count(*) AS su_rows FROM su_trunc.t;

\c - agent
\set VERBOSITY terse
\set refused '\\echo SQLSTATE :SQLSTATE'
CREATE SCHEMA tr;
CREATE TABLE tr.parent (id int PRIMARY KEY);
CREATE TABLE tr.child (id int, parent int REFERENCES tr.parent);
CREATE TABLE tr.other (id int);
INSERT INTO tr.parent SELECT generate_series(1, 10);
INSERT INTO tr.child SELECT g, g FROM generate_series(1, 10) g;
INSERT INTO tr.other VALUES (1);
CREATE TABLE tr.log (at date, msg text) PARTITION BY RANGE (at);
CREATE TABLE tr.log_2025 PARTITION OF tr.log
	FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO tr.log VALUES ('2025-03-01', 'x');
-- an inheritance child is emptied with its parent
CREATE TABLE tr.base (id int);
CREATE TABLE tr.derived () INHERITS (tr.base);
INSERT INTO tr.derived VALUES (1);

TRUNCATE tr.other;
:refused
TRUNCATE tr.other, tr.child;
:refused
TRUNCATE ONLY tr.child;
:refused
TRUNCATE tr.parent CASCADE;
:refused
TRUNCATE tr.log;
:refused
TRUNCATE tr.log_2025;
:refused
TRUNCATE tr.base;
:refused
-- tfguard does not count rows: emptying the (empty) parent alone is refused too
TRUNCATE ONLY tr.base;
:refused

SELECT (SELECT count(*) FROM tr.parent) AS parent,
	   (SELECT count(*) FROM tr.child) AS child,
	   (SELECT count(*) FROM tr.other) AS other,
	   (SELECT count(*) FROM tr.log) AS log,
	   (SELECT count(*) FROM tr.base) AS base;
