import { apiErrorMessage } from './api-error';

describe('apiErrorMessage', () => {
  it("shows the API's error verbatim", () => {
    expect(apiErrorMessage(400, { api_id: 'x', error: 'party: must be a phone number' })).toBe(
      'party: must be a phone number',
    );
  });

  it('explains the status when the body has no error text', () => {
    expect(apiErrorMessage(0, null)).toMatch(/Could not reach the Maskline API/);
    expect(apiErrorMessage(404, { api_id: 'x' })).toMatch(/^Not found \(HTTP 404\)/);
    expect(apiErrorMessage(502, '<html>Bad gateway</html>')).toBe(
      'The server could not answer (HTTP 502). Try again in a moment.',
    );
    expect(apiErrorMessage(409, { error: '  ' })).toBe('The request failed (HTTP 409).');
  });
});
