import { changeTime } from './session-write-turns';

describe('the time of a change made in a session’s turn', () => {
  const before = { modifiedAt: new Date('2026-12-01T10:00:00.000Z') };

  it('is now when this replica’s clock is past the change before it', () => {
    expect(changeTime(before, Date.parse('2026-12-01T10:00:05.000Z')).toISOString()).toBe(
      '2026-12-01T10:00:05.000Z',
    );
  });

  it('is just after the change before it when this replica’s clock is behind that one’s, or level', () => {
    expect(changeTime(before, Date.parse('2026-12-01T09:59:58.000Z')).toISOString()).toBe(
      '2026-12-01T10:00:00.001Z',
    );
    expect(changeTime(before, before.modifiedAt.getTime()).toISOString()).toBe('2026-12-01T10:00:00.001Z');
  });
});
