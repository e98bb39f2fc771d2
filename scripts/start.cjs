'use strict';
/**
 * `npm start`: installs what is missing, starts NATS and the store (under .infra/, kept running
 * between starts), builds, starts every service, seeds a demo account with demo virtual numbers,
 * and prints how to call the API. Ctrl-C stops the services; `npm run infra:down` stops NATS and
 * the store.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ensureDeps, ROOT } = require('./ensure-deps.cjs');

ensureDeps();

const infra = require('../deploy/local/infra.cjs');
const system = require('../deploy/local/system.cjs');
const { buildServices } = require('./build-services.cjs');
const { seedDemo } = require('./seed-demo.cjs');
const { loadOrCreateSecrets } = require('../deploy/local/dev-secrets.cjs');
const { startProviderSandbox } = require('../deploy/local/provider-sandbox.cjs');

const INFRA_DIR = path.join(ROOT, '.infra');
const LOG_DIR = path.join(INFRA_DIR, 'logs');

async function main() {
  const { natsUrl, mongoUrl } = await infra.up();

  console.log('building...');
  try {
    buildServices();
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }

  const port = Number(process.env.HTTP_PORT || 8080);
  const baseUrl = `http://127.0.0.1:${port}`;
  fs.mkdirSync(INFRA_DIR, { recursive: true });
  const secrets = loadOrCreateSecrets(path.join(INFRA_DIR, 'secrets.json'));
  const operatorKey = process.env.OPERATOR_KEY || secrets.OPERATOR_KEY;
  // Texts and calls Maskline asks a provider to send go to a sandbox on loopback unless the real
  // APIs are named: nothing leaves this machine by default.
  // Either provider left unnamed goes to the sandbox (not to its real API by default).
  const named = {
    PLIVO_API_BASE_URL: process.env.PLIVO_API_BASE_URL,
    TWILIO_API_BASE_URL: process.env.TWILIO_API_BASE_URL,
  };
  const sandbox = named.PLIVO_API_BASE_URL && named.TWILIO_API_BASE_URL ? null : await startProviderSandbox();
  const env = {
    ...secrets,
    NODE_ENV: 'development',
    LOG_LEVEL: process.env.LOG_LEVEL || 'info',
    NATS_URL: natsUrl,
    MONGO_URL: mongoUrl,
    HTTP_PORT: String(port),
    PUBLIC_BASE_URL: process.env.PUBLIC_BASE_URL || baseUrl,
    OPERATOR_KEY: operatorKey,
    PLIVO_API_BASE_URL: named.PLIVO_API_BASE_URL || sandbox.url,
    TWILIO_API_BASE_URL: named.TWILIO_API_BASE_URL || sandbox.url,
  };

  fs.mkdirSync(LOG_DIR, { recursive: true });
  const logs = Object.fromEntries(
    system.SERVICES.map((s) => [s, fs.createWriteStream(path.join(LOG_DIR, `${s}.log`), { flags: 'a' })]),
  );
  console.log('starting services...');
  const running = await system.startSystem({
    env,
    baseUrl,
    onLine: (service, line) => {
      logs[service].write(`${line}\n`);
      if (/"level":"(error|fatal)"/.test(line)) console.error(`[${service}] ${line}`);
    },
  });

  const demo = await seedDemo({
    baseUrl,
    operatorKey,
    stateFile: path.join(INFRA_DIR, 'demo-account.json'),
    sandboxUrl: sandbox ? sandbox.url : null,
  });
  printWelcome({ baseUrl, operatorKey, demo, sandbox });

  let stopping = false;
  const stop = async () => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log('\nstopping services (NATS and the store keep running: `npm run infra:down`)...');
    await running.stopAll('SIGTERM');
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  for (const p of running.processes) {
    void p.exited.then(({ code, signal }) => {
      if (!stopping)
        console.error(
          `${p.service} exited (code ${code}, signal ${signal}); see .infra/logs/${p.service}.log`,
        );
    });
  }
}

function printWelcome({ baseUrl, operatorKey, demo, sandbox }) {
  const lines = [
    '',
    `Maskline is running at ${baseUrl}`,
    '',
    `  health:     curl ${baseUrl}/health`,
    `  self-test:  curl -X POST -H 'X-Operator-Key: ${operatorKey}' ${baseUrl}/admin/v1/self-test`,
    `  API docs:   ${baseUrl}/docs`,
    `  console:    ${baseUrl}/console/  (sign in with the demo account's Auth ID and Auth Token below,`,
    `              or with the operator key in .infra/secrets.json for the System and Accounts views)`,
  ];
  if (demo) lines.push('', ...demo.instructions);
  if (sandbox) {
    lines.push(
      '',
      `Provider sandbox: texts and calls Maskline sends go to ${sandbox.url} (nothing leaves this machine);`,
      `  what it was asked to send:  curl ${sandbox.url}/sandbox/messages`,
      '  set PLIVO_API_BASE_URL / TWILIO_API_BASE_URL to use the real provider APIs.',
    );
  }
  lines.push('', `Logs are in .infra/logs/. Ctrl-C stops the services.`, '');
  console.log(lines.join('\n'));
}

main().catch((err) => {
  console.error(err instanceof infra.InfraError ? `infra: ${err.message}` : err);
  process.exit(1);
});
