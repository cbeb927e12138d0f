// What a Node.js service does through the extended protocol, with the
// "pg" client: a parameterised DELETE ... WHERE $1 bound to true, and a
// TRUNCATE sent as a named prepared statement.  Usage:
//     node node_wipe.js delete|truncate
// Connection from the PG* environment variables (PGOPTIONS included).
// Exits 1 with the database's error if the statement is refused.
const { Client } = require('pg');

(async () => {
  const client = new Client();
  await client.connect();
  try {
    if (process.argv[2] === 'delete') {
      await client.query('DELETE FROM orders WHERE $1', [true]);
    } else {
      await client.query({ name: 'wipe', text: 'TRUNCATE orders', values: [] });
    }
    console.log('done');
  } catch (error) {
    console.error(`${error.code}: ${error.message}`);
    process.exitCode = 1;
  } finally {
    await client.end();
  }
})();
