import pino from 'pino';
import {
  isJetStreamUnavailable,
  isNatsRefusal,
  retryWhileJetStreamUnavailable,
  retryWhileNoResponders,
} from './jetstream-retry';

const apiError = (code: number, err_code: number, description: string) =>
  Object.assign(new Error(description), { api_error: { code, err_code, description } });

describe('JetStream setup while the cluster is not ready', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it.each([
    ['no responders', Object.assign(new Error('503'), { code: '503' })],
    ['a timeout', Object.assign(new Error('TIMEOUT'), { code: 'TIMEOUT' })],
    ['JetStream temporarily unavailable', apiError(503, 10008, 'JetStream system temporarily unavailable')],
    ['insufficient resources', apiError(503, 10023, 'insufficient resources')],
    ['no suitable peers for placement', apiError(400, 10005, 'no suitable peers for placement')],
  ])('counts %s as unavailable for now', (_, err) => {
    expect(isJetStreamUnavailable(err)).toBe(true);
  });

  it.each([
    ['a bad stream configuration', apiError(400, 10052, 'stream configuration invalid')],
    ['a subject in another stream', apiError(400, 10065, 'subjects overlap with an existing stream')],
    // A bound the nodes cannot reserve (NATS_STORAGE_BYTES larger than their storage): it does not pass.
    [
      'a cluster without the storage asked for',
      apiError(400, 10005, 'no suitable peers for placement, insufficient storage'),
    ],
    [
      'a server without the storage asked for',
      apiError(500, 10047, 'insufficient storage resources available'),
    ],
  ])('does not count %s: the boot stops with it', (_, err) => {
    expect(isJetStreamUnavailable(err)).toBe(false);
  });

  it('asks again until the cluster can place a replicated stream, then goes on', async () => {
    let asked = 0;
    const created = retryWhileJetStreamUnavailable('stream EVENTS', pino({ level: 'silent' }), async () => {
      asked++;
      if (asked < 3) throw apiError(400, 10005, 'no suitable peers for placement');
      return 'created';
    });
    await jest.advanceTimersByTimeAsync(250 + 500);
    await expect(created).resolves.toBe('created');
    expect(asked).toBe(3);
  });

  it('gives up after its time with the error', async () => {
    const failed = retryWhileJetStreamUnavailable(
      'stream EVENTS',
      pino({ level: 'silent' }),
      async () => {
        throw apiError(400, 10005, 'no suitable peers for placement');
      },
      2_000,
    );
    const rejected = expect(failed).rejects.toThrow('no suitable peers');
    await jest.advanceTimersByTimeAsync(2_000);
    await rejected;
  });
});

describe('a read or write while nobody serves its stream (a leader being elected)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());
  const noResponders = () => Object.assign(new Error('503'), { code: '503' });

  it('is asked again through its whole window, every 400 ms at most, and goes on once someone answers', async () => {
    const asked: number[] = [];
    const start = Date.now();
    const done = retryWhileNoResponders(async () => {
      asked.push(Date.now() - start);
      if (Date.now() - start < 3_000) throw noResponders();
      return 'stored';
    }, 3_500);
    await jest.advanceTimersByTimeAsync(3_500);
    await expect(done).resolves.toBe('stored');
    const gaps = asked.slice(1).map((t, i) => t - asked[i]);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(400);
    expect(asked[asked.length - 1]).toBeLessThan(3_500);
  });

  it('makes its last try at the end of the window, then fails with the error', async () => {
    const asked: number[] = [];
    const start = Date.now();
    const failed = retryWhileNoResponders(async () => {
      asked.push(Date.now() - start);
      throw noResponders();
    }, 1_500);
    const rejected = expect(failed).rejects.toThrow('503');
    await jest.advanceTimersByTimeAsync(1_500);
    await rejected;
    expect(asked[asked.length - 1]).toBe(1_500);
  });

  it('is not asked again after a timeout: the request may have been carried out', async () => {
    let asked = 0;
    await expect(
      retryWhileNoResponders(async () => {
        asked++;
        throw Object.assign(new Error('TIMEOUT'), { code: 'TIMEOUT' });
      }, 1_500),
    ).rejects.toThrow('TIMEOUT');
    expect(asked).toBe(1);
  });

  it('is not asked again when JetStream answered with a refusal of its own (a full bucket: 503 with an API error)', async () => {
    let asked = 0;
    const full = Object.assign(new Error('maximum bytes exceeded'), {
      code: '503',
      api_error: { code: 503, err_code: 10077, description: 'maximum bytes exceeded' },
    });
    await expect(
      retryWhileNoResponders(async () => {
        asked++;
        throw full;
      }, 1_500),
    ).rejects.toThrow('maximum bytes exceeded');
    expect(asked).toBe(1);
  });

  it('is asked again while JetStream says it is temporarily unavailable (10008: no meta leader)', async () => {
    let asked = 0;
    const unavailable = Object.assign(new Error('JetStream system temporarily unavailable'), {
      code: '503',
      api_error: { code: 503, err_code: 10008 },
    });
    const read = retryWhileNoResponders(async () => {
      asked++;
      if (asked < 3) throw unavailable;
      return 'read';
    }, 1_500);
    await jest.advanceTimersByTimeAsync(1_500);
    await expect(read).resolves.toBe('read');
    expect(asked).toBe(3);
  });
});

describe('a refusal for good, as opposed to JetStream away for now', () => {
  it.each([
    [
      'a message larger than the server carries',
      Object.assign(new Error('MAX_PAYLOAD_EXCEEDED'), { code: 'MAX_PAYLOAD_EXCEEDED' }),
    ],
    ['a message larger than the stream takes', apiError(400, 10054, 'message size exceeds maximum allowed')],
    [
      'a header larger than the stream takes',
      apiError(400, 10097, 'header size exceeds maximum allowed of 64k'),
    ],
  ])('is %s', (_, err) => expect(isNatsRefusal(err)).toBe(true));

  it.each([
    ['nobody to store it (503)', Object.assign(new Error('503'), { code: '503' })],
    ['no answer in time', Object.assign(new Error('TIMEOUT'), { code: 'TIMEOUT' })],
    ['the connection lost', Object.assign(new Error('DISCONNECT'), { code: 'DISCONNECT' })],
    [
      'JetStream temporarily unavailable (10008)',
      apiError(503, 10008, 'JetStream system temporarily unavailable'),
    ],
    ['the store failing or closed under a leader change (10077)', apiError(503, 10077, 'store closed')],
    ['a new leader out of step (10063)', apiError(503, 10063, 'expected stream sequence does not match')],
    ['an account limit (10002)', apiError(400, 10002, 'account resources exceeded')],
    ['a wrong last sequence (10071)', apiError(400, 10071, 'wrong last sequence: 3')],
    ['an error it does not know', new Error('something else')],
    ['nothing at all', undefined],
  ])('is not %s', (_, err) => expect(isNatsRefusal(err)).toBe(false));
});
