--
-- delete_all: a DELETE with no effective WHERE on the target table is
-- refused; one whose WHERE restricts the target's rows is ordinary work.
--
\set VERBOSITY terse
\set refused '\\echo SQLSTATE :SQLSTATE'

-- As a superuser.
CREATE SCHEMA su_del;
CREATE TABLE su_del.t (id int);
INSERT INTO su_del.t SELECT generate_series(1, 10);
DELETE FROM su_del.t;
:refused
DELETE FROM su_del.t WHERE true;
:refused
SELECT count(*) AS su_rows FROM su_del.t;

\c - agent
\set VERBOSITY terse
\set refused '\\echo SQLSTATE :SQLSTATE'
CREATE SCHEMA d;
CREATE TABLE d.accounts (id int PRIMARY KEY, owner text, balance numeric);
INSERT INTO d.accounts SELECT g, 'owner ' || g, g FROM generate_series(1, 1000) g;
CREATE TABLE d.closed (id int);
INSERT INTO d.closed VALUES (1), (2), (3);
CREATE TABLE d.events (at date, what text) PARTITION BY RANGE (at);
CREATE TABLE d.events_2025 PARTITION OF d.events
	FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE d.events_2026 PARTITION OF d.events
	FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO d.events SELECT date '2025-01-01' + g, 'e' FROM generate_series(0, 699) g;
CREATE TABLE d.base (id int);
CREATE TABLE d.derived () INHERITS (d.base);
INSERT INTO d.derived VALUES (1), (2);
CREATE VIEW d.all_accounts AS SELECT * FROM d.accounts;
ANALYZE d.accounts, d.closed, d.events, d.base;

-- no WHERE, or a WHERE that folds to true
DELETE FROM d.accounts;
:refused
DELETE FROM d.accounts WHERE true;
:refused
DELETE FROM d.accounts WHERE 1 = 1;
:refused
DELETE FROM d.accounts WHERE NOT false;
:refused
DELETE FROM d.accounts WHERE 'a' = 'a' AND 2 > 1;
:refused
DELETE FROM d.accounts WHERE id = 5 OR true;
:refused
DELETE FROM d.accounts WHERE (SELECT true);
:refused
DELETE FROM d.accounts RETURNING id;
:refused
-- a WHERE that does not mention the target selects all rows or none
DELETE FROM d.accounts WHERE now() > '2000-01-01';
:refused
DELETE FROM d.accounts WHERE EXISTS (SELECT 1 FROM d.closed);
:refused
DELETE FROM d.accounts WHERE random() >= 0;
:refused
-- USING with no join condition
DELETE FROM d.accounts USING d.closed;
:refused
DELETE FROM d.accounts USING d.closed WHERE d.closed.id = 1;
:refused
-- a condition on the nullable side of an outer join filters nothing
DELETE FROM d.accounts USING d.closed LEFT JOIN d.closed c2 ON false;
:refused
DELETE FROM d.accounts USING d.closed c LEFT JOIN (SELECT 1 WHERE false) z ON true;
:refused
-- partitioned parent, one partition, inheritance parent, a simple view
DELETE FROM d.events;
:refused
DELETE FROM d.events_2026;
:refused
DELETE FROM d.base;
:refused
DELETE FROM ONLY d.base;
:refused
DELETE FROM d.all_accounts;
:refused

SELECT (SELECT count(*) FROM d.accounts) AS accounts,
	   (SELECT count(*) FROM d.events) AS events,
	   (SELECT count(*) FROM d.base) AS base;

