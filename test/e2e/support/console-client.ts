/** A browser's console session, driven with fetch: the cookie it was given and its CSRF token. */
export interface ConsoleClient {
  kind: 'account' | 'operator';
  cookie: string;
  csrf: string;
  get(path: string): Promise<Response>;
  send(path: string, method: string, body?: unknown): Promise<Response>;
}

export async function consoleSignIn(
  baseUrl: string,
  credentials: { auth_id: string; auth_token: string } | { operator_key: string },
): Promise<ConsoleClient> {
  const res = await fetch(`${baseUrl}/console/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(credentials),
  });
  if (res.status !== 200) throw new Error(`console sign-in failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { kind: 'account' | 'operator'; csrf_token: string };
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
  const send = (path: string, method: string, payload?: unknown) =>
    fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        cookie,
        'x-csrf-token': body.csrf_token,
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
  return { kind: body.kind, cookie, csrf: body.csrf_token, get: (p) => send(p, 'GET'), send };
}
