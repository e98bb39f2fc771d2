import { Injectable } from '@nestjs/common';
import { NumberRoutingCache } from '@maskline/messaging';
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
  ) {}

  /**
   * Whether a call from this number is a leg Maskline placed: a live session is on it (any
   * account's), and its provider confirmed that the provider account of its credentials holds it. A number
   * added without that confirmation may be a person's phone a tenant typed in: taken for Maskline's
   * own, that person's calls to every tenant's numbers would be hung up. Only a number with a live
   * session is looked up (people call from phones; their numbers have none).
   */
  async placedCallFrom(number: string): Promise<boolean> {
    if (!this.finder.servesNumber(number)) return false;
    // Deleted or not: a deleted number's live sessions keep it, and their calls still go through it.
    return (await this.numbers.get(number))?.heldConfirmed === true;
  }
}
