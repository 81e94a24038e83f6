// node-postgres (`pg`) against a live `cairn serve`: connect, parameters, named prepared
// statements, jsonb values and error codes. Usage: node checks.js PORT. Prints one JSON object
// per check: {"client", "check", "ok", "error"}.
const { Client } = require('pg');

const port = Number(process.argv[2]);

function expect(got, want) {
  const [g, w] = [JSON.stringify(got), JSON.stringify(want)];
  if (g !== w) throw new Error(`got ${g}, want ${w}`);
}

async function main() {
  const client = new Client({ host: '127.0.0.1', port, user: 'cairn', database: 'cairn' });
  const checks = [
    ['connect and query', async () => {
      await client.connect();
      const r = await client.query('SELECT 40 + 2 AS n');
      expect(String(r.rows[0].n), '42');
      await client.query('CREATE COLLECTION IF NOT EXISTS node_people');
    }],
    ['parameters', async () => {
      for (const [id, name, age] of [['n1', 'Ada', 36], ['n2', 'Grace', 85], ['n3', 'Alan', 41]]) {
        await client.query('INSERT INTO node_people (_id, name, age) VALUES ($1, $2, $3)', [id, name, age]);
      }
      const r = await client.query('SELECT name FROM node_people WHERE age > $1 ORDER BY age', [40]);
      expect(r.rows.map((x) => x.name), ['Alan', 'Grace']);
    }],
    ['named prepared statement', async () => {
      const q = { name: 'by-name', text: 'SELECT age FROM node_people WHERE name = $1' };
      expect((await client.query({ ...q, values: ['Ada'] })).rows.map((x) => String(x.age)), ['36']);
      expect((await client.query({ ...q, values: ['Alan'] })).rows.map((x) => String(x.age)), ['41']);
    }],
    ['jsonb', async () => {
      await client.query('INSERT INTO node_people (_id, name, address) VALUES ($1, $2, $3::jsonb)', ['n4', 'Edsger', { city: 'Austin', zip: 78701 }]);
      const r = await client.query("SELECT address FROM node_people WHERE _id = 'n4'");
      expect(r.rows[0].address, { city: 'Austin', zip: 78701 });
    }],
    ['error codes', async () => {
      try {
        await client.query('SELECT * FROM no_such_collection');
        throw new Error('no error');
      } catch (e) {
        expect(e.code, '42P01');
      }
      expect(String((await client.query('SELECT 1 AS one')).rows[0].one), '1');
    }],
  ];
  for (const [name, fn] of checks) {
    try {
      await fn();
      console.log(JSON.stringify({ client: 'node-postgres', check: name, ok: true, error: null }));
    } catch (e) {
      console.log(JSON.stringify({ client: 'node-postgres', check: name, ok: false, error: String(e && e.message || e) }));
    }
  }
  await client.end().catch(() => {});
}

main();
