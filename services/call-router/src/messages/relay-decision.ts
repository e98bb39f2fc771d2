import type { MessageDirection, RoutingSession } from '@maskline/contracts';

export type RelayDecision =
  | { kind: 'relay'; session: RoutingSession; to: string; direction: MessageDirection }
  | {
      kind: 'none';
      /** Why nothing is relayed (the number's fallback message, if any, goes back to the sender). */
      why: 'no-session' | 'masking-off' | 'no-other-party';
    };

/**
 * Who a message to a virtual number goes to: the other party of the live session on the number in
 * which the sender is a party, when that session has message masking on. A sender who is no party
 * gets nothing relayed: a PIN cannot be typed into a text, so an unregistered phone cannot text
 * into a session. `sessions` are the number's live sessions of its owner.
 */
export function decideRelay(
  sessions: readonly RoutingSession[],
  sender: string,
  nowMs: number,
): RelayDecision {
  const mine = sessions
    .filter((s) => s.status === 'active' && Date.parse(s.expiresAt) > nowMs)
    .filter((s) => s.firstParty === sender || s.secondParty === sender)
    // One party has one session per number (the allocator's invariant); the newest, should two overlap.
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const session = mine[0];
  if (!session) return { kind: 'none', why: 'no-session' };
  if (!session.settings.messageMasking) return { kind: 'none', why: 'masking-off' };
  const fromFirst = session.firstParty === sender;
  const to = fromFirst ? session.secondParty : session.firstParty;
  if (!to) return { kind: 'none', why: 'no-other-party' };
  return { kind: 'relay', session, to, direction: fromFirst ? 'first-to-second' : 'second-to-first' };
}
