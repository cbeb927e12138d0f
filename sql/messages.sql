--
-- What a refused client reads: SQLSTATE 42501, a message naming the
-- operation and the object, a DETAIL saying what would be lost and a HINT
-- that sends the reader to a human.  The audit id in DETAIL and HINT is
-- shown as N: ids depend on what ran before.
--
\c - agent
\set SHOW_CONTEXT never
\set refused '\\echo SQLSTATE :SQLSTATE'
CREATE SCHEMA msg;
CREATE TABLE msg."Mixed Case" (id int);
INSERT INTO msg."Mixed Case" VALUES (1);
CREATE MATERIALIZED VIEW msg.summary AS SELECT count(*) FROM msg."Mixed Case";
CREATE TABLE msg.parted (id int) PARTITION BY LIST (id);
CREATE TABLE msg.parted_1 PARTITION OF msg.parted FOR VALUES IN (1);
-- the whole refusal, as the client receives it
CREATE FUNCTION msg.refusal(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	state text;
	message text;
	detail text;
	hint text;
BEGIN
	EXECUTE statement;
	RETURN 'not refused';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	RETURN format(E'%s: %s\nDETAIL:  %s\nHINT:  %s', state, message,
				  regexp_replace(detail, 'audit id \d+', 'audit id N'),
				  regexp_replace(regexp_replace(hint, 'approve\(\d+\)', 'approve(N)'), 'approval = \d+', 'approval = N'));
END
$$;
\pset format unaligned
\pset tuples_only on
SELECT msg.refusal('DROP TABLE msg."Mixed Case" CASCADE');
SELECT msg.refusal('DROP MATERIALIZED VIEW msg.summary');
SELECT msg.refusal('TRUNCATE msg.parted');
SELECT msg.refusal('DELETE FROM msg."Mixed Case"');
\pset format aligned
\pset tuples_only off
-- DROP DATABASE cannot run in a function: its message line
CREATE DATABASE msg_db;
\set VERBOSITY terse
DROP DATABASE msg_db;
:refused
