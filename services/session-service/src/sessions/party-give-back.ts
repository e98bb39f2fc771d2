import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { RemoveAllocationParty, type AccountScope } from '@maskline/contracts';
import { RpcClient } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { WRITE_CALL } from '../config/write-call';
import type { PartyJoin } from './party-join';
import { SessionRepository } from './session.repository';

/** The session a write adds parties to: its id, owner and allocation. */
interface Joined {
  _id: string;
  accountId: string;
  allocationId: string | null;
}

/**
 * A session write that adds parties its allocation already holds (AddAllocationParty): when the
 * write fails, the session does not show them, and the allocation must not keep them (the session
 * could never gain another party, and each would keep the number from another session of theirs
 * until this one ends). So the write is fenced (it can then never land late) and they are given back.
 */
@Injectable()
export class PartyGiveBack {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly rpc: RpcClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * `write`'s answer; when it throws, `join`'s parties (`numbers`) are given back before its error
   * is thrown again. A fence or give-back that fails too leaves them (logged): the same change
   * asked again adds nothing new and shows them; the session's end gives them back.
   */
  async writing<T>(
    scope: AccountScope,
    doc: Joined,
    join: PartyJoin | undefined,
    numbers: readonly string[],
    write: () => Promise<T>,
  ): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (join && doc.allocationId)
        await this.giveBack(scope, doc as Joined & { allocationId: string }, join, numbers);
      throw err;
    }
  }

  private async giveBack(
    scope: AccountScope,
    doc: Joined & { allocationId: string },
    join: PartyJoin,
    numbers: readonly string[],
  ): Promise<void> {
    try {
      // Landed after all, or the session ended (its release gives every party back): nothing to do.
      if (!(await this.sessions.fenceJoin(scope, doc._id, join))) return;
      for (const party of numbers) {
        await this.rpc.request(
          RemoveAllocationParty,
          { scope: { accountId: doc.accountId }, allocationId: doc.allocationId, party },
          WRITE_CALL,
        );
      }
    } catch (err) {
      this.logger.warn(
        { err, sessionId: doc._id },
        'a party added by a session write that failed stays on its number until asked again or the session ends',
      );
    }
  }
}
