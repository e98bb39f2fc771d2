/**
 * Puts these environment variables back as they were after each test of the `describe` block it is
 * called in (deleted if they were unset): for tests that set what a started process inherits.
 */
export function restoringEnv(...names: string[]): void {
  const saved = names.map((name) => [name, process.env[name]] as const);
  afterEach(() => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
}
