/**
 * The text shown for a failed request: the API's own `error` (it names the field and the rule) when there is
 * one, otherwise a sentence that says what to try next.
 */
export function apiErrorMessage(status: number, body: unknown): string {
  if (body !== null && typeof body === 'object' && 'error' in body) {
    const error = (body as { error: unknown }).error;
    if (typeof error === 'string' && error.trim() !== '') return error;
  }
  if (status === 0) return 'Could not reach the Maskline API. Check your connection, then try again.';
  if (status === 401) return 'Your session ended; sign in again.';
  if (status === 403) return 'This sign-in is not allowed to do that (HTTP 403).';
  if (status === 404) return 'Not found (HTTP 404). It may have been removed; go back and search again.';
  if (status === 429) return 'Too many requests (HTTP 429). Wait a moment, then try again.';
  if (status >= 500) return `The server could not answer (HTTP ${status}). Try again in a moment.`;
  return `The request failed (HTTP ${status}).`;
}
