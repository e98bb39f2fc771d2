import { useEffect, useState } from 'preact/hooks';
import type { ConsoleSession } from '../logic/console-session.types';
import { type ApiClient, errorText } from './api-client';
import { ConsoleShell } from './console-shell';
import { type SignInNotice, SignInForm } from './sign-in-form';

type ConsoleState =
  | { phase: 'checking' }
  | { phase: 'signed-out'; notice: SignInNotice | null }
  | { phase: 'signed-in'; session: ConsoleSession };

const SESSION_ENDED: SignInNotice = { text: 'Your session ended; sign in again.', urgency: 'alert' };
const SIGNED_OUT: SignInNotice = { text: 'You are signed out.', urgency: 'status' };

/** The whole console: asks the server whether a session exists, then shows sign-in or the signed-in shell. */
export function ConsoleApp({ client }: { client: ApiClient }) {
  const [state, setState] = useState<ConsoleState>({ phase: 'checking' });

  useEffect(() => {
    client.onSessionEnded(() => setState({ phase: 'signed-out', notice: SESSION_ENDED }));
    const controller = new AbortController();
    client.currentSession(controller.signal).then(
      (session) => {
        if (session) {
          client.startSession(session);
          setState({ phase: 'signed-in', session });
        } else {
          setState({ phase: 'signed-out', notice: null });
        }
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setState({
          phase: 'signed-out',
          notice: { text: `Could not check for an existing session: ${errorText(error)}`, urgency: 'alert' },
        });
      },
    );
    return () => controller.abort();
  }, [client]);

  useEffect(() => {
    if (state.phase !== 'signed-in') document.title = 'Sign in — Maskline console';
  }, [state.phase]);

  switch (state.phase) {
    case 'checking':
      return (
        <main class="boot" id="main" aria-busy="true">
          <p>Checking your session…</p>
        </main>
      );
    case 'signed-out':
      return (
        <SignInForm
          client={client}
          notice={state.notice}
          onSignedIn={(session) => {
            client.startSession(session);
            setState({ phase: 'signed-in', session });
          }}
        />
      );
    case 'signed-in':
      return (
        <ConsoleShell
          client={client}
          session={state.session}
          onSignedOut={() => {
            client.clearSession();
            setState({ phase: 'signed-out', notice: SIGNED_OUT });
          }}
        />
      );
  }
}
