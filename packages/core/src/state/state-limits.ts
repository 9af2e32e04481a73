/**
 * The settings a state is made from and the limits it keeps. Limits are
 * never changed in place: states made from the same settings share one
 * object until a setter gives a state its own.
 */
import { DEFAULT_MAX_BUFFERED_INPUT, DEFAULT_MAX_QUEUED_MESSAGES, DEFAULT_MAX_QUEUED_OUTPUT, DEFAULT_MAX_READ } from '../options/defaults.js';

/** Settings every state creator accepts; see `StateOptions`. */
export interface StateSettings {
  readTimeout: number | null;
  writeTimeout: number | null;
  userInfo: unknown;
  name: unknown;
  queueOutput: boolean;
  maxQueuedOutput: number;
  maxBufferedInput: number;
}

/** The limits and timeouts of a state (seconds for timeouts, bytes or counts for the rest). */
export interface StateLimits {
  readonly readTimeout: number | null;
  readonly writeTimeout: number | null;
  readonly maxRead: number;
  readonly maxQueuedOutput: number;
  readonly maxBufferedInput: number;
  readonly maxQueuedMessages: number;
}

const sharedLimits = new WeakMap<StateSettings, StateLimits>();

const DEFAULT_LIMITS: StateLimits = Object.freeze({
  readTimeout: null,
  writeTimeout: null,
  maxRead: DEFAULT_MAX_READ,
  maxQueuedOutput: DEFAULT_MAX_QUEUED_OUTPUT,
  maxBufferedInput: DEFAULT_MAX_BUFFERED_INPUT,
  maxQueuedMessages: DEFAULT_MAX_QUEUED_MESSAGES,
});

/**
 * The limits of states made from `settings`: the defaults are one object for
 * every state; other settings get one object for all the states made from
 * them (e.g. every state of one accepting handle).
 */
export function limitsOf(settings: StateSettings): StateLimits {
  if (
    settings.readTimeout === null &&
    settings.writeTimeout === null &&
    settings.maxQueuedOutput === DEFAULT_MAX_QUEUED_OUTPUT &&
    settings.maxBufferedInput === DEFAULT_MAX_BUFFERED_INPUT
  ) {
    return DEFAULT_LIMITS;
  }
  let limits = sharedLimits.get(settings);
  if (limits === undefined) {
    limits = {
      readTimeout: settings.readTimeout,
      writeTimeout: settings.writeTimeout,
      maxRead: DEFAULT_MAX_READ,
      maxQueuedOutput: settings.maxQueuedOutput,
      maxBufferedInput: settings.maxBufferedInput,
      maxQueuedMessages: DEFAULT_MAX_QUEUED_MESSAGES,
    };
    sharedLimits.set(settings, limits);
  }
  return limits;
}

/** The settings used when a creator's options leave one out. */
export const DEFAULT_STATE_SETTINGS: Readonly<StateSettings> = Object.freeze({
  readTimeout: null,
  writeTimeout: null,
  userInfo: null,
  name: null,
  queueOutput: false,
  maxQueuedOutput: DEFAULT_MAX_QUEUED_OUTPUT,
  maxBufferedInput: DEFAULT_MAX_BUFFERED_INPUT,
});
