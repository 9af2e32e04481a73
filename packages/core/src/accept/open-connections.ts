/**
 * The connections an accepting handle made that are still open: its states,
 * its raw sockets (`createState: false`) and the connections whose PROXY
 * header is being read. Every one counts against `maxConnections` until it
 * closes; drain (drain.ts) waits for them and closes what is left.
 *
 * The states are counted, not kept in a set of their own: they all live in
 * the handle's collection, whose member list finds them when they are asked
 * for (a drain, a statistics snapshot: rare), by the statistics their close
 * observer carries (the handle's, passed on by an observer chained in front).
 */
import type net from 'node:net';
import { AsyncIoState } from '../state/async-io-state.js';
import type { WaitStateCollection } from '../collection/wait-state-collection.js';
import type { ConnectionLimit } from './connection-limit.js';
import { StatsCounters } from '../stats/stats-counters.js';
import { connectionAccepted } from '../stats/accept-events.js';

/** Something that wants to hear when one of the handle's connections closes (a drain). */
export interface ClosingWatcher {
  connectionClosed(): void;
}

/** A connection in its PROXY header phase: it can only be abandoned. */
export interface HeaderPhase {
  abandon(): void;
}

const kOpen = Symbol('commio.openConnections');
type SocketWithOpen = net.Socket & { [kOpen]?: OpenConnections | undefined };

function onRawSocketClose(this: net.Socket): void {
  const open = (this as SocketWithOpen)[kOpen];
  if (open === undefined) return;
  (this as SocketWithOpen)[kOpen] = undefined;
  open.socketClosed(this);
}

/** The open connections of one accepting handle. */
export class OpenConnections {
  readonly #limit: ConnectionLimit | null;
  readonly #home: WaitStateCollection;
  #stateCount = 0;
  readonly #sockets = new Set<net.Socket>();
  readonly #headers = new Set<HeaderPhase>();
  /** Told of every close (set while a drain waits). */
  watcher: ClosingWatcher | null = null;
  /** The handle's statistics (stats/). */
  readonly counters = new StatsCounters();
  /** The statistics of the handle's collection. */
  readonly collectionCounters: StatsCounters;

  constructor(limit: ConnectionLimit | null, home: WaitStateCollection, collectionCounters: StatsCounters) {
    this.#limit = limit;
    this.#home = home;
    this.collectionCounters = collectionCounters;
  }

  /** States and raw sockets open now (connections still in their PROXY header phase not included). */
  get count(): number {
    return this.#stateCount + this.#sockets.size;
  }

  /** The open states, a snapshot. */
  states(): AsyncIoState[] {
    const states: AsyncIoState[] = [];
    for (const member of this.#home.members()) {
      if (member instanceof AsyncIoState && member.closeObserver?.counters === this.counters) states.push(member);
    }
    return states;
  }

  /** The open raw sockets, a snapshot. */
  sockets(): net.Socket[] {
    return [...this.#sockets];
  }

  /** A connection entered its PROXY header phase. */
  trackHeader(phase: HeaderPhase): void {
    this.#headers.add(phase);
    this.#limit?.connectionOpened();
  }

  /** Its header phase is over: it becomes a state next (`continues`), or it was destroyed. */
  headerOver(phase: HeaderPhase, continues: boolean): void {
    if (!this.#headers.delete(phase)) return;
    if (!continues) this.#limit?.connectionClosed();
  }

  /** Destroys every connection still in its header phase (a drain: they never became connections). */
  abandonHeaders(): void {
    const phases = [...this.#headers];
    for (const phase of phases) {
      this.headerOver(phase, false);
      phase.abandon();
    }
  }

  /** A state was made for an accepted connection (`counted`: it was counted in its header phase already). */
  trackState(state: AsyncIoState, counted = false): void {
    state.closeObserver = this;
    connectionAccepted(this);
    this.#stateCount++;
    if (!counted) this.#limit?.connectionOpened();
  }

  /** A raw socket was handed over: open until its `close` event. */
  trackSocket(socket: net.Socket): void {
    (socket as SocketWithOpen)[kOpen] = this;
    socket.once('close', onRawSocketClose);
    connectionAccepted(this);
    this.#sockets.add(socket);
    this.#limit?.connectionOpened();
  }

  /** @internal Close observer of the tracked states. */
  stateClosed(): void {
    // Called once per tracked state (the state clears its observer first).
    this.#stateCount--;
    this.#closed();
  }

  /** @internal A tracked raw socket closed. */
  socketClosed(socket: net.Socket): void {
    if (!this.#sockets.delete(socket)) return;
    this.counters.open--;
    this.#closed();
  }

  #closed(): void {
    this.#limit?.connectionClosed();
    this.watcher?.connectionClosed();
  }
}
