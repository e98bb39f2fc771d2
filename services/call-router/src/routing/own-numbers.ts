import { Injectable } from '@nestjs/common';
import { NumberRoutingCache } from '@maskline/messaging';
import { CallState } from '../calls/call-state';
import { SessionFinder } from './session-finder';

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
   * account's) would dial `to` (it is a party of one, or a single-party session on it was bound to
   * it lately), and its provider confirmed that the provider account of its credentials holds it.
   *
   * - Phones are looked up no further: their numbers have no live session (an in-memory check).
   * - Not "any live session on it": the tenant of `to` may sign a call from any number to its own
   *   numbers, and would learn, call by call, whether another tenant's number has a session at all.
   *   What it learns now is whether a session there names its own number, or was bound to it.
   * - A number added without confirmation may be a person's phone a tenant typed in: taken for
   *   Maskline's own, that person's calls to every tenant's numbers would be hung up.
   */
  async placedCallFrom(number: string, to: string): Promise<boolean> {
    if (!this.finder.mayServe(number)) return false;
    const dials = (await this.finder.servesParty(number, to)) || (await this.state.boundLately(number, to));
    if (!dials) return false;
    // Deleted or not: a deleted number's live sessions keep it, and their calls still go through it.
    return (await this.numbers.get(number))?.heldConfirmed === true;
  }
}
