import { characterCount, segmentCount } from './message-segments';

describe('segmentCount', () => {
  it('counts GSM-7 text in 160-character singles and 153-character parts', () => {
    expect(segmentCount('I am at gate B')).toBe(1);
    expect(segmentCount('a'.repeat(160))).toBe(1);
    expect(segmentCount('a'.repeat(161))).toBe(2);
    expect(segmentCount('a'.repeat(306))).toBe(2);
    expect(segmentCount('a'.repeat(307))).toBe(3);
    expect(segmentCount('a'.repeat(1600))).toBe(11);
  });

  it('counts the extension table (€, brackets) twice', () => {
    expect(segmentCount('€'.repeat(80))).toBe(1);
    expect(segmentCount('€'.repeat(81))).toBe(2);
  });

  it('falls back to UCS-2 for anything outside GSM, an emoji taking two units', () => {
    expect(segmentCount('Привет')).toBe(1);
    expect(segmentCount('ж'.repeat(70))).toBe(1);
    expect(segmentCount('ж'.repeat(71))).toBe(2);
    expect(segmentCount('🚕'.repeat(35))).toBe(1);
    expect(segmentCount('🚕'.repeat(36))).toBe(2);
  });

  it('carries a picture with no text in one', () => {
    expect(segmentCount('')).toBe(1);
  });
});

describe('characterCount', () => {
  it('counts an emoji as one character', () => {
    expect(characterCount('🚕 at B')).toBe(6);
  });
});
