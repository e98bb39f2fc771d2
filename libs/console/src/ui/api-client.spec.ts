import type { ConsoleSession } from '../logic/console-session.types';
import { ApiClient, ApiError, SessionEndedError } from './api-client';

const SESSION: ConsoleSession = {
  kind: 'account',
  auth_id: 'MA123',
  subaccount: false,
  csrf_token: 'csrf-1',
  idle_timeout_seconds: 60,
};

const reply = (status: number, body?: unknown, headers: Record<string, string> = {}): Response =>
  new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
const tooManyReads = () =>
  reply(429, { api_id: 'a', error: 'too many reads of history at once' }, { 'Retry-After': '2' });

describe('ApiClient', () => {
  const fetchMock = jest.fn<Promise<Response>, [string, RequestInit]>();
  const realFetch = globalThis.fetch;

  beforeEach(() => {
    fetchMock.mockReset();
    globalThis.fetch = fetchMock as unknown as typeof fetch;
  });

  afterEach(() => {
    globalThis.fetch = realFetch;
    jest.useRealTimers();
  });

  it('sends the cookie, the CSRF token and JSON headers', async () => {
    const client = new ApiClient();
    client.startSession(SESSION);
    fetchMock.mockResolvedValueOnce(reply(202, { api_id: 'a', message: 'ok', replayed: true }));

    await client.request('POST', '/v1/x', { body: { event_id: 'evt-1' } });

    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe('/v1/x');
    expect(init).toMatchObject({ method: 'POST', credentials: 'same-origin', body: '{"event_id":"evt-1"}' });
    expect(init.headers).toEqual({
      Accept: 'application/json',
      'X-CSRF-Token': 'csrf-1',
      'Content-Type': 'application/json',
    });
    client.clearSession();
  });

  it("turns an error reply into the API's own error text", async () => {
    const client = new ApiClient();
    fetchMock.mockResolvedValueOnce(
      reply(400, { api_id: 'a', error: 'status must be active, expired or all' }),
    );

    await expect(client.get('/v1/x')).rejects.toEqual(
      new ApiError(400, 'status must be active, expired or all'),
    );
  });

  it('ends the session on a 401 and forgets the CSRF token', async () => {
    const client = new ApiClient();
    const ended = jest.fn();
    client.onSessionEnded(ended);
    client.startSession(SESSION);
    fetchMock.mockResolvedValueOnce(reply(401, { api_id: 'a', error: 'session expired' }));
    fetchMock.mockResolvedValueOnce(reply(204));

    await expect(client.get('/v1/x')).rejects.toBeInstanceOf(SessionEndedError);
    expect(ended).toHaveBeenCalledTimes(1);

    await client.request('DELETE', '/console/api/session', { unauthorizedIsAnswer: true });
    expect(fetchMock.mock.calls[1][1].headers).not.toHaveProperty('X-CSRF-Token');
  });

  it('treats a 401 as an answer where asked (sign-in, session check) without ending anything', async () => {
    const client = new ApiClient();
    const ended = jest.fn();
    client.onSessionEnded(ended);
    fetchMock.mockResolvedValueOnce(reply(401, { api_id: 'a', error: 'not signed in' }));

    await expect(client.currentSession()).resolves.toBeNull();
    expect(ended).not.toHaveBeenCalled();
  });

  it('gives up on a session left idle past the timeout, and not before', async () => {
    jest.useFakeTimers();
    const client = new ApiClient();
    const ended = jest.fn();
    client.onSessionEnded(ended);
    client.startSession(SESSION);

    jest.advanceTimersByTime(60_000);
    expect(ended).not.toHaveBeenCalled();
    jest.advanceTimersByTime(5_000);
    expect(ended).toHaveBeenCalledTimes(1);
  });

  it('reports an unreachable server in words', async () => {
    const client = new ApiClient();
    fetchMock.mockRejectedValueOnce(new TypeError('fetch failed'));

    await expect(client.get('/v1/x')).rejects.toMatchObject({
      status: 0,
      message: expect.stringMatching(/reach/),
    });
  });

  it('asks again for a read refused for now, after the Retry-After wait, and shows the answer', async () => {
    jest.useFakeTimers();
    const client = new ApiClient(() => 0);
    fetchMock.mockResolvedValueOnce(tooManyReads());
    fetchMock.mockResolvedValueOnce(reply(200, { api_id: 'a', sessions: [] }));

    const read = client.get('/v1/x');
    await jest.advanceTimersByTimeAsync(1_999);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    await expect(read).resolves.toEqual({ api_id: 'a', sessions: [] });
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it('shows the refusal once its retries are spent, and never asks again for a write', async () => {
    jest.useFakeTimers();
    const client = new ApiClient(() => 0);
    fetchMock.mockImplementation(async () => tooManyReads());

    const read = client.get('/v1/x');
    const refused = expect(read).rejects.toMatchObject({ status: 429, retryAfter: '2' });
    await jest.advanceTimersByTimeAsync(4_000);
    await refused;
    expect(fetchMock).toHaveBeenCalledTimes(3);

    fetchMock.mockClear();
    await expect(client.request('POST', '/v1/x', { body: {} })).rejects.toMatchObject({ status: 429 });
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it('spreads the retries of reads refused together: up to a quarter of the wait more', async () => {
    jest.useFakeTimers();
    const client = new ApiClient(() => 1);
    fetchMock.mockResolvedValueOnce(tooManyReads());
    fetchMock.mockResolvedValueOnce(reply(200, { api_id: 'a' }));

    const read = client.get('/v1/x');
    await jest.advanceTimersByTimeAsync(2_000);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(500);
    await expect(read).resolves.toEqual({ api_id: 'a' });
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it('stops waiting to ask again when the page is left (aborted)', async () => {
    jest.useFakeTimers();
    const client = new ApiClient(() => 0);
    fetchMock.mockResolvedValueOnce(tooManyReads());
    const controller = new AbortController();

    const read = client.get('/v1/x', controller.signal);
    const aborted = expect(read).rejects.toMatchObject({ name: 'AbortError' });
    await jest.advanceTimersByTimeAsync(500);
    controller.abort();
    await aborted;
    await jest.advanceTimersByTimeAsync(5_000);
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });
});
