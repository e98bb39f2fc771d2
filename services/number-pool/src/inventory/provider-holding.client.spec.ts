import { heldIn } from './provider-holding.client';

const answer = (status: number, body: unknown = {}) => ({
  status,
  headers: {},
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const NUMBER = '+14155550100';

describe('what a provider says of a number an account is adding', () => {
  it('Plivo: the number (200) is held, 404 is not', () => {
    expect(heldIn('plivo', NUMBER, answer(200, { number: '14155550100' }))).toBe(true);
    expect(heldIn('plivo', NUMBER, answer(404, { error: 'not found' }))).toBe(false);
  });

  it('Twilio: held only when the list names the number itself, not a partial match', () => {
    const list = (...numbers: string[]) =>
      answer(200, { incoming_phone_numbers: numbers.map((n) => ({ phone_number: n })) });
    expect(heldIn('twilio', NUMBER, list(NUMBER))).toBe(true);
    expect(heldIn('twilio', NUMBER, list())).toBe(false);
    // Twilio's PhoneNumber filter also matches numbers that contain it.
    expect(heldIn('twilio', NUMBER, list('+141555501001', '+114155550100'))).toBe(false);
  });

  it('anything else is no clear answer', () => {
    expect(heldIn('plivo', NUMBER, answer(400))).toBeNull();
    expect(heldIn('twilio', NUMBER, answer(302))).toBeNull();
    expect(heldIn('twilio', NUMBER, answer(200, 'not json'))).toBeNull();
    expect(heldIn('twilio', NUMBER, answer(200, { something: [] }))).toBeNull();
  });
});
