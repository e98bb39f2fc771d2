import { currentState, navigationFor, resolveRoute, routeTitle, sessionHref } from './console-route';

describe('resolveRoute', () => {
  it('sends the root to the first page of the signed-in kind', () => {
    expect(resolveRoute('', 'account')).toEqual({ kind: 'redirect', hash: '#/sessions' });
    expect(resolveRoute('#/', 'operator')).toEqual({ kind: 'redirect', hash: '#/system' });
  });

  it('shows account pages to accounts, with or without a trailing slash', () => {
    expect(resolveRoute('#/pool', 'account')).toEqual({ kind: 'show', route: { view: 'pool' } });
    expect(resolveRoute('#/pin-security/', 'account')).toEqual({
      kind: 'show',
      route: { view: 'pin-security' },
    });
  });

  it('reads the session uuid from #/sessions/<uuid>', () => {
    expect(resolveRoute('#/sessions/5ee6d1ca-4d7a-11f0-a6f4-0242ac110002', 'account')).toEqual({
      kind: 'show',
      route: { view: 'session', uuid: '5ee6d1ca-4d7a-11f0-a6f4-0242ac110002' },
    });
  });

  it('refuses session ids that are not ids', () => {
    expect(resolveRoute('#/sessions/..', 'account').kind).toBe('show');
    expect(resolveRoute('#/sessions/..', 'account')).toMatchObject({ route: { view: 'not-found' } });
    expect(resolveRoute('#/sessions/a%2Fb', 'account')).toMatchObject({ route: { view: 'not-found' } });
    expect(resolveRoute('#/sessions/%E0%A4%A', 'account')).toMatchObject({ route: { view: 'not-found' } });
    expect(resolveRoute('#/sessions/abc/extra', 'account')).toMatchObject({ route: { view: 'not-found' } });
  });

  it("redirects pages of the other kind to the signed-in kind's first page", () => {
    expect(resolveRoute('#/accounts', 'account')).toEqual({ kind: 'redirect', hash: '#/sessions' });
    expect(resolveRoute('#/sessions/abc', 'operator')).toEqual({ kind: 'redirect', hash: '#/system' });
  });

  it('shows "not found" for unknown paths', () => {
    expect(resolveRoute('#/nope', 'operator')).toEqual({
      kind: 'show',
      route: { view: 'not-found', path: '/nope' },
    });
  });
});

describe('navigation', () => {
  it('lists the pages of each kind', () => {
    expect(navigationFor('account').map((l) => l.label)).toEqual([
      'Sessions',
      'Pool',
      'Callbacks',
      'PIN security',
    ]);
    expect(navigationFor('operator').map((l) => l.label)).toEqual(['System', 'Accounts']);
  });

  it('does not offer a subaccount the views that cover the whole main account', () => {
    expect(navigationFor('account', { subaccount: true }).map((l) => l.label)).toEqual([
      'Sessions',
      'Pool',
      'Callbacks',
    ]);
  });

  it('marks the current page, and the section on a session page', () => {
    const [sessions, pool] = navigationFor('account');
    expect(currentState(sessions, { view: 'sessions' })).toBe('page');
    expect(currentState(sessions, { view: 'session', uuid: 'abc' })).toBe('true');
    expect(currentState(pool, { view: 'sessions' })).toBeUndefined();
  });

  it('links to sessions and titles pages', () => {
    expect(sessionHref('abc-123')).toBe('#/sessions/abc-123');
    expect(routeTitle({ view: 'pin-security' })).toBe('PIN security');
    expect(routeTitle({ view: 'session', uuid: 'abc' })).toBe('Session abc');
  });
});
