import type { TargetedMouseEvent } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { consoleEndpoints } from '../logic/console-endpoints';
import {
  type ConsoleRoute,
  currentState,
  navigationFor,
  resolveRoute,
  routeTitle,
} from '../logic/console-route';
import type { ConsoleSession } from '../logic/console-session.types';
import { EMPTY_SESSION_SEARCH, type SessionSearchForm } from '../logic/session-search-query';
import { type ApiClient, ApiError, errorText, SessionEndedError } from './api-client';
import { AccountsView } from './accounts-view';
import { CallbacksView } from './callbacks-view';
import { ConsoleContext } from './console-context';
import { NotFoundView } from './not-found-view';
import { PinSecurityView } from './pin-security-view';
import { PoolView } from './pool-view';
import { SessionDetailView } from './session-detail-view';
import { SessionsView } from './sessions-view';
import { SystemView } from './system-view';
import { useHashLocation } from './use-hash-location';

/** The search the Sessions page shows; kept here so coming back from a session finds it unchanged. */
export interface SessionsSearchState {
  form: SessionSearchForm;
  offset: number;
}

/** Header, main navigation and the current page for a signed-in account or operator. */
export function ConsoleShell({
  client,
  session,
  onSignedOut,
}: {
  client: ApiClient;
  session: ConsoleSession;
  onSignedOut: () => void;
}) {
  const hash = useHashLocation();
  const resolution = resolveRoute(hash, session.kind);
  const [sessionsSearch, setSessionsSearch] = useState<SessionsSearchState>({
    form: EMPTY_SESSION_SEARCH,
    offset: 0,
  });
  const [signOutError, setSignOutError] = useState<string | null>(null);
  const [signingOut, setSigningOut] = useState(false);
  const main = useRef<HTMLElement>(null);
  const context = useMemo(() => ({ client, session }), [client, session]);

  useEffect(() => {
    if (resolution.kind === 'redirect') window.location.replace(resolution.hash);
  }, [resolution.kind === 'redirect' ? resolution.hash : null]);

  const route = resolution.kind === 'show' ? resolution.route : null;
  const routeKey = route ? JSON.stringify(route) : '';
  const firstRoute = useRef(true);
  useEffect(() => {
    if (!route) return;
    document.title = `${routeTitle(route)} — Maskline console`;
    // After the first page, a route change moves focus to the new page's heading, as a page load would.
    if (firstRoute.current) {
      firstRoute.current = false;
      return;
    }
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [routeKey]);

  const signOut = async (): Promise<void> => {
    setSigningOut(true);
    setSignOutError(null);
    try {
      await client.request('DELETE', consoleEndpoints.consoleSession, { unauthorizedIsAnswer: true });
      onSignedOut();
    } catch (error) {
      if ((error instanceof ApiError && error.status === 401) || error instanceof SessionEndedError) {
        onSignedOut();
        return;
      }
      setSignOutError(`Could not sign out: ${errorText(error)}`);
      setSigningOut(false);
    }
  };

  const skipToMain = (event: TargetedMouseEvent<HTMLAnchorElement>): void => {
    event.preventDefault();
    main.current?.focus();
  };

  const who = session.kind === 'operator' ? 'Operator' : (session.auth_id ?? 'Account');

  return (
    <ConsoleContext.Provider value={context}>
      <div class="app">
        <a class="skip-link" href="#main" onClick={skipToMain}>
          Skip to content
        </a>
        <header class="app-header">
          <p class="brand">Maskline console</p>
          <div class="who">
            <span>
              Signed in as <strong class="who-name">{who}</strong>
              {session.kind === 'account' && session.subaccount ? ' (subaccount)' : ''}
            </span>
            <button type="button" class="button-secondary" onClick={signOut} disabled={signingOut}>
              Sign out
            </button>
          </div>
        </header>
        <nav class="main-nav" aria-label="Main">
          <ul>
            {navigationFor(session.kind, { subaccount: session.subaccount }).map((link) => (
              <li key={link.href}>
                <a href={link.href} aria-current={route ? currentState(link, route) : undefined}>
                  {link.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        {signOutError ? (
          <div class="alert alert-error app-alert" role="alert">
            <p>{signOutError}</p>
          </div>
        ) : null}
        <main id="main" class="app-main" ref={main} tabIndex={-1}>
          {route ? (
            <RouteView
              key={routeKey}
              route={route}
              sessionsSearch={sessionsSearch}
              onSessionsSearch={setSessionsSearch}
            />
          ) : null}
        </main>
      </div>
    </ConsoleContext.Provider>
  );
}

function RouteView({
  route,
  sessionsSearch,
  onSessionsSearch,
}: {
  route: ConsoleRoute;
  sessionsSearch: SessionsSearchState;
  onSessionsSearch: (search: SessionsSearchState) => void;
}) {
  switch (route.view) {
    case 'sessions':
      return <SessionsView search={sessionsSearch} onSearch={onSessionsSearch} />;
    case 'session':
      return <SessionDetailView uuid={route.uuid} />;
    case 'pool':
      return <PoolView />;
    case 'callbacks':
      return <CallbacksView />;
    case 'pin-security':
      return <PinSecurityView />;
    case 'system':
      return <SystemView />;
    case 'accounts':
      return <AccountsView />;
    case 'not-found':
      return <NotFoundView path={route.path} />;
  }
}
