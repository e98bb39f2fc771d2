'use strict';
/**
 * Resolves `@maskline/<lib>` imports in compiled output (tsc keeps path aliases as written).
 * Load it first: `node -r ./tools/runtime/alias-hook.cjs <out>/services/<name>/src/main.js`.
 * The output root is the nearest ancestor of the main script that has a `libs/` folder, so it
 * works for the whole-workspace build (dist/workspace) and for one service's build (dist/services/<name>).
 */
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');

let outRoot;
function findOutRoot() {
  if (outRoot) return outRoot;
  let dir = path.dirname(require.main ? require.main.filename : process.argv[1]);
  while (dir !== path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'libs'))) return (outRoot = dir);
    dir = path.dirname(dir);
  }
  throw new Error('alias-hook: no libs/ folder above the main script');
}

const original = Module._resolveFilename;
Module._resolveFilename = function resolveMasklineAlias(request, parent, isMain, options) {
  if (request.startsWith('@maskline/')) {
    const lib = request.slice('@maskline/'.length);
    return original.call(
      this,
      path.join(findOutRoot(), 'libs', lib, 'src', 'index.js'),
      parent,
      isMain,
      options,
    );
  }
  return original.call(this, request, parent, isMain, options);
};
