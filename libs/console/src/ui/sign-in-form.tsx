import { useEffect, useRef, useState } from 'preact/hooks';
import { consoleEndpoints } from '../logic/console-endpoints';
import type { ConsoleSession } from '../logic/console-session.types';
import { type ApiClient, errorText } from './api-client';

export interface SignInNotice {
  text: string;
  /** 'alert' interrupts (the session ended); 'status' is a quiet confirmation (signed out). */
  urgency: 'alert' | 'status';
}

type SignInKind = 'account' | 'operator';

/** Sign in with an account's Auth ID and Auth Token, or with the operator key. Nothing is stored in the browser. */
export function SignInForm({
  client,
  notice,
  onSignedIn,
}: {
  client: ApiClient;
  notice: SignInNotice | null;
  onSignedIn: (session: ConsoleSession) => void;
}) {
  const [kind, setKind] = useState<SignInKind>('account');
  const [authId, setAuthId] = useState('');
  const [authToken, setAuthToken] = useState('');
  const [operatorKey, setOperatorKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const firstField = useRef<HTMLInputElement>(null);

  // Focus the first field once, on arrival; not when the kind changes, or arrow keys could not move between
  // the radio buttons.
  useEffect(() => {
    firstField.current?.focus();
  }, []);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (busy) return;
    setError(null);
    if (kind === 'account' && (authId.trim() === '' || authToken === '')) {
      setError('Enter the Auth ID and the Auth Token of the account.');
      return;
    }
    if (kind === 'operator' && operatorKey === '') {
      setError('Enter the operator key.');
      return;
    }
    setBusy(true);
    try {
      const body =
        kind === 'account'
          ? { auth_id: authId.trim(), auth_token: authToken }
          : { operator_key: operatorKey };
      const session = await client.request<ConsoleSession>('POST', consoleEndpoints.consoleSession, {
        body,
        unauthorizedIsAnswer: true,
      });
      setAuthToken('');
      setOperatorKey('');
      onSignedIn(session);
    } catch (caught) {
      setError(errorText(caught));
      setBusy(false);
    }
  };

  return (
    <main class="sign-in" id="main">
      <div class="sign-in-panel">
        <p class="brand brand-large">Maskline console</p>
        <h1 class="page-heading">Sign in</h1>
        {notice ? (
          <p class={`notice notice-${notice.urgency}`} role={notice.urgency}>
            {notice.text}
          </p>
        ) : null}
        <form onSubmit={submit} noValidate>
          <fieldset class="sign-in-kind">
            <legend>Sign in as</legend>
            <label class="choice">
              <input
                type="radio"
                name="sign-in-kind"
                value="account"
                checked={kind === 'account'}
                onChange={() => setKind('account')}
              />
              Account
            </label>
            <label class="choice">
              <input
                type="radio"
                name="sign-in-kind"
                value="operator"
                checked={kind === 'operator'}
                onChange={() => setKind('operator')}
              />
              Operator
            </label>
          </fieldset>
          {kind === 'account' ? (
            <>
              <div class="field">
                <label for="sign-in-auth-id">Auth ID</label>
                <input
                  id="sign-in-auth-id"
                  ref={firstField}
                  type="text"
                  autocomplete="username"
                  autocapitalize="off"
                  spellcheck={false}
                  value={authId}
                  onInput={(e) => setAuthId(e.currentTarget.value)}
                />
              </div>
              <div class="field">
                <label for="sign-in-auth-token">Auth Token</label>
                <input
                  id="sign-in-auth-token"
                  type="password"
                  autocomplete="current-password"
                  value={authToken}
                  onInput={(e) => setAuthToken(e.currentTarget.value)}
                />
              </div>
            </>
          ) : (
            <div class="field">
              <label for="sign-in-operator-key">Operator key</label>
              <input
                id="sign-in-operator-key"
                ref={firstField}
                type="password"
                autocomplete="current-password"
                value={operatorKey}
                onInput={(e) => setOperatorKey(e.currentTarget.value)}
              />
            </div>
          )}
          {error ? (
            <p class="alert alert-error" role="alert">
              {error}
            </p>
          ) : null}
          <button type="submit" class="button-primary" disabled={busy}>
            Sign in
          </button>
        </form>
      </div>
    </main>
  );
}
