/**
 * @commio/native: an optional plain-TCP transport for commio, built from C at
 * install. `loadNative()` returns the addon, or `null` with the reason in
 * `nativeUnavailableReason` (also logged under `DEBUG=commio:native`); commio
 * then keeps to its Node transport and nothing else changes.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import createDebug from 'debug';
import type { NativeBinding } from './binding-types.js';

export * from './binding-types.js';
import { NativeLoop } from './native-loop.js';
export { NativeLoop, type NativeListenerSink, type NativeSocketSink, type NativeSocketOptions } from './native-loop.js';
export { errnoError } from './errno-error.js';

const debug = createDebug('commio:native');
const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Why the native transport cannot be used in this process, or `null` when it
 * loaded (or was not asked for yet). Set by `loadNative()`.
 */
export let nativeUnavailableReason: string | null = null;

let loaded: NativeBinding | null | undefined;

/** Where the addon is looked for: `COMMIO_NATIVE_PATH` (a sanitizer build, say) or `build/` of this package. */
export function nativeAddonPath(): string {
  return process.env['COMMIO_NATIVE_PATH'] ?? path.join(packageDir, 'build', 'commio_native.node');
}

function buildFailure(addon: string): string | null {
  try {
    return readFileSync(path.join(path.dirname(addon), 'UNAVAILABLE.txt'), 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * The addon, loaded once per process; `null` when it is unavailable (not
 * Linux, not built, or it failed to load), with the reason in
 * `nativeUnavailableReason`. Never throws.
 */
export function loadNative(): NativeBinding | null {
  if (loaded !== undefined) return loaded;
  const addon = nativeAddonPath();
  try {
    if (process.platform !== 'linux') throw new Error(`the native transport is for Linux; this is ${process.platform}`);
    const required: unknown = createRequire(import.meta.url)(addon);
    if (typeof required !== 'object' || required === null || typeof (required as Record<string, unknown>)['init'] !== 'function') {
      throw new Error(`${addon} is not the commio addon`);
    }
    loaded = required as NativeBinding;
    nativeUnavailableReason = null;
    debug('loaded %s', addon);
  } catch (error) {
    const failure = buildFailure(addon);
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    nativeUnavailableReason = failure !== null ? `the build failed: ${failure}` : `could not load ${addon}: ${message}`;
    if (failure === null && (error as { code?: unknown }).code === 'MODULE_NOT_FOUND') {
      nativeUnavailableReason = `not built: run 'pnpm build:native' (${addon} is missing)`;
    }
    debug('unavailable, using the Node transport: %s', nativeUnavailableReason);
    loaded = null;
  }
  return loaded;
}

/**
 * Where the one loop is kept: on the global object, because the addon can
 * be initialized once per process (or worker) while this module may be
 * loaded twice (once through `import`, once through `require`, as core
 * loads it on demand).
 */
const loopKey = Symbol.for('@commio/native.loop');
type LoopHolder = { [loopKey]?: NativeLoop };

/** The process's one `NativeLoop` (made on first use), or `null` when the addon is unavailable. */
export function nativeLoop(): NativeLoop | null {
  const holder = globalThis as LoopHolder;
  const existing = holder[loopKey];
  if (existing !== undefined) return existing;
  const binding = loadNative();
  if (binding === null) return null;
  const loop = new NativeLoop(binding);
  holder[loopKey] = loop;
  return loop;
}

