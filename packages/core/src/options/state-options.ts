/** The options every function that creates states accepts, and their defaults. */
import { checkBoolean, checkByteLimit, checkSeconds, type CheckedOptions } from './validate.js';
import { DEFAULT_STATE_SETTINGS, type StateSettings } from '../state/async-io-state.js';

/** Options shared by every state creator. */
export interface StateOptions {
  /** Seconds a read may go without progress; `null` for no limit. @default null */
  readTimeout?: number | null;
  /** Seconds a write may take; `null` for no limit. @default null */
  writeTimeout?: number | null;
  /** Any value, kept in `state.userInfo`. @default null */
  userInfo?: unknown;
  /** Any value, shown when the state is printed. */
  name?: unknown;
  /** Overlapping writes queue (true) or throw (false). @default false (true for UDP) */
  queueOutput?: boolean;
  /** Bytes of writes not yet completed the state accepts. @default 16 MiB */
  maxQueuedOutput?: number;
  /** Bytes received and not consumed the state holds before a read fails. @default 16 MiB */
  maxBufferedInput?: number;
}

/** The keys of StateOptions. */
export const STATE_OPTION_KEYS = ['readTimeout', 'writeTimeout', 'userInfo', 'name', 'queueOutput', 'maxQueuedOutput', 'maxBufferedInput'] as const;

/** Reads the state options out of already key-checked `options`. */
export function resolveStateSettings(o: CheckedOptions, overrides: Partial<StateSettings> = {}): StateSettings {
  const base = { ...DEFAULT_STATE_SETTINGS, ...overrides };
  return {
    readTimeout: o['readTimeout'] === undefined ? base.readTimeout : checkSeconds(o['readTimeout'], 'options.readTimeout'),
    writeTimeout: o['writeTimeout'] === undefined ? base.writeTimeout : checkSeconds(o['writeTimeout'], 'options.writeTimeout'),
    userInfo: 'userInfo' in o ? o['userInfo'] : base.userInfo,
    name: 'name' in o ? o['name'] : base.name,
    queueOutput: checkBoolean(o['queueOutput'], 'options.queueOutput', base.queueOutput),
    maxQueuedOutput: checkByteLimit(o['maxQueuedOutput'], 'options.maxQueuedOutput', base.maxQueuedOutput),
    maxBufferedInput: checkByteLimit(o['maxBufferedInput'], 'options.maxBufferedInput', base.maxBufferedInput),
  };
}
