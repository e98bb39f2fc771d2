import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ErrorCodes } from './errors/error-codes';
import { DEFAULT_SESSION_SETTINGS } from './sessions/session-fields';
import { CallProgressed, SessionUpdated } from './sessions/sessions.contract';
import { consumerSchemaOf, eventFromWire, eventToWire } from './event-wire';

const sessionId = randomUUID();
const updated = {
  accountId: 'MAAAAAAAAAAAAAAAAAA1',
  subaccountId: null,
  sessionId,
  virtualNumber: '+14155550100',
  firstParty: '+14155551001',
  secondParty: '+14155551002',
  at: '2026-11-28T10:00:00.000Z',
  routing: {
    sessionId,
    accountId: 'MAAAAAAAAAAAAAAAAAA1',
    subaccountId: null,
    virtualNumber: '+14155550100',
    firstParty: '+14155551001',
    secondParty: '+14155551002',
    status: 'active' as const,
    expiresAt: '2026-11-28T11:00:00.000Z',
    createdAt: '2026-11-28T09:00:00.000Z',
    modifiedAt: '2026-11-28T10:00:00.000Z',
    settings: DEFAULT_SESSION_SETTINGS,
  },
};

/** How release 0.1.0 read the event: the contract without the added fields, strictly. */
const previousRelease = (schema: z.ZodTypeAny, added: readonly string[]) =>
  (schema as z.AnyZodObject).omit(Object.fromEntries(added.map((k) => [k, true]))).strict();

describe('event wire: fields added since consumers read strictly', () => {
  it('keeps the body what the previous release reads, and puts the added fields back for this one', () => {
    const { body, extension } = eventToWire(SessionUpdated, updated);
    expect(body).not.toHaveProperty('routing');
    expect(previousRelease(SessionUpdated.payload, SessionUpdated.inHeader).safeParse(body).success).toBe(
      true,
    );
    expect(extension).toMatch(/^[A-Za-z0-9_-]+$/);
    const back = consumerSchemaOf(SessionUpdated).parse(eventFromWire(body, extension));
    expect(back).toEqual(updated);
  });

  it('sends no header when no added field is set, and reads an event from the previous release', () => {
    const { routing: _routing, ...old } = updated;
    const wire = eventToWire(SessionUpdated, old);
    expect(wire.extension).toBeUndefined();
    expect(consumerSchemaOf(SessionUpdated).parse(eventFromWire(wire.body, undefined))).toEqual(old);
  });

  it('does the same for the virtual number on call steps', () => {
    const step = {
      accountId: 'MAAAAAAAAAAAAAAAAAA1',
      sessionId,
      callId: 'c1',
      virtualNumber: '+14155550100',
      step: 'first-party-answered',
      at: updated.at,
    };
    const { body, extension } = eventToWire(CallProgressed, step);
    expect(previousRelease(CallProgressed.payload, CallProgressed.inHeader).safeParse(body).success).toBe(
      true,
    );
    expect(consumerSchemaOf(CallProgressed).parse(eventFromWire(body, extension))).toMatchObject(step);
  });

  it('reads fields a newer publisher adds at any depth, and drops them', () => {
    const newer = {
      ...updated,
      addedLater: 1,
      routing: {
        ...updated.routing,
        addedLater: 2,
        settings: { ...updated.routing.settings, aNewSetting: true },
      },
    };
    const read = consumerSchemaOf(SessionUpdated).parse(newer) as typeof updated;
    expect(read).toEqual(updated);
  });

  it('refuses a header that is not an object of fields, with a code', () => {
    for (const junk of [
      '%%%',
      Buffer.from('[1]').toString('base64url'),
      Buffer.from('nope').toString('base64url'),
    ]) {
      expect(() => eventFromWire({ a: 1 }, junk)).toThrow(
        expect.objectContaining({ code: ErrorCodes.EVENT_INVALID }),
      );
    }
  });

  it('lets the body win over a header that repeats one of its fields', () => {
    const both = eventFromWire(
      { virtualNumber: '+1' },
      Buffer.from(JSON.stringify({ virtualNumber: '+2' })).toString('base64url'),
    );
    expect(both).toEqual({ virtualNumber: '+1' });
  });
});
