/**
 * Starts the throwaway MongoDB-wire store for one jest run (FerretDB on a free port in a temp dir,
 * or mongod when on PATH), unless MONGO_URL points at one. Each test file starts its own NATS.
 */
const infra = require('../../deploy/local/infra.cjs');

module.exports = async function globalSetup() {
  if (process.env.MONGO_URL) {
    process.env.MASKLINE_TEST_MONGO_URL = process.env.MONGO_URL;
    return;
  }
  const store = await infra.startStore({ log: (line) => process.stderr.write(`${line}\n`) });
  globalThis.__MASKLINE_TEST_STORE__ = store;
  process.env.MASKLINE_TEST_MONGO_URL = store.url;
};
