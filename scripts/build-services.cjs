'use strict';
/**
 * Builds services the way their images are built: Nx's build of each service (its code and the
 * libs it uses, nothing else) into dist/services/<name>, with `main.js` at the top pointing to the
 * service's entry. The Docker image runs `node -r alias-hook.cjs dist/main.js` on exactly this
 * tree, and so do `npm start` and the end-to-end tests (deploy/local/system.cjs).
 *
 *   node scripts/build-services.cjs [service ...]   (all services when none is named)
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

function allServices() {
  const dir = path.join(ROOT, 'services');
  return fs.readdirSync(dir).filter((d) => fs.existsSync(path.join(dir, d, 'project.json')));
}

/** Where a service's build lands, and its entry point (what the image's CMD runs). */
function serviceBuild(service) {
  const dist = path.join(ROOT, 'dist', 'services', service);
  return { dist, main: path.join(dist, 'main.js') };
}

function buildServices(services = allServices()) {
  const nx = path.join(ROOT, 'node_modules', '.bin', 'nx');
  const res = spawnSync(
    nx,
    ['run-many', '-t', 'build', `--projects=${services.join(',')}`, '--parallel=2', '--output-style=static'],
    {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
    },
  );
  if (res.status !== 0)
    throw new Error(`building ${services.join(', ')} failed (exit ${res.status ?? res.signal})`);
  for (const service of services) {
    const { main } = serviceBuild(service);
    fs.rmSync(main, { force: true });
    fs.symlinkSync(path.join('services', service, 'src', 'main.js'), main);
  }
}

if (require.main === module) {
  try {
    buildServices(process.argv.length > 2 ? process.argv.slice(2) : undefined);
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
}

module.exports = { buildServices, serviceBuild, allServices };
