import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';

/**
 * Collections an earlier version wrote and this one never reads or writes. Left alone they would
 * be data kept for no purpose; the retention sweep drops them.
 */
export const RETIRED_COLLECTIONS: readonly string[] = [
  // Expiry claims, documents until 2026-11-30; NATS KV `maskline-expiry-claims` since.
  'expiry_claims',
];

/** NamespaceNotFound: dropped meanwhile by another replica's sweep. */
const NAMESPACE_NOT_FOUND = 26;

@Injectable()
export class RetiredCollections {
  constructor(@InjectConnection() private readonly connection: Connection) {}

  /** Drops those still there (one listing of the database's collections when none is): how many went. */
  async dropAll(): Promise<number> {
    const db = this.connection.db;
    if (!db) throw new Error('the store connection is not open');
    const names = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
    let dropped = 0;
    for (const name of RETIRED_COLLECTIONS.filter((n) => names.has(n))) {
      try {
        await db.dropCollection(name);
        dropped++;
      } catch (err) {
        if ((err as { code?: number }).code !== NAMESPACE_NOT_FOUND) throw err;
      }
    }
    return dropped;
  }
}
