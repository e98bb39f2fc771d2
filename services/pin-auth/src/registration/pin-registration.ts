import type { PartyRole } from '@maskline/contracts';
import type { EncryptedSecret } from '@maskline/crypto';

/** `liveMarker` of a registration whose session is live. */
export const LIVE = 'L';

/**
 * One party's PIN on one virtual number. Never the PIN itself: a keyed digest (HMAC-SHA256 over
 * virtual number + PIN) to find it, and an AES-256-GCM copy (bound to session and party) to show
 * it. Two unique indexes make the store the arbiter: one live registration per digest (a PIN on a
 * number resolves to exactly one party), and one per capacity slot (the density cap).
 */
export interface PinRegistration {
  _id: string;
  accountId: string;
  sessionId: string;
  party: PartyRole;
  virtualNumber: string;
  digest: string;
  pinLength: number;
  /** 0 ≤ slot < floor(cap × 10^pinLength): the cap is the number of slots. */
  slot: number;
  liveMarker: string;
  sealed: EncryptedSecret;
  createdAt: Date;
  retiredAt: Date | null;
}

export type InsertOutcome = 'inserted' | 'digest-taken' | 'slot-taken';

export interface PinRegistryStore {
  insert(registration: PinRegistration): Promise<InsertOutcome>;
  /** Every read and write names the account: another account's registrations are never found. */
  liveForSession(accountId: string, sessionId: string): Promise<PinRegistration[]>;
  /** The live registrations of several sessions, in one read. */
  liveForSessions(accountId: string, sessionIds: readonly string[]): Promise<PinRegistration[]>;
  liveByDigest(accountId: string, digest: string): Promise<PinRegistration | null>;
  /**
   * The capacity slots live PINs of this length hold on the number, whoever's (the slots are the
   * number's, as the unique index is); advisory: inserts enforce the cap.
   */
  liveSlotsOnNumber(virtualNumber: string, pinLength: number): Promise<number[]>;
  /**
   * Whether each of these live registrations (a session's, found again by its retried registration)
   * has its record, giving one that lacks it its record now: false when one cannot be recorded.
   */
  recorded(registrations: readonly PinRegistration[]): Promise<boolean>;
  /** Ends a live registration (named by id; the digest says where its live state is kept). */
  retire(accountId: string, registration: Pick<PinRegistration, '_id' | 'digest'>, at: Date): Promise<void>;
}
