import type { E2eSystem } from './e2e-system';

export interface TestAccount {
  authId: string;
  authToken: string;
  /** fetch() against `/v1/Account/{auth_id}` + path with this account's Basic credentials. */
  api(
    path: string,
    init?: {
      method?: string;
      body?: unknown;
      form?: Record<string, string>;
      headers?: Record<string, string>;
    },
  ): Promise<Response>;
}

export async function createAccount(system: E2eSystem, name = 'e2e'): Promise<TestAccount> {
  const res = await fetch(`${system.baseUrl}/admin/v1/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-operator-key': system.operatorKey },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201) throw new Error(`account creation failed: ${res.status}`);
  return accountFor(system, (await res.json()) as { auth_id: string; auth_token: string });
}

/** A subaccount of `parent`, made with Plivo's own API, acting with its own credentials. */
export async function createSubaccount(
  system: E2eSystem,
  parent: TestAccount,
  name = 'sub',
): Promise<TestAccount> {
  const res = await parent.api('/Subaccount/', { body: { name } });
  if (res.status !== 201) throw new Error(`subaccount creation failed: ${res.status}`);
  return accountFor(system, (await res.json()) as { auth_id: string; auth_token: string });
}

function accountFor(system: E2eSystem, body: { auth_id: string; auth_token: string }): TestAccount {
  const auth = `Basic ${Buffer.from(`${body.auth_id}:${body.auth_token}`).toString('base64')}`;
  return {
    authId: body.auth_id,
    authToken: body.auth_token,
    api: (path, init = {}) => {
      const headers: Record<string, string> = { ...init.headers, authorization: auth };
      let payload: string | undefined;
      if (init.form) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        payload = new URLSearchParams(init.form).toString();
      } else if (init.body !== undefined) {
        headers['content-type'] = 'application/json';
        payload = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
      }
      return fetch(`${system.baseUrl}/v1/Account/${body.auth_id}${path}`, {
        method: init.method ?? (payload === undefined ? 'GET' : 'POST'),
        headers,
        body: payload,
      });
    },
  };
}
