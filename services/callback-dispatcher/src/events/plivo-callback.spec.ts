import {
  CallProgressed,
  FirstPartyCallFailed,
  PinAuthenticationStatus,
  SessionCreated,
  SessionExpired,
} from '@maskline/contracts';
import { toPlivoCallback } from './plivo-callback';

const ACCOUNT = 'MAAAAAAAAAAAAAAAAAA1';
const SESSION = '0b7c8a5e-2f7e-4a4b-9a3a-8c4f1e2d3c4b';
const AT = '2026-11-24T21:30:05.123Z';

/** A session's end, as session-service announces it. */
const ENDED = {
  accountId: ACCOUNT,
  subaccountId: null,
  sessionId: SESSION,
  virtualNumber: '+14155550100',
  firstParty: '+14155551001',
  secondParty: '+14155551002',
  reason: 'timeout' as const,
  at: AT,
};

describe('toPlivoCallback', () => {
  it('turns an expiry into SessionTimeout with Plivo’s attributes', () => {
    const cb = toPlivoCallback({ subject: SessionExpired.subject, payload: ENDED });
    expect(cb?.params).toEqual({
      EventName: 'SessionTimeout',
      EventTimestamp: '2026-11-24 21:30:05 +0000 UTC',
      SessionUUID: SESSION,
      From: '14155551001',
      To: '14155551002',
      VirtualNumber: '14155550100',
    });
  });

  it('turns a call to the first party given up into SessionFirstPartyCallFailed, from the virtual number, with why', () => {
    const payload = {
      accountId: ACCOUNT,
      sessionId: SESSION,
      virtualNumber: '+14155550100',
      firstParty: '+14155551001',
      reason: 'no-credentials' as const,
      at: AT,
    };
    const cb = toPlivoCallback({ subject: FirstPartyCallFailed.subject, payload });
    expect(cb).toEqual({
      accountId: ACCOUNT,
      sessionId: SESSION,
      target: 'session',
      eventName: 'SessionFirstPartyCallFailed',
      params: {
        EventName: 'SessionFirstPartyCallFailed',
        EventTimestamp: '2026-11-24 21:30:05 +0000 UTC',
        SessionUUID: SESSION,
        From: '14155550100',
        To: '14155551001',
        VirtualNumber: '14155550100',
        FailureReason: 'no-credentials',
      },
    });
  });

  it('tells nobody of the end of a session whose creation failed (its owner never had its id)', () => {
    expect(
      toPlivoCallback({ subject: SessionExpired.subject, payload: { ...ENDED, failedCreation: true } }),
    ).toBeUndefined();
    expect(toPlivoCallback({ subject: SessionExpired.subject, payload: ENDED })?.eventName).toBe(
      'SessionTimeout',
    );
  });

  it('turns a PIN outcome into SessionPinAuthenticationStatus, and skips one that names no session', () => {
    const payload = {
      accountId: ACCOUNT,
      sessionId: SESSION,
      virtualNumber: '+14155550100',
      callerNumber: '+14155559999',
      callId: 'call-1',
      status: 'failed' as const,
      retryCounter: 2,
      at: AT,
    };
    expect(toPlivoCallback({ subject: PinAuthenticationStatus.subject, payload })?.params).toMatchObject({
      EventName: 'SessionPinAuthenticationStatus',
      PinAuthenticationStatus: 'failed',
      PinRetryCounter: '2',
      From: '14155559999',
    });
    expect(
      toPlivoCallback({ subject: PinAuthenticationStatus.subject, payload: { ...payload, sessionId: null } }),
    ).toBeUndefined();
  });

  it('names call steps as Plivo does and adds durations on hangup', () => {
    const cb = toPlivoCallback({
      subject: CallProgressed.subject,
      payload: CallProgressed.payload.parse({
        accountId: ACCOUNT,
        sessionId: SESSION,
        virtualNumber: '+14155550100',
        callId: 'c1',
        step: 'parties-hangup',
        at: AT,
        durationSeconds: 48,
        billedDurationSeconds: 60,
        from: '+14155551001',
        to: '+14155551002',
      }),
    });
    expect(cb?.params).toMatchObject({
      EventName: 'SessionPartiesHangup',
      Duration: '48',
      BilledDuration: '60',
      VirtualNumber: '14155550100',
    });
  });

  it('has nothing to say about events without a Plivo callback', () => {
    expect(toPlivoCallback({ subject: SessionCreated.subject, payload: {} })).toBeUndefined();
  });
});
