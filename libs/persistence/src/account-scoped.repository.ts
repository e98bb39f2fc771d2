import type { FilterQuery, Model, SortOrder } from 'mongoose';

/** The tenant key: every query against account data carries it, so a foreign id simply finds nothing. */
export interface AccountScope {
  accountId: string;
}

export type ScopedFilter<T> = FilterQuery<T> & AccountScope;

export interface PageRequest {
  limit: number;
  offset: number;
  sort?: Record<string, SortOrder>;
}

/**
 * Base for repositories over account-owned documents. Queries take a `ScopedFilter`, whose type
 * requires `accountId`; results are plain objects (`lean`), never mongoose documents.
 */
export abstract class AccountScopedRepository<T extends AccountScope> {
  protected constructor(protected readonly model: Model<T>) {}

  protected async findOneScoped(filter: ScopedFilter<T>): Promise<T | null> {
    return (await this.model.findOne(filter).lean().exec()) as T | null;
  }

  /**
   * One document by id, visible only to its account. Looks up by `_id` alone (the one lookup
   * FerretDB pushes down to its storage) and checks the account in code.
   */
  protected async findByIdScoped(scope: AccountScope & Partial<T>, id: string): Promise<T | null> {
    const doc = (await this.model.findById(id).lean().exec()) as T | null;
    if (!doc) return null;
    for (const [key, value] of Object.entries(scope)) {
      if ((doc as Record<string, unknown>)[key] !== value) return null;
    }
    return doc;
  }

  protected async findScoped(filter: ScopedFilter<T>, page: PageRequest): Promise<T[]> {
    return (await this.model
      .find(filter)
      .sort(page.sort ?? { _id: 1 })
      .skip(page.offset)
      .limit(page.limit)
      .lean()
      .exec()) as T[];
  }

  protected async countScoped(filter: ScopedFilter<T>): Promise<number> {
    return this.model.countDocuments(filter).exec();
  }
}
