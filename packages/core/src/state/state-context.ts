/**
 * What the states made together share: their collection, their close
 * observer (the accepting handle that counts them) and their limits, in one
 * immutable record a state points to with one field. Every state of one
 * accepting handle shares one record; a state that changes a limit, or gets
 * an observer of its own (a drain), gets a copy. An idle connection is one
 * object, and each field of it costs a word per connection: three fields
 * became one.
 */
import type { WaitStateCollection } from '../collection/wait-state-collection.js';
import type { StatsCounters } from '../stats/stats-counters.js';
import { limitsOf, type StateLimits, type StateSettings } from './state-limits.js';

/** Told when a state closes (see `StateShell.closeObserver`). */
export interface CloseObserver {
  /** `state` closed (called once). */
  stateClosed(state: object): void;
  /** The accepting handle's statistics, for an accepted state (an observer chained in front of another passes them on). */
  readonly counters?: StatsCounters | undefined;
}

/** The shared part of a state (see the module comment). Never changed in place. */
export interface StateContext extends StateLimits {
  /** The collection whose loop runs the states' callbacks. */
  readonly collection: WaitStateCollection;
  /** Told once when each state closes; null for none. */
  readonly closeObserver: CloseObserver | null;
}

/** Contexts by limits, per collection: states made from the same settings in one collection share one. */
const byCollection = new WeakMap<WaitStateCollection, WeakMap<StateLimits, StateContext>>();
/** Contexts derived from a context with another observer, by observer (an accepting handle sets the same one on each of its states). */
const withObserverCache = new WeakMap<StateContext, WeakMap<CloseObserver, StateContext>>();

/** The context of a new state of `collection` made from `settings`, with no close observer. */
export function contextOf(collection: WaitStateCollection, settings: StateSettings): StateContext {
  const limits = limitsOf(settings);
  let contexts = byCollection.get(collection);
  if (contexts === undefined) byCollection.set(collection, (contexts = new WeakMap()));
  let context = contexts.get(limits);
  if (context === undefined) {
    context = { ...limits, collection, closeObserver: null };
    contexts.set(limits, context);
  }
  return context;
}

/** `context` with `closeObserver` instead of its own (the same record when it already has it). */
export function withObserver(context: StateContext, closeObserver: CloseObserver | null): StateContext {
  if (context.closeObserver === closeObserver) return context;
  if (closeObserver === null) return { ...context, closeObserver };
  let derived = withObserverCache.get(context);
  if (derived === undefined) withObserverCache.set(context, (derived = new WeakMap()));
  let result = derived.get(closeObserver);
  if (result === undefined) derived.set(closeObserver, (result = { ...context, closeObserver }));
  return result;
}

/** `context` with one limit changed (a new record: the old one stays shared by the other states). */
export function withLimit<K extends keyof StateLimits>(context: StateContext, key: K, value: StateLimits[K]): StateContext {
  return context[key] === value ? context : { ...context, [key]: value };
}
