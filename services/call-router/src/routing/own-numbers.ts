import { Injectable } from '@nestjs/common';
import { NumberRoutingCache } from '@maskline/messaging';
import { CallState } from '../calls/call-state';
import { SessionFinder } from './session-finder';

/**
 * The single-party sessions on a calling number whose last caller are read to know whether it
 * dialled the number called; past this many, the call is taken for a leg Maskline placed without
 * reading them (each a KV read, and the webhook a tenant may sign at will).
 */
const BOUND_READS_MAX = 8;

/**
 * Which callers are Maskline itself: a leg it placed from one of its numbers to a party that is a
 * virtual number (of any account), which dialled on would call on from this number, round and round.
 */
@Injectable()
export class OwnNumbers {
  constructor(
    private readonly finder: SessionFinder,
    private readonly numbers: NumberRoutingCache,
    private readonly state: CallState,
  ) {}

  /**
   * Whether a call from `number` to `to` is a leg Maskline placed: a live session on `number` (any
   * account's) would dial `to` (a party of it, or the one a single-party session last talked to), and
   * its provider confirmed that the provider account of its credentials holds it.
   *
   * - Only a number with a live session is looked up (people call from phones; their numbers have none).
   * - Not "any live session on it": the tenant of `to` may sign a call from any number to its own
   *   numbers, and would learn, call by call, whether another tenant's number has a session at all.
   *   What it learns now is whether a session on that number would call its own number.
   * - A number added without confirmation may be a person's phone a tenant typed in: taken for
   *   Maskline's own, that person's calls to every tenant's numbers would be hung up.
   */
  async placedCallFrom(number: string, to: string): Promise<boolean> {
    if (!this.finder.servesNumber(number) || !(await this.dials(number, to))) return false;
    // Deleted or not: a deleted number's live sessions keep it, and their calls still go through it.
    return (await this.numbers.get(number))?.heldConfirmed === true;
  }

  /** Whether a live session on `number` would dial `to` (see placedCallFrom). */
  private async dials(number: string, to: string): Promise<boolean> {
    if (this.finder.servesParty(number, to)) return true;
    const singles = this.finder.singlePartyOn(number);
    if (singles.length > BOUND_READS_MAX) return true;
    const bound = await Promise.all(singles.map((s) => this.state.boundTo(s.sessionId)));
    return bound.includes(to);
  }
}
