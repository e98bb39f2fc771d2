import { holdingIn } from './provider-holding.client';

const answer = (status: number, body: unknown = {}) => ({
  status,
  headers: {},
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const NUMBER = '+14155550100';

describe('what a provider says of a number an account is adding', () => {
  it('Plivo: a number it rents out is confirmed; one the account brought from its own carrier is listed, unconfirmed; 404 is not held', () => {
    expect(holdingIn('plivo', NUMBER, answer(200, { number: '14155550100', carrier: 'Plivo' }))).toBe(
      'confirmed',
    );
    // Plivo's "add a number from your own carrier" takes any number on the account's word.
    expect(holdingIn('plivo', NUMBER, answer(200, { number: '14155550100', carrier: 'MyCarrier' }))).toBe(
      'unconfirmed',
    );
    expect(holdingIn('plivo', NUMBER, answer(200, { number: '14155550100' }))).toBe('unconfirmed');
    // Only Plivo's own name, as Plivo writes it.
    expect(holdingIn('plivo', NUMBER, answer(200, { number: '14155550100', carrier: ' plivo ' }))).toBe(
      'unconfirmed',
    );
    expect(holdingIn('plivo', NUMBER, answer(404, { error: 'not found' }))).toBe('not-held');
  });

  it('Plivo: an answer about another number is no answer', () => {
    expect(holdingIn('plivo', NUMBER, answer(200, { number: '14155550101', carrier: 'Plivo' }))).toBeNull();
    expect(holdingIn('plivo', NUMBER, answer(200, { carrier: 'Plivo' }))).toBeNull();
  });

  it('Twilio: held only when the list names the number itself, not a partial match', () => {
    const list = (...numbers: string[]) =>
      answer(200, { incoming_phone_numbers: numbers.map((n) => ({ phone_number: n })) });
    expect(holdingIn('twilio', NUMBER, list(NUMBER))).toBe('confirmed');
    expect(holdingIn('twilio', NUMBER, list())).toBe('not-held');
    // Twilio's PhoneNumber filter also matches numbers that contain it.
    expect(holdingIn('twilio', NUMBER, list('+141555501001', '+114155550100'))).toBe('not-held');
  });

  it('anything else is no clear answer', () => {
    expect(holdingIn('plivo', NUMBER, answer(400))).toBeNull();
    expect(holdingIn('twilio', NUMBER, answer(302))).toBeNull();
    expect(holdingIn('twilio', NUMBER, answer(200, 'not json'))).toBeNull();
    expect(holdingIn('plivo', NUMBER, answer(200, 'not json'))).toBeNull();
    expect(holdingIn('twilio', NUMBER, answer(200, { something: [] }))).toBeNull();
  });
});
