import * as plivo from 'plivo';
import { plivoV3Signature, plivoV3SignedUrl, verifyPlivoV3Signature } from './plivo-v3-signature';

describe('X-Plivo-Signature-V3', () => {
  it.each([
    [
      'POST',
      'https://example.com/cb?b=2&a=1',
      { To: '1', From: '2' },
      'https://example.com/cb?a=1&b=2.From2To1',
      'nofWUDnhJ4Sb+NOiY8pJumTl73OtrCgyu11S4ad6jGw=',
    ],
    [
      'POST',
      'https://example.com/cb',
      { To: '1', From: '2' },
      'https://example.com/cb?From2To1',
      'mG50nDIM4VPnfqD9dgDFUj0qU/weUaE0Edihzf1cphk=',
    ],
    [
      'GET',
      'https://example.com/cb?b=2&a=1&To=1&From=2',
      {},
      'https://example.com/cb?From=2&To=1&a=1&b=2',
      'Lb8dyDgttxkLDjG3aFZ7zoISLMElp31vcE1pZU51ojY=',
    ],
  ] as const)('matches the reference vector for %s %s', (method, uri, params, signedUrl, signature) => {
    expect(plivoV3SignedUrl(method, uri, params)).toBe(signedUrl);
    expect(plivoV3Signature(method, uri, params, '12345', 'MY_AUTH_TOKEN')).toBe(signature);
  });

  it('is accepted by Plivo’s own SDK, for POST and GET, and rejected when tampered with', () => {
    const params = {
      EventName: 'SessionTimeout',
      SessionUUID: 'abc',
      SequenceNumber: '7',
      From: '14155550100',
    };
    for (const [method, uri] of [
      ['POST', 'https://hooks.example.com/maskline?x=1'],
      [
        'GET',
        'https://hooks.example.com/maskline?EventName=SessionTimeout&SessionUUID=abc&SequenceNumber=7&From=14155550100',
      ],
    ] as const) {
      const body = method === 'POST' ? params : {};
      const sig = plivoV3Signature(method, uri, body, 'n0nce', 'token-xyz');
      expect(plivo.validateV3Signature(method, uri, 'n0nce', 'token-xyz', sig, body)).toBe(true);
      expect(plivo.validateV3Signature(method, uri, 'n0nce', 'other-token', sig, body)).toBe(false);
      expect(verifyPlivoV3Signature(method, uri, body, 'n0nce', 'token-xyz', `bogus,${sig}`)).toBe(true);
      expect(verifyPlivoV3Signature(method, uri, body, 'n0nce2', 'token-xyz', sig)).toBe(false);
    }
  });
});
