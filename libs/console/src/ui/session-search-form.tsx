import { useState } from 'preact/hooks';
import {
  buildSessionSearchQuery,
  type SessionSearchError,
  type SessionSearchField,
  type SessionSearchForm as SearchForm,
  type SessionStatusFilter,
} from '../logic/session-search-query';

/** The sessions search: party, virtual number, status and a UTC creation-time range. */
export function SessionSearchForm({
  initial,
  onSearch,
}: {
  initial: SearchForm;
  onSearch: (form: SearchForm) => void;
}) {
  const [form, setForm] = useState<SearchForm>(initial);
  const [errors, setErrors] = useState<SessionSearchError[]>([]);

  const set =
    (field: SessionSearchField) =>
    (event: { currentTarget: HTMLInputElement | HTMLSelectElement }): void =>
      setForm((previous) => ({ ...previous, [field]: event.currentTarget.value }));

  const submit = (event: Event): void => {
    event.preventDefault();
    const result = buildSessionSearchQuery(form);
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors([]);
    onSearch(form);
  };

  const errorFor = (field: SessionSearchField): SessionSearchError | undefined =>
    errors.find((e) => e.field === field);
  const described = (field: SessionSearchField, hint?: string): string | undefined =>
    [hint, errorFor(field) ? `session-search-${field}-error` : undefined].filter(Boolean).join(' ') ||
    undefined;
  const fieldError = (field: SessionSearchField) => {
    const error = errorFor(field);
    return error ? (
      <p class="field-error" id={`session-search-${field}-error`}>
        {error.message}
      </p>
    ) : null;
  };

  return (
    <form class="search-form" role="search" aria-label="Search sessions" onSubmit={submit} noValidate>
      <div class="search-fields">
        <div class="field">
          <label for="session-search-party">Party</label>
          <input
            id="session-search-party"
            type="tel"
            inputMode="tel"
            autocomplete="off"
            placeholder="+4915112345678"
            value={form.party}
            onInput={set('party')}
            aria-invalid={errorFor('party') ? true : undefined}
            aria-describedby={described('party', 'session-search-party-hint')}
          />
          <p class="hint" id="session-search-party-hint">
            First or second party.
          </p>
          {fieldError('party')}
        </div>
        <div class="field">
          <label for="session-search-virtual-number">Virtual number</label>
          <input
            id="session-search-virtual-number"
            type="tel"
            inputMode="tel"
            autocomplete="off"
            value={form.virtualNumber}
            onInput={set('virtualNumber')}
            aria-invalid={errorFor('virtualNumber') ? true : undefined}
            aria-describedby={described('virtualNumber')}
          />
          {fieldError('virtualNumber')}
        </div>
        <div class="field">
          <label for="session-search-status">Status</label>
          <select
            id="session-search-status"
            value={form.status}
            onChange={(e) => setForm((p) => ({ ...p, status: e.currentTarget.value as SessionStatusFilter }))}
          >
            <option value="all">All</option>
            <option value="active">Active</option>
            <option value="expired">Expired</option>
          </select>
        </div>
        <div class="field">
          <label for="session-search-created-from">Created from (UTC)</label>
          <input
            id="session-search-created-from"
            type="datetime-local"
            value={form.createdFrom}
            onInput={set('createdFrom')}
            aria-invalid={errorFor('createdFrom') ? true : undefined}
            aria-describedby={described('createdFrom', 'session-search-window-note')}
          />
          {fieldError('createdFrom')}
        </div>
        <div class="field">
          <label for="session-search-created-to">Created to (UTC)</label>
          <input
            id="session-search-created-to"
            type="datetime-local"
            value={form.createdTo}
            onInput={set('createdTo')}
            aria-invalid={errorFor('createdTo') ? true : undefined}
            aria-describedby={described('createdTo', 'session-search-window-note')}
          />
          {fieldError('createdTo')}
        </div>
      </div>
      <p class="hint" id="session-search-window-note">
        Times are UTC. Without a “Created from” or “Created to” time, the list shows sessions created in the
        last 7 days.
      </p>
      {errors.length > 0 ? (
        <div class="alert alert-error" role="alert">
          <p>Fix {errors.length === 1 ? 'this field' : 'these fields'} to search:</p>
          <ul>
            {errors.map((e) => (
              <li key={e.field}>{e.message}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <div class="form-actions">
        <button type="submit" class="button-primary">
          Search
        </button>
      </div>
    </form>
  );
}
