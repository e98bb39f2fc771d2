/**
 * Builds the operator console: `node libs/console/build.cjs <outdir>` writes
 *   <outdir>/app.js      Preact + uPlot + the console, one minified bundle
 *   <outdir>/app.css     uPlot's stylesheet followed by src/styles/console.css
 *   <outdir>/index.html  the page; no inline script or style, so it runs under CSP `default-src 'self'`
 *   <outdir>/favicon.svg so browsers do not ask the server for /favicon.ico
 * and prints each file's size. The server serves the directory under /console/.
 */
const fs = require('node:fs/promises');
const path = require('node:path');
const zlib = require('node:zlib');
const esbuild = require('esbuild');

const SOURCE_ROOT = path.join(__dirname, 'src');

const INDEX_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <title>Maskline console</title>
    <link rel="icon" href="/console/favicon.svg" type="image/svg+xml" />
    <link rel="stylesheet" href="/console/app.css" />
    <script defer src="/console/app.js"></script>
  </head>
  <body>
    <div id="app"><p class="boot">Loading the Maskline console…</p></div>
    <noscript><p class="boot">The Maskline console needs JavaScript.</p></noscript>
  </body>
</html>
`;

const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0b57d0"/><path d="M7 24V8h4l5 8 5-8h4v16h-4V15l-5 7-5-7v9z" fill="#fff"/></svg>
`;

/** Bundles the console into `outdir`; resolves with the written files and their sizes. */
async function buildConsole(outdir) {
  const target = path.resolve(outdir);
  await fs.mkdir(target, { recursive: true });

  // main.tsx imports uPlot's CSS and ours; esbuild emits them together as app.css next to app.js.
  await esbuild.build({
    entryPoints: { app: path.join(SOURCE_ROOT, 'main.tsx') },
    outdir: target,
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2020',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    sourcemap: false,
    legalComments: 'none',
    charset: 'utf8',
    tsconfig: path.join(__dirname, 'tsconfig.json'),
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  await fs.writeFile(path.join(target, 'index.html'), INDEX_HTML);
  await fs.writeFile(path.join(target, 'favicon.svg'), FAVICON_SVG);

  const files = [];
  for (const name of ['app.js', 'app.css', 'index.html', 'favicon.svg']) {
    const content = await fs.readFile(path.join(target, name));
    files.push({ name, bytes: content.length, gzipBytes: zlib.gzipSync(content, { level: 9 }).length });
  }
  return { outdir: target, files };
}

function formatSizes(result) {
  const lines = result.files.map(
    (f) =>
      `  ${f.name.padEnd(11)} ${String(f.bytes).padStart(8)} bytes  ${String(f.gzipBytes).padStart(7)} bytes gzip`,
  );
  const total = result.files.reduce(
    (sum, f) => ({ bytes: sum.bytes + f.bytes, gzip: sum.gzip + f.gzipBytes }),
    {
      bytes: 0,
      gzip: 0,
    },
  );
  lines.push(
    `  ${'total'.padEnd(11)} ${String(total.bytes).padStart(8)} bytes  ${String(total.gzip).padStart(7)} bytes gzip`,
  );
  return `console built in ${result.outdir}\n${lines.join('\n')}`;
}

module.exports = { buildConsole };

if (require.main === module) {
  const outdir = process.argv[2];
  if (!outdir) {
    process.stderr.write('usage: node libs/console/build.cjs <outdir>\n');
    process.exit(2);
  }
  buildConsole(outdir).then(
    (result) => process.stdout.write(`${formatSizes(result)}\n`),
    (error) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
