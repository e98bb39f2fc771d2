import { MongoClient } from 'mongodb';
import { restoringEnv } from '@maskline/testing';
import * as infra from '../../../deploy/local/infra.cjs';

interface PlanNode {
  'Node Type'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** The plan's nodes, depth first. */
function nodesOf(plan: PlanNode | undefined): PlanNode[] {
  return plan ? [plan, ...(plan.Plans ?? []).flatMap(nodesOf)] : [];
}

/**
 * FerretDB v1 hands PostgreSQL a filter's `_id` as containment (`_jsonb->'_id' @> …`), which its own
 * btree index on `_id` cannot serve; the local store's launcher gives every table an index that
 * can (deploy/local/ferretdb/postgresql.go), or each lookup by id reads the whole table.
 */
describe('lookups by id on the local store’s PostgreSQL backend', () => {
  restoringEnv('STORE_BACKEND');

  it('are answered from an index, in every collection, with the tenant’s field beside the id', async () => {
    // SQLite, the fallback without PostgreSQL, is handed a filter of `_id` alone by FerretDB itself.
    const backend = (await infra.postgresqlAnswers()) ? 'postgresql' : 'sqlite';
    process.env.STORE_BACKEND = backend;
    const store = await infra.startStore({});
    const client = await MongoClient.connect(store.url);
    try {
      const db = client.db('t_id_lookups');
      for (const name of ['first', 'second']) {
        const docs = Array.from({ length: 2000 }, (_, i) => ({
          _id: `${name}-${i}`,
          accountId: `A${i % 5}`,
        }));
        await db.collection(name).insertMany(docs as never[]);
        const explained = (await db.command({
          explain: { find: name, filter: { _id: `${name}-42`, accountId: 'A2' } },
        })) as { queryPlanner?: { Plan?: PlanNode } };
        const nodes = nodesOf(explained.queryPlanner?.Plan);
        if (backend === 'postgresql') {
          expect(nodes.map((n) => n['Index Name'])).toContainEqual(expect.stringMatching(/^maskline_id_/));
          expect(nodes.map((n) => n['Node Type'])).not.toContain('Seq Scan');
        } else {
          expect(explained.queryPlanner).toBeDefined();
        }
        expect(
          await db.collection(name).findOne({ _id: `${name}-42` as never, accountId: 'A2' }),
        ).toMatchObject({
          _id: `${name}-42`,
        });
      }
    } finally {
      await client.close();
      await store.stop();
    }
  });
});
