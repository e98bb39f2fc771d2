/**
 * The sessions search form and the query string it becomes. Times are typed in UTC into datetime-local inputs
 * ("2026-11-29T16:02") and sent the way the API reads them ("2026-11-29 16:02").
 */
export type SessionStatusFilter = 'all' | 'active' | 'expired';

export interface SessionSearchForm {
  party: string;
  virtualNumber: string;
  status: SessionStatusFilter;
  /** datetime-local value, UTC; "" when not set. */
  createdFrom: string;
  createdTo: string;
}

export const EMPTY_SESSION_SEARCH: Readonly<SessionSearchForm> = {
  party: '',
  virtualNumber: '',
  status: 'all',
  createdFrom: '',
  createdTo: '',
};

export type SessionSearchField = keyof SessionSearchForm;

export interface SessionSearchError {
  field: SessionSearchField;
  message: string;
}

export type SessionSearchQuery = { ok: true; query: string } | { ok: false; errors: SessionSearchError[] };

export const SESSIONS_PAGE_SIZE = 20;

const DATETIME_LOCAL = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d{1,3})?)?$/;

/** "2026-11-29T16:02" or "2026-11-29T16:02:30" → "2026-11-29 16:02"; null when it is not such a value. */
export function dateTimeLocalToApi(value: string): string | null {
  const match = DATETIME_LOCAL.exec(value.trim());
  if (!match) return null;
  const [, date, time] = match;
  const [y, m, d] = date.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const check = new Date(Date.UTC(y, m - 1, d, hh, mm));
  if (check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d || check.getUTCHours() !== hh) return null;
  return `${date} ${time}`;
}

/** Spaces, dashes, dots and brackets people paste from contacts; the leading "+" is kept. */
export function normalizeNumberInput(value: string): string {
  return value.replace(/[\s().-]/g, '');
}

const PHONE_INPUT = /^\+?\d{3,20}$/;

export function buildSessionSearchQuery(
  form: SessionSearchForm,
  page: { limit: number; offset: number } = { limit: SESSIONS_PAGE_SIZE, offset: 0 },
): SessionSearchQuery {
  const errors: SessionSearchError[] = [];
  const params: [string, string][] = [
    ['limit', String(page.limit)],
    ['offset', String(page.offset)],
  ];

  const party = normalizeNumberInput(form.party);
  if (party !== '') {
    if (PHONE_INPUT.test(party)) params.push(['party', party]);
    else
      errors.push({
        field: 'party',
        message: 'Party must be a phone number: digits, optionally starting with +.',
      });
  }
  const virtualNumber = normalizeNumberInput(form.virtualNumber);
  if (virtualNumber !== '') {
    if (PHONE_INPUT.test(virtualNumber)) params.push(['virtual_number', virtualNumber]);
    else
      errors.push({
        field: 'virtualNumber',
        message: 'Virtual number must be a phone number: digits, optionally starting with +.',
      });
  }
  params.push(['status', form.status]);

  const from = readTime(form.createdFrom, 'createdFrom', 'Created from (UTC)', errors);
  const to = readTime(form.createdTo, 'createdTo', 'Created to (UTC)', errors);
  if (from !== null) params.push(['created_time__gte', from]);
  if (to !== null) params.push(['created_time__lte', to]);
  // "YYYY-MM-DD HH:MM" sorts like the time it names.
  if (from !== null && to !== null && from > to) {
    errors.push({ field: 'createdTo', message: 'Created to (UTC) must not be before Created from (UTC).' });
  }

  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, query: params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&') };
}

function readTime(
  value: string,
  field: SessionSearchField,
  label: string,
  errors: SessionSearchError[],
): string | null {
  if (value.trim() === '') return null;
  const api = dateTimeLocalToApi(value);
  if (api === null)
    errors.push({ field, message: `${label} must be a date and time, like 2026-11-29 16:02.` });
  return api;
}

/** True when the search leaves the server's default window (the last 7 days) in place. */
export function usesDefaultTimeWindow(form: SessionSearchForm): boolean {
  return form.createdFrom.trim() === '' && form.createdTo.trim() === '';
}
