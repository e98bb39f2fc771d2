import type { SessionDocument } from './session.schema';

/** A session's party field that a write fills (a single-party session gaining its other party). */
export type PartyField = 'firstParty' | 'secondParty';

/**
 * A session write that adds parties, already put on its allocation (AddAllocationParty). It lands
 * only while they are unset and the session's join fence is as read: once fenced
 * (`SessionRepository.fenceJoin`, which changes the fence), a write that failed can never land
 * later (a command past its deadline run once the store resumed), and its parties can be given back.
 */
export interface PartyJoin {
  parties: readonly PartyField[];
  fenceAsRead: string | null;
}

/** The join a write of `doc` adding `parties` makes (none when it adds none). */
export function partyJoin(
  doc: Pick<SessionDocument, 'joinFence'>,
  parties: readonly PartyField[],
): PartyJoin | undefined {
  return parties.length > 0 ? { parties, fenceAsRead: doc.joinFence ?? null } : undefined;
}

/** What the write (and its fence) requires of the stored session: equal values only (a guard by id). */
export function joinGuard(join: PartyJoin | undefined): Record<string, string | null> {
  if (!join) return {};
  return { ...Object.fromEntries(join.parties.map((p) => [p, null])), joinFence: join.fenceAsRead };
}
