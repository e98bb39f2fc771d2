import type { ConsoleSession } from '../logic/console-session.types';
import { ApiClient, ApiError, SessionEndedError } from './api-client';

const SESSION: ConsoleSession = {
  kind: 'account',
  auth_id: 'MA123',
  subaccount: false,
  csrf_token: 'csrf-1',
  idle_timeout_seconds: 60,
};

const reply = (status: number, body?: unknown): Response =>
  new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });

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
});