-- ordinary DELETEs restrict the target's rows and go through
DELETE FROM d.accounts WHERE id = 1;
DELETE FROM d.accounts WHERE id BETWEEN 2 AND 4;
DELETE FROM d.accounts WHERE balance < 6 AND owner LIKE 'owner %';
DELETE FROM d.accounts a USING d.closed c WHERE a.id = c.id + 10;
DELETE FROM d.accounts WHERE id IN (SELECT id + 20 FROM d.closed);
DELETE FROM d.accounts a WHERE EXISTS (SELECT 1 FROM d.closed c WHERE c.id + 30 = a.id);
DELETE FROM d.accounts WHERE id = (SELECT max(id) FROM d.accounts);
DELETE FROM d.accounts WHERE ctid = '(0,50)';
DELETE FROM d.events WHERE at < '2025-01-11';
DELETE FROM d.events_2026 WHERE what = 'nothing';
DELETE FROM d.all_accounts WHERE id = 40;
-- a WHERE that is constant false deletes nothing and is let through
DELETE FROM d.accounts WHERE false;
DELETE FROM d.accounts WHERE 1 = 0;
BEGIN;
DECLARE c CURSOR FOR SELECT * FROM d.accounts ORDER BY id FOR UPDATE;
FETCH c;
DELETE FROM d.accounts WHERE CURRENT OF c;
COMMIT;
-- the joins the planner picks must not matter
SET enable_hashjoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) DELETE FROM d.accounts a USING d.closed c WHERE a.id = c.id + 100;
DELETE FROM d.accounts a USING d.closed c WHERE a.id = c.id + 100;
SET enable_nestloop = on;
SET enable_mergejoin = off;
EXPLAIN (COSTS OFF) DELETE FROM d.accounts a USING d.closed c WHERE a.id = c.id + 200;
DELETE FROM d.accounts a USING d.closed c WHERE a.id = c.id + 200;
-- the target on the outer side, passing its column down as a parameter
CREATE TABLE d.batch (id int);
INSERT INTO d.batch VALUES (500), (501);
EXPLAIN (COSTS OFF) DELETE FROM d.batch b USING d.accounts a WHERE a.id = b.id + 1;
DELETE FROM d.batch b USING d.accounts a WHERE a.id = b.id + 1;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) DELETE FROM d.accounts a USING d.closed c WHERE a.id = c.id + 300;
DELETE FROM d.accounts a USING d.closed c WHERE a.id = c.id + 300;
-- the same plan shape without a join condition is still refused
EXPLAIN (COSTS OFF) DELETE FROM d.accounts a USING d.closed c WHERE c.id > 0;
DELETE FROM d.accounts a USING d.closed c WHERE c.id > 0;
\echo SQLSTATE :SQLSTATE
RESET ALL;
-- a partitioned target joined to another table
EXPLAIN (COSTS OFF) DELETE FROM d.events e USING d.closed c WHERE e.at = date '2025-01-10' + c.id;
DELETE FROM d.events e USING d.closed c WHERE e.at = date '2025-01-10' + c.id;
DELETE FROM d.events e USING d.closed c WHERE c.id = 1;
\echo SQLSTATE :SQLSTATE

-- MERGE ... THEN DELETE: refused when neither the join nor the action's
-- condition restricts the target
MERGE INTO d.accounts a USING (SELECT 1) s ON true WHEN MATCHED THEN DELETE;
\echo SQLSTATE :SQLSTATE
MERGE INTO d.accounts a USING d.closed c ON c.id = 1 WHEN MATCHED THEN DELETE;
\echo SQLSTATE :SQLSTATE
MERGE INTO d.accounts a USING d.closed c ON true
	WHEN MATCHED AND a.balance < 0 THEN UPDATE SET balance = 0
	WHEN MATCHED THEN DELETE;
\echo SQLSTATE :SQLSTATE
MERGE INTO d.events e USING (SELECT 1) s ON 1 = 1 WHEN MATCHED THEN DELETE;
\echo SQLSTATE :SQLSTATE
MERGE INTO d.accounts a USING (d.closed LEFT JOIN d.closed c2 ON false) ON true
	WHEN MATCHED THEN DELETE;
\echo SQLSTATE :SQLSTATE
MERGE INTO d.accounts a USING d.closed c ON true
	WHEN MATCHED THEN DELETE
	WHEN NOT MATCHED THEN INSERT VALUES (c.id, 'new', 0);
\echo SQLSTATE :SQLSTATE
-- and let through when one of them does
MERGE INTO d.accounts a USING d.closed c ON a.id = c.id + 600
	WHEN MATCHED THEN DELETE;
MERGE INTO d.accounts a USING (SELECT 1) s ON true
	WHEN MATCHED AND a.id = 700 THEN DELETE;
MERGE INTO d.accounts a USING (SELECT 1) s ON true
	WHEN MATCHED AND a.id = 701 THEN UPDATE SET balance = balance;
MERGE INTO d.accounts a USING d.closed c ON a.id = c.id + 800
	WHEN MATCHED THEN DELETE
	WHEN NOT MATCHED THEN INSERT VALUES (c.id + 2000, 'new', 0);

SELECT (SELECT count(*) FROM d.accounts) AS accounts,
	   (SELECT count(*) FROM d.events) AS events,
	   (SELECT count(*) FROM d.batch) AS batch;
