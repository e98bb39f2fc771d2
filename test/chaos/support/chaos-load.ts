import { randomBytes, randomUUID } from 'node:crypto';
import { TelephonySimulator, type Provider } from '@maskline/telephony-simulator';
import type { CallbackReceiver } from '../../e2e/support/callback-receiver';
import type { ChaosSystem } from './chaos-system';

type Json = Record<string, unknown>;

export interface LoadOptions {
  /** Clients at once. */
  concurrency: number;
  /** Of the sessions created, the share that gets a call, and the share that gets an update. */
  callShare: number;
  updateShare: number;
  /** Session lifetimes, seconds (they expire during the run). */
  expirySeconds: [number, number];
  /** Phones the parties are drawn from: small enough that parties meet again on numbers. */
  parties: number;
  numbersPerProvider: number;
}

export interface ApiResult {
  phase: string;
  kind: 'create' | 'update' | 'call';
  status: number;
  at: number;
  ms: number;
  /** A server error's body, shortened. */
  detail?: string;
  /** A create asked again under its Idempotency-Key (answered from what the first attempt did, maybe). */
  retry?: boolean;
}

export interface CallResult {
  phase: string;
  /** When it started and how long it took: which fault it was in flight during. */
  at: number;
  ms: number;
  provider: Provider;
  pin: boolean;
  /** Every webhook answered 200 with a <Response> document. */
  valid: boolean;
  /** The caller heard "temporarily unavailable". */
  unavailable: boolean;
  connected: boolean;
  error?: string;
}

export interface CreatedSession {
  id: string;
  provider: Provider;
  virtualNumber: string;
  first: string;
  second: string;
  pin?: string;
  phase: string;
}

const UNAVAILABLE = 'We cannot connect your call right now';
const PROVIDERS: Provider[] = ['plivo', 'twilio'];

/**
 * Steady mixed load through the balancer: session creates (with an Idempotency-Key, retried on a
 * 5xx or a dropped connection as a careful client does), calls with PIN entry in both dialects,
 * updates, and expiries (every session is short-lived), with callbacks to a local receiver.
 * Every API answer and every call is written down with the phase it happened in.
 */
