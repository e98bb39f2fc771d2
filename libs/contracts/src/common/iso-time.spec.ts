import { z } from 'zod';
import { isoTimeSchema } from './primitives.schema';

describe('an ISO-8601 time in a payload', () => {
  const zods = z.string().datetime({ offset: true });

  it.each([
    '2026-12-02T15:04:05Z',
    '2026-12-02T15:04:05.123Z',
    '2026-12-02T15:04:05.123456789Z',
    '2026-12-02T15:04:05+05:30',
    '2026-12-02T15:04:05-0800',
    '2024-02-29T00:00:00Z',
    '2026-12-02T15:04Z',
    '2025-02-29T00:00:00Z',
    '2026-13-02T15:04:05Z',
    '2026-12-02 15:04:05Z',
    '2026-12-02T15:04:05',
    '2026-12-02T24:00:00Z',
    '2026-12-02',
    '',
    'yesterday',
  ])('%s: judged as zod’s own datetime rule judges it', (value) => {
    expect(isoTimeSchema.safeParse(value).success).toBe(zods.safeParse(value).success);
  });

  it('names the rule when refused', () => {
    const refused = isoTimeSchema.safeParse('yesterday');
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toMatch(/ISO-8601/);
  });
});
