'use strict';
/**
 * Runs the longest test files first. Jest orders files by how long they took last time, from its
 * cache; a fresh clone has none, and it then goes by file size, which put the chaos run (a small file,
 * about 280 s) last: one worker ran it alone while the other sat idle. The files known to be longest
 * start first here, then Jest's own order.
 */
const Sequencer = require('@jest/test-sequencer').default;

/** Longest first, as measured (a fresh clone's CI run on 2026-12-07: 279, 261, 102 and 99 s). */
const LONGEST = [
  'test/chaos/chaos.e2e-spec.ts',
  'test/e2e/sessions-resilience.e2e-spec.ts',
  'test/deploy/ferretdb-driver.e2e-spec.ts',
  'test/e2e/callbacks.e2e-spec.ts',
];

class LongestFirstSequencer extends Sequencer {
  sort(tests) {
    const ordered = super.sort(tests);
    const rank = (test) => {
      const i = LONGEST.findIndex((file) => test.path.endsWith(file));
      return i === -1 ? LONGEST.length : i;
    };
    // Stable: Jest's order within each rank.
    return ordered
      .map((test, i) => ({ test, i }))
      .sort((a, b) => rank(a.test) - rank(b.test) || a.i - b.i)
      .map(({ test }) => test);
  }
}

module.exports = LongestFirstSequencer;
