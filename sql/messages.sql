--
-- What a refused client reads: SQLSTATE 42501, a message naming the
-- operation and the object, a DETAIL saying what would be lost and a HINT
-- that sends the reader to a human.
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
DROP TABLE msg."Mixed Case" CASCADE;
:refused
DROP MATERIALIZED VIEW msg.summary;
:refused
TRUNCATE msg.parted;
:refused
DELETE FROM msg."Mixed Case";
:refused
CREATE DATABASE msg_db;
DROP DATABASE msg_db;
:refused