export class ChaosLoad {
  phase = 'baseline';
  readonly api: ApiResult[] = [];
  readonly calls: CallResult[] = [];
  readonly sessions: CreatedSession[] = [];
  /** Creates that ended without a session after every retry (status of the last try). */
  readonly failedCreates: Array<{ phase: string; status: number; at: number; ms: number }> = [];
  private running = false;
  private workers: Promise<void>[] = [];
  private auth = '';
  private apiRoot = '';
  private readonly providerAccounts = {
    plivo: {
      accountId: `MA${randomBytes(9).toString('hex').toUpperCase()}`,
      authToken: randomBytes(20).toString('hex'),
    },
    twilio: { accountId: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex') },
  };
  private readonly providerOf = new Map<string, Provider>();
  private readonly phones: string[];
  private spare = 0;
  inFlightCreates = 0;

  constructor(
    private readonly system: ChaosSystem,
    private readonly receiver: CallbackReceiver,
    private readonly options: LoadOptions,
  ) {
    this.phones = Array.from(
      { length: options.parties },
      (_, i) => `+1628555${String(1000 + i).padStart(4, '0')}`,
    );
  }

  async setup(): Promise<void> {
    const res = await fetch(`${this.system.url}/admin/v1/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-operator-key': this.system.operatorKey },
      body: JSON.stringify({ name: 'chaos' }),
    });
    const account = (await res.json()) as { auth_id: string; auth_token: string };
    this.auth = `Basic ${Buffer.from(`${account.auth_id}:${account.auth_token}`).toString('base64')}`;
    this.apiRoot = `${this.system.url}/v1/Account/${account.auth_id}`;
    for (const [p, provider] of PROVIDERS.entries()) {
      const numbers = Array.from(
        { length: this.options.numbersPerProvider },
        (_, i) => `+1415${5 + p}55${String(i).padStart(4, '0')}`,
      );
      const added = await this.request('POST', '/Number/', {
        numbers: numbers.join(','),
        provider,
        provider_auth_id: this.providerAccounts[provider].accountId,
        provider_auth_token: this.providerAccounts[provider].authToken,
      });
      if (added.status !== 202) throw new Error(`adding ${provider} numbers: HTTP ${added.status}`);
      for (const n of numbers) this.providerOf.set(n, provider);
    }
  }

  start(): void {
    this.running = true;
    this.workers = Array.from({ length: this.options.concurrency }, () => this.worker());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  private async worker(): Promise<void> {
    while (this.running) {
      const session = await this.create();
      if (!session) continue;
      if (Math.random() < this.options.callShare) await this.call(session);
      if (Math.random() < this.options.updateShare) await this.update(session);
    }
  }

  private async request(method: string, path: string, body?: Json, headers: Record<string, string> = {}) {
    return fetch(`${this.apiRoot}${path}`, {
      method,
      headers: { authorization: this.auth, 'content-type': 'application/json', ...headers },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(15_000),
    });
  }

  private pickParties(): [string, string] {
    const a = this.phones[Math.floor(Math.random() * this.phones.length)]!;
    let b = a;
    while (b === a) b = this.phones[Math.floor(Math.random() * this.phones.length)]!;
    return [a, b];
  }

  private async create(): Promise<CreatedSession | undefined> {
    const [first, second] = this.pickParties();
    const pin = Math.random() < 0.5;
    const [lo, hi] = this.options.expirySeconds;
    const body: Json = {
      first_party: first,
      second_party: second,
      session_expiry: lo + Math.floor(Math.random() * (hi - lo + 1)),
      callback_url: `${this.receiver.baseUrl}/cb`,
      ...(pin ? { is_pin_authentication_required: true, generate_pin: true, generate_pin_length: 6 } : {}),
    };
    const key = randomUUID();
    let last = 0;
    const began = Date.now();
    this.inFlightCreates += 1;
    try {
      for (let attempt = 0; attempt < 6; attempt++) {
        const phase = this.phase;
        const t0 = Date.now();
        let status = 0;
        let json: Json = {};
        try {
          const res = await this.request('POST', '/Masking/Session/', body, { 'Idempotency-Key': key });
          status = res.status;
          json = (await res.json().catch(() => ({}))) as Json;
        } catch {
          status = 0; // no answer: a dropped connection or a timeout
        }
        this.api.push({
          phase,
          kind: 'create',
          status,
          at: t0,
          ms: Date.now() - t0,
          detail: status >= 500 ? JSON.stringify(json).slice(0, 160) : undefined,
          retry: attempt > 0,
        });
        last = status;
        if (status === 201) {
          const virtualNumber = `+${String(json.virtual_number).replace(/^\+/, '')}`;
          const s: CreatedSession = {
            id: String(json.session_uuid),
            provider: this.providerOf.get(virtualNumber) ?? 'plivo',
            virtualNumber,
            first,
            second,
            pin: pin ? String((json.session as Json).first_party_pin) : undefined,
            phase,
          };
          this.sessions.push(s);
          return s;
        }
        // Given up on a 4xx, except "still being processed; retry shortly" (409): the key's first
        // attempt may be on a replica that died, and the retry is answered once it is judged dead.
        const retryShortly = status === 409 && JSON.stringify(json).includes('retry shortly');
        if (status !== 0 && status < 500 && !retryShortly) break;
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
      }
    } finally {
      this.inFlightCreates -= 1;
    }
    this.failedCreates.push({ phase: this.phase, status: last, at: began, ms: Date.now() - began });
    return undefined;
  }

  private async call(s: CreatedSession): Promise<void> {
    const phase = this.phase;
    const sim = new TelephonySimulator(this.system.url, s.provider, this.providerAccounts[s.provider]);
    const from = s.pin ? `+1628777${String(this.spare++ % 10000).padStart(4, '0')}` : s.first;
    const t0 = Date.now();
    try {
      const report = await sim.call({
        from,
        to: s.virtualNumber,
        digits: s.pin ? [s.pin] : [],
        callee: { answers: true, talkSeconds: 5 },
      });
      const valid = report.requests.every((r) => r.status === 200) && report.refused === undefined;
      this.api.push({ phase, kind: 'call', status: report.refused ?? 200, at: t0, ms: Date.now() - t0 });
      this.calls.push({
        phase,
        at: t0,
        ms: Date.now() - t0,
        provider: s.provider,
        pin: Boolean(s.pin),
        valid,
        unavailable: report.heard.some((h) => h.includes(UNAVAILABLE)),
        connected: report.dials.some((d) => d.number === s.second),
        error: valid
          ? undefined
          : report.requests
              .map((r) => `${new URL(r.url).pathname} ${r.status} ${r.xml.slice(0, 80)}`)
              .join('; '),
      });
    } catch (err) {
      this.calls.push({
        phase,
        at: t0,
        ms: Date.now() - t0,
        provider: s.provider,
        pin: Boolean(s.pin),
        valid: false,
        unavailable: false,
        connected: false,
        error: (err as Error).message.slice(0, 200),
      });
    }
  }

  private async update(s: CreatedSession): Promise<void> {
    const phase = this.phase;
    const t0 = Date.now();
    let status = 0;
    let detail = '';
    try {
      const res = await this.request('POST', `/Masking/Session/${s.id}/`, {
        session_expiry: this.options.expirySeconds[0],
      });
      status = res.status;
      detail = (await res.text()).slice(0, 160);
    } catch {
      status = 0;
    }
    this.api.push({
      phase,
      kind: 'update',
      status,
      at: t0,
      ms: Date.now() - t0,
      detail: status >= 500 ? detail : undefined,
    });
  }
}
