/**
 * Argument and option validation shared by every public function. Each
 * checker throws `InvalidArgumentError` naming the argument's path
 * (`options.initTimeout`) before anything is opened, and returns the value
 * narrowed to its type.
 */
import { InvalidArgumentError } from '../errors.js';

/** A plain options object after its keys were checked. */
export type CheckedOptions = Readonly<Record<string, unknown>>;

const EMPTY: CheckedOptions = Object.freeze({});

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'function') return 'a function';
  return `a value of type ${typeof value}`;
}

/**
 * Checks that `options` is absent or a plain object whose keys all belong to
 * `allowed` (an unknown key, such as the typo `initTimout`, is an error).
 */
export function checkOptions(options: unknown, allowed: ReadonlySet<string>, name = 'options'): CheckedOptions {
  if (options === undefined) return EMPTY;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(name, `must be an object, got ${describe(options)}`);
  }
  // for-in rather than Object.keys: no array per call (options are checked on every operation).
  for (const key in options) {
    if (Object.hasOwn(options, key) && !allowed.has(key)) {
      throw new InvalidArgumentError(`${name}.${key}`, `is not a known option (known: ${[...allowed].join(', ')})`);
    }
  }
  return options as CheckedOptions;
}

/** A duration in seconds (fractions allowed), `null` for none; returns it unchanged. */
export function checkSeconds(value: unknown, name: string): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(name, `must be a non-negative number of seconds or null, got ${describe(value)}`);
  }
  if (value > 2_147_483) {
    throw new InvalidArgumentError(name, `must be at most 2147483 seconds (about 24.8 days), got ${value}`);
  }
  return value;
}

/** Like `checkSeconds`, but `undefined` (not supplied) passes through. */
export function optionalSeconds(value: unknown, name: string): number | null | undefined {
  return value === undefined ? undefined : checkSeconds(value, name);
}

/** Seconds to whole milliseconds for a timer (at least 1 ms for any positive value). */
export function secondsToMs(seconds: number): number {
  return seconds <= 0 ? 0 : Math.max(1, Math.round(seconds * 1000));
}

/** A boolean; `undefined` gives `fallback`. */
export function checkBoolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(name, `must be a boolean, got ${describe(value)}`);
  return value;
}

/** An integer in `[min, max]`; `undefined` gives `fallback`. */
export function checkInteger(value: unknown, name: string, min: number, max: number, fallback: number): number;
export function checkInteger(value: unknown, name: string, min: number, max: number, fallback?: undefined): number | undefined;
export function checkInteger(value: unknown, name: string, min: number, max: number, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(name, `must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

/** A function (required). */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- callers name the function type they expect back
export function checkFunction<F extends (...args: never[]) => unknown>(value: unknown, name: string): F {
  if (typeof value !== 'function') throw new InvalidArgumentError(name, `must be a function, got ${describe(value)}`);
  return value as F;
}

/** An optional function: `undefined` and `null` both mean none. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- callers name the function type they expect back
export function optionalFunction<F extends (...args: never[]) => unknown>(value: unknown, name: string): F | null {
  if (value === undefined || value === null) return null;
  return checkFunction<F>(value, name);
}

/** One of the listed keywords (string literals or `true`/`false`); `undefined` gives `fallback`. */
export function checkKeyword<K extends string | boolean>(value: unknown, name: string, allowed: readonly K[], fallback: K): K;
export function checkKeyword<K extends string | boolean>(value: unknown, name: string, allowed: readonly K[], fallback?: undefined): K | undefined;
export function checkKeyword<K extends string | boolean>(value: unknown, name: string, allowed: readonly K[], fallback?: K): K | undefined {
  if (value === undefined) return fallback;
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw new InvalidArgumentError(name, `must be one of ${allowed.map((k) => JSON.stringify(k)).join(', ')}, got ${describe(value)}`);
  }
  return value as K;
}

/** A byte buffer: any `Uint8Array` (a `Buffer` is one) or an `Int8Array`. */
export function checkBuffer(value: unknown, name: string): Uint8Array | Int8Array {
  if (!(value instanceof Uint8Array) && !(value instanceof Int8Array)) {
    throw new InvalidArgumentError(name, `must be a Uint8Array or Buffer, got ${describe(value)}`);
  }
  return value;
}

/** `[start, end)` inside a buffer of `length` bytes, with the defaults `0` and `length`. */
export function checkRange(startValue: unknown, endValue: unknown, length: number, prefix = 'options'): [number, number] {
  const start = checkInteger(startValue, `${prefix}.start`, 0, length, 0);
  const end = checkInteger(endValue, `${prefix}.end`, 0, length, length);
  if (end < start) throw new InvalidArgumentError(`${prefix}.end`, `must not be less than start (${start}), got ${end}`);
  return [start, end];
}

/** A non-negative byte count limit. */
export function checkByteLimit(value: unknown, name: string, fallback: number): number {
  return checkInteger(value, name, 1, Number.MAX_SAFE_INTEGER, fallback);
}

/** A TCP/UDP port number `0..65535`. */
export function checkPort(value: unknown, name: string): number {
  const port = checkInteger(value, name, 0, 65535);
  if (port === undefined) invalid(name, 'a port number from 0 to 65535', value);
  return port;
}

/** A non-empty string. */
export function checkString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(name, `must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

/** Throws the standard "must be ..." error for `name`. */
export function invalid(name: string, expected: string, value: unknown): never {
  throw new InvalidArgumentError(name, `must be ${expected}, got ${describe(value)}`);
}

/** Builds the set of option keys a function accepts. */
export function keys(...names: string[]): ReadonlySet<string> {
  return new Set(names);
}
