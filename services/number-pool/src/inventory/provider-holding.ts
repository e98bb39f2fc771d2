import type { TelephonyProvider } from '@maskline/contracts';

/**
 * What a provider said when asked whether an account holds a number:
 * - `confirmed`: it holds it, as a number it rents out (Twilio's incoming numbers; Plivo's own);
 * - `unconfirmed`: the account lists it, but as a number it brought from a carrier of its own (Plivo's
 *   "add a number from your own carrier"), which Plivo takes on the account's word;
 * - `not-held`: the account does not hold it.
 */
export type Holding = 'confirmed' | 'unconfirmed' | 'not-held';

/** The provider's last word on a number, for the credentials it was asked with. Absent: never asked. */
export interface ProviderHoldingRecord {
  at: Date;
  provider: TelephonyProvider;
  /** The provider account asked (Plivo Auth ID, Twilio Account SID). */
  providerAccountId: string;
  /** Its provider confirmed that account holds it. */
  held: boolean;
}

/** The fields of a number this reads. */
interface NumberHolding {
  provider: TelephonyProvider;
  credentials: { accountId: string } | null;
  providerHolding?: ProviderHoldingRecord | null;
}

/**
 * Whether the number's provider confirmed that the provider account of its credentials, as they are
 * now, holds it: a record of another provider or provider account (credentials changed since, by
 * whatever path) confirms nothing. Only such a number is taken for one of Maskline's own.
 */
export function holdingConfirmed(n: NumberHolding): boolean {
  const h = n.providerHolding;
  return (
    n.credentials !== null &&
    h?.held === true &&
    h.provider === n.provider &&
    h.providerAccountId === n.credentials.accountId
  );
}

/**
 * Whether the provider should be asked about the number (again): it has credentials, and it was
 * never asked about them as they are now, or was asked `reaskAfterMs` ago or more (a number an
 * account released at its provider may since be a person's phone), or a 24th of that when its word
 * did not confirm it.
 */
export function holdingToAsk(n: NumberHolding, now: number, reaskAfterMs: number): boolean {
  if (n.credentials === null) return false;
  const h = n.providerHolding;
  if (!h || h.provider !== n.provider || h.providerAccountId !== n.credentials.accountId) return true;
  // A word that did not confirm it (a refusal may be a token being rotated) is asked again sooner.
  return now - new Date(h.at).getTime() >= (h.held ? reaskAfterMs : reaskUnconfirmedAfterMs(reaskAfterMs));
}

/**
 * Whether the number may be taken by an account whose provider confirms it holds it: its own
 * provider never confirmed it for its credentials as they are now, and it is not merely waiting to
 * be asked. So: no credentials (nobody could be asked), or a provider's word that does not confirm
 * them (held: false, or of other credentials or another provider, however they changed since). A
 * number stored before the question was asked, never asked about, waits for the sweep.
 */
export function holdingUnconfirmed(n: NumberHolding): boolean {
  if (n.credentials === null) return true;
  return n.providerHolding !== undefined && n.providerHolding !== null && !holdingConfirmed(n);
}

/** How long a provider's word that did not confirm a number stands before it is asked again. */
export const reaskUnconfirmedAfterMs = (reaskAfterMs: number): number => Math.ceil(reaskAfterMs / 24);
