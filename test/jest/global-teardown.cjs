const fs = require('node:fs');

module.exports = async function globalTeardown() {
  const store = globalThis.__MASKLINE_TEST_STORE__;
  if (!store) return;
  await store.stop();
  fs.rmSync(store.dir, { recursive: true, force: true });
};
