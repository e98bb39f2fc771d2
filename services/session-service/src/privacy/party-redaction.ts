import { Inject, Injectable } from '@nestjs/common';
import { isRedactedParty, redactPartyNumber, redactionKeyId } from '@maskline/contracts';
import { SESSION_SERVICE_CONFIG, type SessionServiceConfig } from '../config/session-service.config';

/** This deployment's digest of a party number (the same in every service that shares the key). */
@Injectable()
export class PartyRedaction {
  /** Which key this deployment's digests are made under now. */
  readonly keyId: string;

  constructor(@Inject(SESSION_SERVICE_CONFIG) private readonly config: SessionServiceConfig) {
    this.keyId = redactionKeyId(config.PARTY_REDACTION_KEY);
  }

  redact(accountId: string, number: string): string {
    return redactPartyNumber(this.config.PARTY_REDACTION_KEY, accountId, number);
  }

  /** A stored party as redaction leaves it: its digest (none stays none; a digest stays as it is). */
  digestOf(accountId: string, party: string | null): string | null {
    return party === null || isRedactedParty(party) ? party : this.redact(accountId, party);
  }

  /** What an account's stored party may read for this number: the number, or its digest once redacted. */
  storedForms(accountId: string, number: string): string[] {
    return [number, this.redact(accountId, number)];
  }
}
