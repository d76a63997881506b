// Bundles each daemon (daemons/*.ts) into one ESM file at dist/daemons/<name>.js, replacing the
// per-module output of tsc at the same path, so every launcher (package.json "bin", the lab, the
// image, the manifests, the tests) runs the bundle without knowing it. Run by `npm run build`
// after tsc; tsc still type-checks everything and emits the modules that tests and benches import.
//
// Why: a daemon built by tsc loads ~300 files through Node's module loader; one file loads in
// about two thirds of the time and with less memory (figures in ARCHITECTURE.md, "Build").
//
// Left outside the bundle (loaded from node_modules at run time):
// - etcd3 finds its .proto files from its own __dirname, which a bundle does not have;
// - @grpc/grpc-js and @grpc/proto-loader, because etcd3 loads them too, and two copies of
//   grpc-js in one process would double its memory and break instanceof checks;
// - the native socket-option addon (*.node), loaded by path with createRequire.
import { chmodSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entries = readdirSync(join(root, 'daemons'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => join(root, 'daemons', f));

const started = Date.now();
await build({
  entryPoints: entries,
  outdir: join(root, 'dist', 'daemons'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  // Whitespace and syntax only: names stay, so stack traces stay readable (and map back to the
  // TypeScript with --enable-source-maps). The source is kept in memory as a string: ~2 MB less.
  minifyWhitespace: true,
  minifySyntax: true,
  // The dependencies' license notices go to <name>.js.LEGAL.txt next to each bundle.
  legalComments: 'external',
  external: ['etcd3', '@grpc/grpc-js', '@grpc/proto-loader', '*.node'],
  // CommonJS dependencies inside an ESM bundle call require() for Node's built-ins.
  banner: { js: "import { createRequire as __ternCreateRequire } from 'node:module'; const require = __ternCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
// Each bundle starts with its entry's `#!/usr/bin/env -S node <flags>` line and is run directly
// by the image's wrappers; esbuild keeps the mode of a file tsc already wrote (0644).
for (const e of entries) chmodSync(join(root, 'dist', 'daemons', e.slice(e.lastIndexOf('/') + 1).replace(/\.ts$/, '.js')), 0o755);
console.log(`bundle: ${entries.length} daemons in ${Date.now() - started} ms`);
