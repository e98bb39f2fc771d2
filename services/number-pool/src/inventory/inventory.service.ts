import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  CodedError,
  ErrorCodes,
  PoolErrorCodes,
  type AccountScope,
  type ProviderCredentials,
  type RpcParsedRequestOf,
  type UpdateVirtualNumber,
  type AddVirtualNumbers,
  type ListVirtualNumbers,
  type VirtualNumber,
  type NumberCapability,
  NUMBER_FIELDS,
  PROVIDER_ACCOUNT_ID_RULE,
  VirtualNumberChanged,
  sameHolder,
  subaccountShare,
} from '@maskline/contracts';
import { decryptSecret, encryptSecret } from '@maskline/crypto';
import { EventPublisher } from '@maskline/messaging';
import { LOGGER } from '@maskline/observability';
import { CLOCK, type Clock } from '@maskline/service-kit';
import { NUMBER_POOL_CONFIG, type NumberPoolConfig } from '../config/number-pool.config';
import { HoldMaintenance } from '../allocation/hold-maintenance';
import type { AllocationRecord } from '../allocation/hold';
import { CandidatePool } from './candidate-pool';
import { InventoryAddTurns } from './inventory-add-turns';
import { capabilitiesOf, carries } from './number-capabilities';
import { holdingConfirmed, holdingUnconfirmed, type ProviderHoldingRecord } from './provider-holding';
import { ProviderHoldingClient } from './provider-holding.client';
import { ProxyNumberClaimRepository } from './proxy-number-claim.repository';
import { parsePhoneNumber } from './phone-number';
import { VirtualNumberRepository } from './virtual-number.repository';
import type { VirtualNumberDocument } from './virtual-number.schema';

/** A number that serves no Twilio Proxy Service. */
const NO_PROXY_SERVICE = { proxyServiceSid: null, isReserved: false };

