// Builds the addon at install with the machine's C compiler and the headers
// that ship with Node.js itself; nothing is downloaded. A failed build never
// fails the install: it prints why, leaves the reason in build/UNAVAILABLE.txt
// for the loader to report, and commio keeps using its Node transport.
//
//   node scripts/build.mjs            # build/commio_native.node
//   CC=clang COMMIO_NATIVE_CFLAGS='-fsanitize=address,undefined -g' \
//   COMMIO_NATIVE_OUT=build-sanitize node scripts/build.mjs --strict
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.resolve(packageDir, process.env.COMMIO_NATIVE_OUT ?? 'build');
const strict = process.argv.includes('--strict');

function fail(reason) {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'UNAVAILABLE.txt'), `${reason}\n`);
  console.warn(`@commio/native: not built (${reason}); commio uses its Node transport`);
  process.exit(strict ? 1 : 0);
}

if (process.platform !== 'linux') fail(`the native transport is for Linux; this is ${process.platform}`);

const candidates = [
  process.env.COMMIO_NATIVE_INCLUDE,
  path.resolve(process.execPath, '../../include/node'),
  '/usr/include/node',
  '/usr/local/include/node',
].filter((dir) => typeof dir === 'string' && dir.length > 0);
const include = candidates.find((dir) => existsSync(path.join(dir, 'node_api.h')) && existsSync(path.join(dir, 'uv.h')));
if (include === undefined) fail(`node_api.h and uv.h not found in ${candidates.join(', ')}`);

const sources = readdirSync(path.join(packageDir, 'src'))
  .filter((name) => name.endsWith('.c'))
  .map((name) => path.join(packageDir, 'src', name));
const extra = (process.env.COMMIO_NATIVE_CFLAGS ?? '').split(/\s+/).filter((flag) => flag.length > 0);
const output = path.join(outDir, 'commio_native.node');
const args = ['-O2', '-shared', '-fPIC', '-std=gnu11', '-Wall', '-Wextra', '-Werror', `-I${include}`, ...extra, '-o', output, ...sources];
const compiler = process.env.CC ?? 'cc';

mkdirSync(outDir, { recursive: true });
rmSync(path.join(outDir, 'UNAVAILABLE.txt'), { force: true });
rmSync(output, { force: true }); // never leave a stale addon beside a failed build
try {
  execFileSync(compiler, args, { stdio: ['ignore', 'inherit', 'pipe'] });
} catch (error) {
  if (error?.code === 'ENOENT') fail(`no C compiler: '${compiler}' was not found (install one, e.g. apt-get install gcc)`);
  const stderr = error?.stderr ? String(error.stderr).trim() : '';
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  fail(`${compiler} failed: ${stderr.length > 0 ? stderr.split('\n').slice(0, 5).join(' | ') : message}`);
}
console.log(`@commio/native: built ${path.relative(process.cwd(), output)} (headers from ${include})`);
