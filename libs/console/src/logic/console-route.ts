import type { ConsoleSessionKind } from './console-session.types';

/** Hash routes: #/sessions, #/sessions/<uuid>, #/pool, #/callbacks, #/pin-security (accounts); #/system, #/accounts (operator). */
export type ConsoleRoute =
  | { view: 'sessions' }
  | { view: 'session'; uuid: string }
  | { view: 'pool' }
  | { view: 'callbacks' }
  | { view: 'pin-security' }
  | { view: 'system' }
  | { view: 'accounts' }
  | { view: 'not-found'; path: string };

export type RouteResolution = { kind: 'show'; route: ConsoleRoute } | { kind: 'redirect'; hash: string };

export interface NavigationLink {
  label: string;
  href: string;
  /** Views that count as "in" this section. */
  views: ConsoleRoute['view'][];
}

const NAVIGATION: Readonly<Record<ConsoleSessionKind, NavigationLink[]>> = {
  account: [
    { label: 'Sessions', href: '#/sessions', views: ['sessions', 'session'] },
    { label: 'Pool', href: '#/pool', views: ['pool'] },
    { label: 'Callbacks', href: '#/callbacks', views: ['callbacks'] },
    { label: 'PIN security', href: '#/pin-security', views: ['pin-security'] },
  ],
  operator: [
    { label: 'System', href: '#/system', views: ['system'] },
    { label: 'Accounts', href: '#/accounts', views: ['accounts'] },
  ],
};

/** Views a subaccount is refused (they cover the whole main account): not offered in its navigation. */
const MAIN_ACCOUNT_ONLY: ReadonlySet<ConsoleRoute['view']> = new Set(['pin-security']);

export function navigationFor(
  kind: ConsoleSessionKind,
  options: { subaccount?: boolean } = {},
): NavigationLink[] {
  return options.subaccount
    ? NAVIGATION[kind].filter((link) => !link.views.some((v) => MAIN_ACCOUNT_ONLY.has(v)))
    : NAVIGATION[kind];
}

export function defaultHashFor(kind: ConsoleSessionKind): string {
  return NAVIGATION[kind][0].href;
}

/** Session UUIDs are letters, digits and dashes; anything else in that position is not a session page. */
const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

/**
 * Reads the location hash for the signed-in kind. The root and pages that belong to the other kind redirect
 * to the kind's first page; an unknown path shows "not found".
 */
export function resolveRoute(hash: string, kind: ConsoleSessionKind): RouteResolution {
  const path = hash.replace(/^#/, '').replace(/\/+$/, '');
  if (path === '' || path === '/') return { kind: 'redirect', hash: defaultHashFor(kind) };
  const route = routeFromPath(path);
  if (route.view === 'not-found') return { kind: 'show', route };
  const allowed = NAVIGATION[kind].some((link) => link.views.includes(route.view));
  return allowed ? { kind: 'show', route } : { kind: 'redirect', hash: defaultHashFor(kind) };
}

function routeFromPath(path: string): ConsoleRoute {
  const parts = path.split('/').slice(1);
  const [section, id, ...rest] = parts;
  if (rest.length > 0) return { view: 'not-found', path };
  if (section === 'sessions' && id !== undefined) {
    const uuid = safeDecode(id);
    return uuid !== null && SESSION_ID.test(uuid) ? { view: 'session', uuid } : { view: 'not-found', path };
  }
  if (id !== undefined) return { view: 'not-found', path };
  switch (section) {
    case 'sessions':
    case 'pool':
    case 'callbacks':
    case 'pin-security':
    case 'system':
    case 'accounts':
      return { view: section };
    default:
      return { view: 'not-found', path };
  }
}

function safeDecode(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}

export function sessionHref(uuid: string): string {
  return `#/sessions/${encodeURIComponent(uuid)}`;
}

/** The navigation link's state: "page" on its own page, "true" inside its section (a session's page). */
export function currentState(link: NavigationLink, route: ConsoleRoute): 'page' | 'true' | undefined {
  if (!link.views.includes(route.view)) return undefined;
  return link.href === `#/${route.view}` ? 'page' : 'true';
}

/** The document title's first part. */
export function routeTitle(route: ConsoleRoute): string {
  switch (route.view) {
    case 'sessions':
      return 'Sessions';
    case 'session':
      return `Session ${route.uuid}`;
    case 'pool':
      return 'Pool';
    case 'callbacks':
      return 'Callbacks';
    case 'pin-security':
      return 'PIN security';
    case 'system':
      return 'System';
    case 'accounts':
      return 'Accounts';
    case 'not-found':
      return 'Page not found';
  }
}
