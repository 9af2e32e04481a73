/**
 * Logging through `debug`. Namespaces: `commio:collection`, `commio:state`,
 * `commio:accept`, `commio:connect`, `commio:udp`, `commio:ssl`, `commio:transport`.
 * `DEBUG=commio:*` shows the life of every state and handle. Only counts are
 * ever logged, never payload bytes.
 */
import { inspect } from 'node:util';
import createDebug from 'debug';

/** The parts of commio that log, one `debug` namespace each. */
export type LogArea = 'collection' | 'state' | 'accept' | 'connect' | 'udp' | 'ssl' | 'transport';

/**
 * A logger for one area: call it printf-style; check `.enabled` before costly
 * formatting. Declared here rather than as `debug`'s own type so that the
 * published declarations need no `@types/debug` on the user's side.
 */
export interface Logger {
  (formatter: string, ...args: unknown[]): void;
  /** Whether `DEBUG` selects this area's namespace right now. */
  readonly enabled: boolean;
}

/** The logger of `area` (namespace `commio:<area>`). */
export function logger(area: LogArea): Logger {
  return createDebug(`commio:${area}`);
}

/**
 * Any value as text for messages and logs, never throwing: names and thrown
 * values are user data, and some cannot be converted to strings (an object
 * without a prototype, a throwing `toString`).
 */
export function printable(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return String(value);
  } catch {
    try {
      return inspect(value, { depth: 0 });
    } catch {
      return '#<unprintable>';
    }
  }
}