/** The account's virtual-number inventory: add, list, get, update, delete. */
@Injectable()
export class InventoryService {
  constructor(
    private readonly numbers: VirtualNumberRepository,
    private readonly pool: CandidatePool,
    private readonly proxyClaims: ProxyNumberClaimRepository,
    private readonly holds: HoldMaintenance,
    private readonly events: EventPublisher,
    @Inject(NUMBER_POOL_CONFIG) private readonly config: NumberPoolConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly addTurns: InventoryAddTurns,
    private readonly holding: ProviderHoldingClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Validates every number first (nothing is written if one is bad), then adds them. Re-adding a
   * number the account already has (even a deleted one) updates it; a number in another
   * account's inventory is refused, unless that account deleted it NUMBER_QUARANTINE_MS ago or more
   * and no session of its still holds it, or its provider never confirmed that account holds it
   * while this add's provider confirms this one does: then it is this account's, afresh (nothing of
   * the other account's comes with it; the other's sessions on it reach nobody through it).
   * An account holds NUMBERS_PER_ACCOUNT_MAX at most: its adds take turns (`InventoryAddTurns`), each
   * counting what the one before it left.
   * With credentials, the provider is asked first whether the account they name holds every number
   * (before anything else is read: whether another account has a number is nobody else's to learn).
   */
  async add(request: RpcParsedRequestOf<typeof AddVirtualNumbers>): Promise<VirtualNumber[]> {
    const parsed = request.numbers.map((raw, i) => {
      const p = parsePhoneNumber(raw);
      if (!p.ok) throw CodedError.validation('numbers', `numbers[${i}] (${raw}) ${p.reason}`);
      return p;
    });
    const unique = new Map(parsed.map((p) => [p.e164, p]));
    return this.addTurns.during(request.scope.accountId, async () => {
      // First, in the account's turn (one add's questions at a time per account, across replicas).
      const holding = await this.askHolding(
        request.scope.accountId,
        request.provider ?? NUMBER_FIELDS.provider.default,
        request.credentials ?? null,
        [...unique.keys()],
      );
      return this.addInTurn(request, unique, holding);
    });
  }

  private async addInTurn(
    request: RpcParsedRequestOf<typeof AddVirtualNumbers>,
    unique: Map<string, { e164: string; country: string }>,
    holding: Map<string, ProviderHoldingRecord> | null,
  ): Promise<VirtualNumber[]> {
    /** Numbers another account deleted and no longer uses, by number: their record as read. */
    const released = new Map<string, VirtualNumberDocument>();
    /** Numbers another account holds unconfirmed, which this add's provider confirmed: as read. */
    const unconfirmed = new Map<string, VirtualNumberDocument>();
    let adding = 0;
    for (const p of unique.values()) {
      const existing = await this.numbers.findAnyAccountSystemWide(p.e164);
      // Another account's number, or (for a subaccount) a sibling's or the main account's: not
      // yours to re-add, which would take over its credentials and fallback. The main account
      // may re-add any of its own (it owns its subaccounts' numbers too).
      const foreign =
        existing &&
        (existing.accountId !== request.scope.accountId ||
          (request.scope.subaccountId !== undefined && existing.subaccountId !== request.scope.subaccountId));
      if (foreign) {
        const anotherAccount = existing.accountId !== request.scope.accountId;
        if (anotherAccount && holding?.get(p.e164)?.held && holdingUnconfirmed(existing)) {
          // Its provider confirmed this account holds it; the other account's provider never did
          // (or it gave none): the other record was a claim on someone else's number.
          unconfirmed.set(p.e164, existing);
        } else if (!anotherAccount || !(await this.releasedBy(existing))) {
          throw new CodedError(PoolErrorCodes.NUMBER_TAKEN, `number ${p.e164} belongs to another account`, {
            field: 'numbers',
          });
        } else {
          released.set(p.e164, existing);
        }
      }
      // Counted already: the account's active numbers, and those it deleted still in quarantine.
      const counted =
        existing && !released.has(p.e164) && !unconfirmed.has(p.e164) && !this.pastQuarantine(existing);
      if (!counted) adding++;
    }
    const max = this.config.NUMBERS_PER_ACCOUNT_MAX;
    const quarantinedSince = new Date(this.clock() - this.config.NUMBER_QUARANTINE_MS);
    if (
      adding > 0 &&
      (await this.numbers.countHeld(request.scope.accountId, quarantinedSince)) + adding > max
    ) {
      throw new CodedError(
        PoolErrorCodes.INVENTORY_FULL,
        `an account (with its subaccounts) holds at most ${max} numbers; delete some first`,
        { field: 'numbers' },
      );
    }
    // A subaccount's own adds: the main account adding for it chooses what it gives it.
    const holder = request.byMainAccount ? undefined : request.scope.subaccountId;
    const share = subaccountShare(max, this.config.NUMBERS_SUBACCOUNT_PERCENT);
    if (
      adding > 0 &&
      holder &&
      (await this.numbers.countHeld(request.scope.accountId, quarantinedSince, holder)) + adding > share
    ) {
      throw new CodedError(
        PoolErrorCodes.INVENTORY_FULL,
        `a subaccount adds at most ${share} numbers (${this.config.NUMBERS_SUBACCOUNT_PERCENT}% of its main account's ${max}; those it deleted count until their quarantine ends)`,
        { field: 'numbers' },
      );
    }
    const added: VirtualNumber[] = [];
    /** Numbers of the account's that this add moved to another subaccount (or to its main account). */
    const movedWithin = new Set<string>();
    for (const p of unique.values()) {
      const fields = {
        subaccountId: request.scope.subaccountId ?? null,
        country: p.country,
        fallbackAnswerUrl: request.fallbackAnswerUrl ?? null,
        fallbackMessage: request.fallbackMessage ?? null,
        voiceEnabled: request.voiceEnabled ?? NUMBER_FIELDS.voiceEnabled.default,
        smsEnabled: request.smsEnabled ?? NUMBER_FIELDS.smsEnabled.default,
        region: request.region ?? null,
        numberType: request.numberType ?? NUMBER_FIELDS.numberType.default,
        carrier: request.carrier ?? null,
        provider: request.provider ?? NUMBER_FIELDS.provider.default,
        credentials: request.credentials ? this.seal(p.e164, request.credentials) : null,
        // What the provider said of these credentials; none asked, nothing written (a record kept
        // from before confirms nothing unless it is of the credentials the number has).
        ...(holding ? { providerHolding: holding.get(p.e164) } : {}),
        status: 'active' as const,
        deletedAt: null,
      };
      const from = released.get(p.e164) ?? unconfirmed.get(p.e164);
      if (from !== undefined) {
        const doc = { _id: p.e164, accountId: request.scope.accountId, alias: null, ...fields };
        const taken = released.has(p.e164)
          ? await this.numbers.takeOverDeleted(from, doc)
          : await this.numbers.takeOverUnconfirmed(from, doc);
        if (taken) {
          // A Service claim of the first account's left behind (an assignment racing its delete, or
          // its own Service): the number is another's now. Told at once, whatever comes after.
          await this.proxyClaims.release(from.accountId, p.e164);
          await this.retireFormerCoolOffs(from.accountId, p.e164);
          this.pool.invalidate(from.accountId);
          await this.announce(request.scope.accountId, p.e164, { takenFrom: from.accountId });
        }
        if (!taken) {
          throw new CodedError(PoolErrorCodes.NUMBER_TAKEN, `number ${p.e164} belongs to another account`, {
            field: 'numbers',
          });
        }
        added.push(await this.get(request.scope, p.e164));
        continue;
      }
      const existing = await this.numbers.findAnyAccountSystemWide(p.e164);
      if (existing) {
        // Read again: moved to a sibling (or the main account) since the first read, it is not a
        // subaccount's to re-add, and the write below is of the record as read here.
        if (
          request.scope.subaccountId !== undefined &&
          existing.subaccountId !== request.scope.subaccountId
        ) {
          throw new CodedError(PoolErrorCodes.NUMBER_TAKEN, `number ${p.e164} belongs to another account`, {
            field: 'numbers',
          });
        }
        // Adding a number again keeps what this request does not say (its alias, credentials, fallback,
        // and, while active, its subaccount: the main account re-adding a subaccount's number without
        // naming one leaves it there; moving it, which ends the sessions the subaccount keeps on it, is
        // an update's. A deleted one comes back to whoever adds it).
        const subaccountId =
          request.scope.subaccountId === undefined && existing.status === 'active'
            ? (existing.subaccountId ?? null)
            : fields.subaccountId;
        const moved = !sameHolder(existing.subaccountId, subaccountId);
        if (moved) movedWithin.add(p.e164);
        const written = await this.numbers.updateAsRead(existing, {
          ...fields,
          subaccountId,
          credentials: fields.credentials ?? existing.credentials,
          fallbackAnswerUrl: fields.fallbackAnswerUrl ?? existing.fallbackAnswerUrl ?? null,
          fallbackMessage: fields.fallbackMessage ?? existing.fallbackMessage ?? null,
          // Deleted before, or another owner's now: it serves no Service until one takes it.
          ...(existing.status === 'deleted' || moved ? NO_PROXY_SERVICE : {}),
        });
        if (!written) throw changedMeanwhile(p.e164);
        if (existing.status === 'deleted' || moved) {
          await this.proxyClaims.release(request.scope.accountId, p.e164);
        }
        if (moved) await this.retireFormerCoolOffs(request.scope.accountId, p.e164, subaccountId);
      } else {
        await this.numbers.insert({
          _id: p.e164,
          accountId: request.scope.accountId,
          alias: null,
          ...fields,
        });
      }
      added.push(await this.get(request.scope, p.e164));
    }
    this.pool.invalidate(request.scope.accountId);
    for (const n of added) {
      await this.announce(request.scope.accountId, n.number, { movedWithin: movedWithin.has(n.number) });
    }
    return added;
  }

  async list(request: RpcParsedRequestOf<typeof ListVirtualNumbers>) {
    const owner = request.scope.subaccountId ?? request.subaccountId;
    const { objects, total } = await this.numbers.list(
      request.scope.accountId,
      {
        subaccountId: owner,
        numberStartsWith: request.numberStartsWith,
        numberType: request.numberType,
        services: request.services,
        alias: request.alias,
        country: request.country,
      },
      request.limit,
      request.offset,
    );
    return { total, objects: objects.map(toVirtualNumber) };
  }

  async get(scope: AccountScope, number: string): Promise<VirtualNumber> {
    return toVirtualNumber(await this.require(scope, number));
  }

  async update(request: RpcParsedRequestOf<typeof UpdateVirtualNumber>): Promise<VirtualNumber> {
    const existing = await this.require(request.scope, request.number);
    const set: Partial<VirtualNumberDocument> = {};
    if (request.alias !== undefined) set.alias = request.alias;
    if (request.subaccountId !== undefined) {
      if (request.scope.subaccountId) {
        throw new CodedError(ErrorCodes.FORBIDDEN, 'a subaccount cannot move numbers between subaccounts');
      }
      set.subaccountId = request.subaccountId;
      // Another owner: the number leaves the Service it served (a Service is its owner's).
      if (!sameHolder(request.subaccountId, existing.subaccountId)) Object.assign(set, NO_PROXY_SERVICE);
    }
    if (request.provider !== undefined) set.provider = request.provider;
    if (request.credentials !== undefined) set.credentials = this.seal(existing._id, request.credentials);
    // New credentials, or the same ones for another provider: asked again, before anything is written.
    if (request.credentials !== undefined || (request.provider ?? existing.provider) !== existing.provider) {
      const holding = await this.askHolding(
        request.scope.accountId,
        request.provider ?? existing.provider,
        request.credentials ?? this.credentialsOf(existing),
        [existing._id],
      );
      if (holding) set.providerHolding = holding.get(existing._id);
    }
    if (request.fallbackAnswerUrl !== undefined) set.fallbackAnswerUrl = request.fallbackAnswerUrl;
    if (request.fallbackMessage !== undefined) set.fallbackMessage = request.fallbackMessage;
    if (request.voiceEnabled !== undefined) set.voiceEnabled = request.voiceEnabled;
    if (request.smsEnabled !== undefined) set.smsEnabled = request.smsEnabled;
    // Written only over the record as read: a move, a delete or another's update in between (the
    // provider asked meanwhile) is not overwritten, nor this update's change put on a sibling's number.
    if (!(await this.numbers.updateAsRead(existing, set))) throw changedMeanwhile(existing._id);
    // Its Service's claim given back after the number is the new holder's (as an add's and a
    // takeover's are), that Service's alone: an assignment by the former holder racing the move then
    // either wrote before it (and its claim goes here) or finds the number not its own (and gives its
    // claim back), and one by the new holder right after the move keeps its claim.
    if (set.proxyServiceSid === null && existing.proxyServiceSid) {
      await this.proxyClaims.release(request.scope.accountId, existing._id, existing.proxyServiceSid);
    }
    this.pool.invalidate(request.scope.accountId);
    const movedWithin =
      set.subaccountId !== undefined && !sameHolder(set.subaccountId, existing.subaccountId);
    if (movedWithin) await this.retireFormerCoolOffs(request.scope.accountId, existing._id, set.subaccountId);
    await this.announce(request.scope.accountId, existing._id, { movedWithin });
    return this.get(request.scope, request.number);
  }

  /**
   * Whether another account's number is free to be taken: deleted at least NUMBER_QUARANTINE_MS ago,
   * and held by none of its sessions (nor their cool-offs), whose parties still call it.
   */
  private async releasedBy(existing: VirtualNumberDocument): Promise<boolean> {
    if (!this.pastQuarantine(existing)) return false;
    return !(await this.holds.holdsNumber(existing.accountId, existing._id));
  }

  /** Deleted NUMBER_QUARANTINE_MS ago or more (one without a time as if just now). */
  private pastQuarantine(n: VirtualNumberDocument): boolean {
    if (n.status !== 'deleted') return false;
    const deletedAt = n.deletedAt?.getTime() ?? this.clock();
    return this.clock() - deletedAt >= this.config.NUMBER_QUARANTINE_MS;
  }

  /**
   * Stops new sessions on the number at once; live sessions keep it until they end. Written only over
   * the record as read: a subaccount's delete racing its main account's move of the number to a
   * sibling deletes nothing of the sibling's (409), and gives back only its own Service's claim.
   */
  async delete(scope: AccountScope, number: string): Promise<void> {
    const existing = await this.require(scope, number);
    const deleted = await this.numbers.updateAsRead(existing, {
      status: 'deleted',
      deletedAt: new Date(this.clock()),
      ...NO_PROXY_SERVICE,
    });
    if (!deleted) throw changedMeanwhile(existing._id);
    if (existing.proxyServiceSid) {
      await this.proxyClaims.release(scope.accountId, existing._id, existing.proxyServiceSid);
    }
    this.pool.invalidate(scope.accountId);
    await this.announce(scope.accountId, existing._id);
  }

  /**
   * For the allocator's last check before claiming: still active, carrying what is needed, not
   * reserved (unless the Proxy participant named it), and still its Service's for a Proxy one.
   */
  async takesNewSessions(
    accountId: string,
    subaccountId: string | null,
    number: string,
    needs: readonly NumberCapability[],
    proxy: { serviceSid: string | null; reservedAllowed: boolean } = {
      serviceSid: null,
      reservedAllowed: false,
    },
  ): Promise<boolean> {
    const doc = await this.numbers.get(accountId, number);
    if (proxy.serviceSid && doc?.proxyServiceSid !== proxy.serviceSid) return false;
    return (
      doc?.status === 'active' &&
      // Still the subaccount's (or the main account's) the pool offered it to: moved meanwhile, it is
      // the new holder's (session-service ends the sessions another holder keeps on it).
      sameHolder(doc.subaccountId, subaccountId) &&
      (!doc.isReserved || proxy.reservedAllowed) &&
      carries(capabilitiesOf(doc), needs)
    );
  }

  /**
   * Whether the number is in the account's inventory (its own or a subaccount's) and not deleted:
   * a deleted one routes nothing, so a call or text to it cannot come back in through Maskline.
   */
  async owns(accountId: string, number: string): Promise<boolean> {
    return (await this.numbers.get(accountId, number))?.status === 'active';
  }

  /**
   * Whether the number still serves the allocation: still its account's, deleted or not (a session
   * on a number its account deleted lives on until it ends; one on a number another account has
   * taken since does not), and the holder's it was allocated to (the main account, a subaccount), not
   * moved to another of the account's owners (a record of an earlier release, which does not say, as
   * its account's). A former holder's session claims no party on it, and its pairs do not cool off
   * there. Who holds it now, not when it moved: no clock of two replicas compared, and a number moved
   * away and back serves its holder's sessions again (as session-service, looking, spares them).
   */
  async servesAllocation(
    record: Pick<AllocationRecord, 'accountId' | 'virtualNumber' | 'subaccountId'>,
  ): Promise<boolean> {
    const doc = await this.numbers.get(record.accountId, record.virtualNumber);
    if (!doc) return false;
    return record.subaccountId === undefined || sameHolder(doc.subaccountId, record.subaccountId);
  }

  /**
   * Frees the pairs a number's former holder's ended sessions keep cooling off there (taken by
   * another account: all of that account's; or moved to another of the account's owners, `holder`:
   * all but the holder's own): the new holder's phones are not kept from its own number, nor told
   * apart by it (those of the former's sessions still live are freed as they end:
   * AllocationService.release). Best effort: each frees itself at its cool-off's end.
   */
  private async retireFormerCoolOffs(
    accountId: string,
    number: string,
    holder?: string | null,
  ): Promise<void> {
    await this.holds
      .retireCoolingOff(accountId, number, holder)
      .catch((err: unknown) =>
        this.logger.warn(
          { err, number, accountId },
          'a moved number’s old cool-offs left to end at their time',
        ),
      );
  }

  /** Who owns a number and the provider credentials its webhooks are signed with. */
  async routingOf(number: string) {
    const doc = await this.numbers.findAnyAccountSystemWide(number);
    if (!doc) return null;
    // An id no provider issues (stored before the rule) is no credentials: it would be a path of the
    // provider's API that leads elsewhere (`..`). The number's owner sets them again to use it.
    const credentials = this.credentialsOf(doc);
    return {
      accountId: doc.accountId,
      subaccountId: doc.subaccountId,
      provider: doc.provider,
      status: doc.status,
      credentials,
      fallbackAnswerUrl: doc.fallbackAnswerUrl ?? null,
      fallbackMessage: doc.fallbackMessage ?? null,
      smsEnabled: capabilitiesOf(doc).smsEnabled,
      proxyServiceSid: doc.proxyServiceSid ?? null,
      // Only the provider's word of the credentials it has now (never asked: not confirmed).
      heldConfirmed: credentials !== null && holdingConfirmed(doc),
    };
  }

  /**
   * Tells every holder of the number's routing (the gateway's webhook check, the call router's loop
   * guard) to read it afresh. After the write: a failed announcement fails the request, which the
   * caller may repeat (the change is stored; the next announcement carries it), and caches still
   * expire on their own.
   */
  async announce(
    accountId: string,
    number: string,
    change: { takenFrom?: string; movedWithin?: boolean } = {},
  ): Promise<void> {
    const { takenFrom, movedWithin } = change;
    // Every change is news of its own (an extra one only costs a cache miss): a fresh id each time.
    await this.events.publish(
      VirtualNumberChanged,
      {
        accountId,
        number,
        at: new Date(this.clock()).toISOString(),
        ...(takenFrom ? { takenFrom } : {}),
        ...(movedWithin ? { movedWithin: true as const } : {}),
      },
      { msgId: `number-changed:${number}:${randomUUID()}` },
    );
  }

  /**
   * What the provider says of each number for these credentials (null without credentials: nothing
   * to ask with). A number it does not hold is refused (POOL.NUMBER_NOT_HELD), as are credentials it
   * refuses; no clear answer is POOL.PROVIDER_UNAVAILABLE. Nothing is written before this.
   */
  private async askHolding(
    accountId: string,
    provider: VirtualNumberDocument['provider'],
    credentials: ProviderCredentials | null,
    numbers: string[],
  ): Promise<Map<string, ProviderHoldingRecord> | null> {
    if (!credentials) return null;
    const confirmed = await this.holding.requireHeld({ accountId, provider, credentials, numbers });
    const at = new Date(this.clock());
    return new Map(
      numbers.map((n) => [
        n,
        { at, provider, providerAccountId: credentials.accountId, held: confirmed.get(n) === true },
      ]),
    );
  }

  /** The number's stored credentials in clear (null: none, or an id no provider issues). */
  credentialsOf(doc: Pick<VirtualNumberDocument, '_id' | 'credentials'>): ProviderCredentials | null {
    if (!doc.credentials || !PROVIDER_ACCOUNT_ID_RULE.pattern.test(doc.credentials.accountId)) return null;
    const { accountId, ...sealed } = doc.credentials;
    return { accountId, authToken: decryptSecret(this.config.PROVIDER_CREDENTIAL_KEYS, sealed, doc._id) };
  }

  private seal(number: string, credentials: ProviderCredentials) {
    return {
      accountId: credentials.accountId,
      ...encryptSecret(this.config.PROVIDER_CREDENTIAL_KEYS, credentials.authToken, number),
    };
  }

  private async require(scope: AccountScope, number: string): Promise<VirtualNumberDocument> {
    const doc = await this.numbers.get(scope.accountId, number);
    const visible =
      doc && doc.status === 'active' && (!scope.subaccountId || doc.subaccountId === scope.subaccountId);
    if (!visible) throw CodedError.notFound(`number ${number} not found`);
    return doc;
  }
}

/** The number changed between its read and the write (a move, a delete): nothing written; asked again, it is judged afresh. */
function changedMeanwhile(number: string): CodedError {
  return new CodedError(
    ErrorCodes.CONFLICT,
    `number ${number} changed while this request was made; try again`,
    {
      retryable: true,
    },
  );
}

export function toVirtualNumber(doc: VirtualNumberDocument): VirtualNumber {
  return {
    number: doc._id,
    country: doc.country,
    accountId: doc.accountId,
    subaccountId: doc.subaccountId,
    alias: doc.alias,
    region: doc.region,
    numberType: doc.numberType,
    carrier: doc.carrier,
    provider: doc.provider,
    hasProviderCredentials: doc.credentials !== null,
    fallbackAnswerUrl: doc.fallbackAnswerUrl ?? null,
    fallbackMessage: doc.fallbackMessage ?? null,
    ...capabilitiesOf(doc),
    proxyServiceSid: doc.proxyServiceSid ?? null,
    isReserved: doc.isReserved ?? false,
    status: doc.status,
    addedOn: doc.createdAt.toISOString(),
  };
}
