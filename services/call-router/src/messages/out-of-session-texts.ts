import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CodedError } from '@maskline/contracts';
import { RetryLater, backoffWithJitter } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import {
  ProxyOutOfSession,
  type OutOfSessionAnswer,
  type OutsideContact,
} from '../proxy/proxy-out-of-session';
import { PendingAutoCreates, type PendingAutoCreate } from './pending-auto-creates';

/**
 * Creates of one auto-create answer that may go unanswered (each a delivery, with backoff: about
 * two minutes in all) before its Session is given up on and the number's fallback answers.
 */
const AUTO_CREATE_TRIES = 8;
/** The first wait before an unanswered auto-create is made again (doubling, to a minute). */
const AUTO_CREATE_RETRY_MS = 1000;
/**
 * How long a text's auto-create waits for session-service: as long as the gateway waits for a
 * create (whose saga fits in 8 s). Nobody waits on a text's answer, and a create asked again while
 * the first still ran would be refused (its name or its pair taken) and the text go to the fallback.
 */
const AUTO_CREATE_WAIT_MS = 10_000;
/**
 * Auto-creates one account may have running at once on a replica: a Service whose creates go
 * unanswered holds at most these of the relay's 64 slots (each up to AUTO_CREATE_WAIT_MS).
 */
const AUTO_CREATES_PER_ACCOUNT = 4;
/** When a text whose account's auto-creates are busy is looked at again. */
const BUSY_RETRY_MS = 1000;

/**
 * A stranger's text to a Proxy Service's number: the Service's out-of-session callback is posted
 * once per message, however often the text is delivered, and an auto-create it answers is made
 * again on later deliveries until made, refused, or given up on.
 */
@Injectable()
export class OutOfSessionTexts {
  /** Auto-creates this replica is making now, per account. */
  private readonly running = new Map<string, number>();

  constructor(
    private readonly proxy: ProxyOutOfSession,
    private readonly pendings: PendingAutoCreates,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** An auto-create an earlier delivery of the message kept (read on redeliveries only). */
  async pending(key: string, deliveryCount: number): Promise<PendingAutoCreate | undefined> {
    return deliveryCount > 1 ? this.pendings.of(key) : undefined;
  }

  /** The message found its sender in a Session (a kept auto-create was made after all): forgotten. */
  async settled(key: string, pending: PendingAutoCreate | undefined): Promise<void> {
    if (pending) await this.pendings.forget(key);
  }

  /**
   * The Service's out-of-session answer about a stranger's text, its auto-create made. The callback
   * is posted once per message: its auto-create is kept before it is made, and one that went
   * unanswered (it may have been made, or may pass if asked again) is made again by a redelivery
   * that does not find the sender in a Session, without asking the Service again. After
   * AUTO_CREATE_TRIES it is given up on: null, and the number's fallback answers. At most
   * AUTO_CREATES_PER_ACCOUNT of an account's run at once on a replica.
   */
  async ask(
    contact: OutsideContact,
    key: string,
    kept: PendingAutoCreate | undefined,
  ): Promise<OutOfSessionAnswer | null> {
    // Kept for another Service (the number moved meanwhile): that Service's answer does not apply.
    let pending = kept?.serviceSid === contact.owner.serviceSid ? kept : undefined;
    if (kept && !pending) await this.pendings.forget(key);
    if (!pending) {
      const reply = await this.proxy.callback(contact);
      if (reply?.kind !== 'auto-create') return reply;
      // Kept before it is made: should this try not end (a crash, the ack wait passed), the next
      // delivery makes it without posting the Service's callback again.
      pending = { create: reply.create, serviceSid: contact.owner.serviceSid, tries: 0 };
      await this.pendings.keep(key, pending);
    }
    const { accountId } = contact.owner;
    const running = this.running.get(accountId) ?? 0;
    if (running >= AUTO_CREATES_PER_ACCOUNT) {
      // This account's creates fill its share of the relay's slots: its text waits its turn, and
      // costs neither a try nor a slot (other accounts' texts go on).
      throw new RetryLater('the account’s out-of-session auto-creates are busy', BUSY_RETRY_MS);
    }
    const tries = pending.tries + 1;
    let made: Awaited<ReturnType<ProxyOutOfSession['autoCreate']>>;
    this.running.set(accountId, running + 1);
    try {
      made = await this.proxy.autoCreate(contact, pending.create, { timeoutMs: AUTO_CREATE_WAIT_MS });
    } catch (err) {
      this.logger.warn(
        { err, serviceSid: contact.owner.serviceSid, tries },
        tries < AUTO_CREATE_TRIES
          ? 'out-of-session auto-create unanswered; made again later'
          : "out-of-session auto-create unanswered; given up, the number's fallback answers",
      );
      if (tries >= AUTO_CREATE_TRIES) {
        await this.pendings.forget(key);
        return null;
      }
      await this.pendings.keep(key, { ...pending, tries });
      // Asked again later whatever the failure's code (one that is not retryable would end the
      // text unanswered): a made Session then has the sender as a party.
      throw new RetryLater(
        `out-of-session auto-create unanswered (${err instanceof CodedError ? err.code : 'error'})`,
        backoffWithJitter(tries, AUTO_CREATE_RETRY_MS, 60_000),
      );
    } finally {
      const left = (this.running.get(accountId) ?? 1) - 1;
      if (left > 0) this.running.set(accountId, left);
      else this.running.delete(accountId);
    }
    await this.pendings.forget(key);
    return made;
  }
}
