import { CodedError } from '@maskline/contracts';
import { participantRequestOf } from './proxy-session-params.dto';

describe('participantRequestOf', () => {
  it('writes an Identifier as the number a carrier dials (a national prefix after the country code dropped)', () => {
    expect(participantRequestOf({ identifier: '+4402071234567' }).identifier).toBe('+442071234567');
    expect(participantRequestOf({ identifier: ' +14155550100 ' }).identifier).toBe('+14155550100');
  });

  it('writes a ProxyIdentifier the same way, as the number-pool keeps the number it names', () => {
    expect(
      participantRequestOf({ identifier: '+14155550100', proxyIdentifier: '+4402071234567' }).proxyIdentifier,
    ).toBe('+442071234567');
  });

  it('keeps an E.164 Identifier libphonenumber does not know as it was given', () => {
    expect(participantRequestOf({ identifier: '+8881234567' }).identifier).toBe('+8881234567');
  });

  it('refuses an Identifier that is not E.164, naming it (with its place in a list)', () => {
    const refused = (() => {
      try {
        participantRequestOf({ identifier: '4155550100x' }, 'Participants[1].');
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(refused).toBeInstanceOf(CodedError);
    expect(refused).toMatchObject({
      field: 'Participants[1].Identifier',
      message: expect.stringMatching(/^Participants\[1\]\.Identifier must be an E\.164 number/),
    });
  });
});
