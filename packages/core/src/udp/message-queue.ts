/**
 * The datagrams (and socket errors) a UDP state received while no receive
 * was waiting for them, oldest first. Bounded in count and in payload bytes:
 * past either bound the oldest entries are dropped and counted, so a peer
 * that sends faster than the program receives never grows memory without
 * limit. A lone entry is always kept, whatever its size (a datagram is at
 * most 64 KiB).
 */
import type { RemoteInfo } from 'node:dgram';

/** One received datagram's sender, as Node.js reports it. */
export type SenderInfo = RemoteInfo;

/** FIFO of received datagrams and errors with drop-oldest bounds. */
export class MessageQueue {
  // A ring of parallel slots, so an entry costs no object of its own: the
  // payload (or the error) and the sender info Node.js already made for it.
  #payloads: (Buffer | Error | undefined)[] = [];
  #senders: (SenderInfo | null | undefined)[] = [];
  #head = 0;
  #size = 0;
  #bytes = 0;
  #dropped = 0;

  /** Entries waiting. */
  get size(): number {
    return this.#size;
  }

  /** Payload bytes waiting (errors count as 0). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Entries dropped so far because a bound was reached. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Appends a datagram (or, with `sender` null, an error), first dropping the
   * oldest entries until it fits in `maxCount` entries and `maxBytes` payload
   * bytes. Returns how many were dropped.
   */
  push(payload: Buffer | Error, sender: SenderInfo | null, maxCount: number, maxBytes: number): number {
    const length = payload instanceof Error ? 0 : payload.length;
    let dropped = 0;
    while (this.#size > 0 && (this.#size + 1 > maxCount || this.#bytes + length > maxBytes)) {
      this.#removeHead();
      dropped++;
    }
    this.#dropped += dropped;
    if (this.#size === this.#payloads.length) this.#grow();
    const at = (this.#head + this.#size) % this.#payloads.length;
    this.#payloads[at] = payload;
    this.#senders[at] = sender;
    this.#size++;
    this.#bytes += length;
    return dropped;
  }

  /** The oldest payload (or error); `undefined` when empty. */
  peekPayload(): Buffer | Error | undefined {
    return this.#size === 0 ? undefined : this.#payloads[this.#head];
  }

  /** The oldest entry's sender (`null` for an error); `undefined` when empty. */
  peekSender(): SenderInfo | null | undefined {
    return this.#size === 0 ? undefined : this.#senders[this.#head];
  }

  /** Removes the oldest entry (taken by a receive). */
  shift(): void {
    if (this.#size > 0) this.#removeHead();
  }

  /** Forgets every entry (the state closed). */
  clear(): void {
    this.#payloads = [];
    this.#senders = [];
    this.#head = 0;
    this.#size = 0;
    this.#bytes = 0;
  }

  #removeHead(): void {
    const payload = this.#payloads[this.#head];
    if (payload !== undefined && !(payload instanceof Error)) this.#bytes -= payload.length;
    this.#payloads[this.#head] = undefined;
    this.#senders[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#payloads.length;
    this.#size--;
    if (this.#size === 0) this.#head = 0;
  }

  #grow(): void {
    const oldPayloads = this.#payloads;
    const oldSenders = this.#senders;
    const capacity = Math.max(8, oldPayloads.length * 2);
    const payloads: (Buffer | Error | undefined)[] = new Array<Buffer | Error | undefined>(capacity).fill(undefined);
    const senders: (SenderInfo | null | undefined)[] = new Array<SenderInfo | null | undefined>(capacity).fill(undefined);
    for (let i = 0; i < this.#size; i++) {
      const from = (this.#head + i) % oldPayloads.length;
      payloads[i] = oldPayloads[from];
      senders[i] = oldSenders[from];
    }
    this.#payloads = payloads;
    this.#senders = senders;
    this.#head = 0;
  }
}
