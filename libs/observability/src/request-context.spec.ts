import { acceptOrCreateCorrelationId } from './request-context';

describe('acceptOrCreateCorrelationId', () => {
  it('keeps a plain caller-supplied id', () => {
    expect(acceptOrCreateCorrelationId('req-42_a.b:c@d')).toBe('req-42_a.b:c@d');
  });

  it.each([undefined, '', 'has space', 'x'.repeat(129), 'line\nbreak', '<script>'])(
    'replaces %p with a fresh UUID',
    (candidate) => {
      expect(acceptOrCreateCorrelationId(candidate)).toMatch(/^[0-9a-f-]{36}$/);
    },
  );
});
