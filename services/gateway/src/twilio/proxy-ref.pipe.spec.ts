import { CodedError, ErrorCodes, PROXY_UNIQUE_NAME_MAX } from '@maskline/contracts';
import { PROXY_REFS } from './proxy-ref.pipe';

describe('PROXY_REFS', () => {
  it('passes a reference that could name a resource, as it is', () => {
    const name = 'n'.repeat(PROXY_UNIQUE_NAME_MAX);
    expect(PROXY_REFS.session.transform(name)).toBe(name);
    expect(PROXY_REFS.participant.transform(`KP${'a'.repeat(32)}`)).toBe(`KP${'a'.repeat(32)}`);
  });

  it('finds nothing by a longer one: not found, naming the resource, not the internal field', () => {
    const refused = (() => {
      try {
        PROXY_REFS.service.transform('n'.repeat(PROXY_UNIQUE_NAME_MAX + 1));
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(refused).toBeInstanceOf(CodedError);
    expect(refused).toMatchObject({
      code: ErrorCodes.NOT_FOUND,
      message: expect.stringMatching(/^Service n+… not found$/),
    });
    expect(() => PROXY_REFS.interaction.transform('x'.repeat(65))).toThrow(/^Interaction x+… not found$/);
  });
});
