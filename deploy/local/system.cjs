'use strict';
/**
 * Runs every Maskline service as its own Node process from the build its image ships
 * (dist/services/<name>, made by scripts/build-services.cjs, started as the image's CMD starts it).
 * Used by `npm start` and by the end-to-end tests, so both run the system the same way.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');

const ROOT = path.resolve(__dirname, '..', '..');
const { serviceBuild } = require('../../scripts/build-services.cjs');
const ALIAS_HOOK = path.join(ROOT, 'tools', 'runtime', 'alias-hook.cjs');

/** Start order: the gateway last, so its first health check finds the others. */
const SERVICES = [
  'session-service',
  'number-pool',
  'pin-auth',
  'call-router',
  'callback-dispatcher',
  'gateway',
];

function mainOf(service) {
  return serviceBuild(service).main;
}

function assertBuilt() {
  const missing = SERVICES.filter((s) => !fs.existsSync(mainOf(s)));
  if (missing.length > 0) {
    throw new Error(`not built: ${missing.join(', ')} (run \`npm run build\`)`);
  }
}

/**
 * Starts one service. `onLine(service, line)` receives every log line (stdout and stderr).
 * Returns { service, child, exited: Promise<{code, signal}>, stop(signal) }.
 */
/**
 * NATS storage a local system may fill (NATS_STORAGE_BYTES, unless set): the services ask the local
 * NATS to reserve their shares of it, and a production figure (20 GiB) would not fit the free disk of
 * every machine a developer or CI runs this on.
 */
const LOCAL_NATS_STORAGE_BYTES = String(2 * 1024 ** 3);

function startService(service, env, onLine = () => {}) {
  // Node flags that NODE_OPTIONS refuses (a bench's --cpu-prof), space-separated.
  const nodeArgs = (env.MASKLINE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '-r', ALIAS_HOOK, mainOf(service)], {
    cwd: ROOT,
    env: { NATS_STORAGE_BYTES: LOCAL_NATS_STORAGE_BYTES, ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => onLine(service, line));
  }
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    service,
    child,
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 15000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

async function waitForHealthy(baseUrl, { timeoutMs = 60000, processes = [] } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    const dead = processes.find((p) => p.child.exitCode !== null);
    if (dead) throw new Error(`${dead.service} exited with code ${dead.child.exitCode} during start`);
    try {
      const res = await fetch(`${baseUrl}/health`);
      const body = await res.json();
      if (res.status === 200 && body.status === 'up') return body;
      const down = Object.entries(body.services || {})
        .filter(([, s]) => s.status !== 'up')
        .map(([n]) => n);
      last = `status ${res.status}; down: ${down.join(', ') || 'none'}`;
    } catch (err) {
      last = err.message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`system not healthy after ${timeoutMs} ms (${last})`);
}

/**
 * Starts every service with `env` (plus `envFor(service)` per service), waits until the gateway
 * reports all of them up, and returns { processes, stopAll(signal) }.
 */
async function startSystem({ env, envFor = () => ({}), baseUrl, onLine, timeoutMs } = {}) {
  assertBuilt();
  const processes = SERVICES.map((s) => startService(s, { ...env, ...envFor(s) }, onLine));
  try {
    await waitForHealthy(baseUrl, { timeoutMs, processes });
  } catch (err) {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    throw err;
  }
  return {
    processes,
    async stopAll(signal = 'SIGTERM') {
      await Promise.all(processes.map((p) => p.stop(signal)));
    },
  };
}

module.exports = { SERVICES, mainOf, startService, startSystem, waitForHealthy, assertBuilt };
