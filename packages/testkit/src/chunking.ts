/**
 * How an in-memory connection splits the bytes one side writes into the
 * pieces the other side receives: fixed sizes in turn, or sizes drawn from
 * a small seeded generator, so an incremental parser meets every split and
 * a failing split can be replayed from its seed.
 */
import { InvalidArgumentError } from '@commio/core';

/**
 * The piece sizes of an in-memory connection, in bytes:
 * - `number[]`: the sizes in turn, cycled (`[1]`: byte by byte);
 * - `{ seed, min?, max? }`: sizes drawn uniformly from `[min, max]`
 *   (defaults 1 and 64) by a generator seeded with `seed`: the same seed
 *   gives the same sizes, run after run.
 *
 * Pieces are cut from the byte stream, across write boundaries (two small
 * writes may arrive as one piece, one write as many), and a piece never
 * waits for more bytes: when fewer are in the pipe than the next size, they
 * come as a shorter piece. Without chunking, whatever is in the pipe comes
 * as one piece.
 */
export type Chunking =
  | readonly number[]
  | {
      /** Seed of the piece-size generator: the same seed gives the same splits. */
      readonly seed: number;
      /** Smallest piece, in bytes. @default 1 */
      readonly min?: number;
      /** Largest piece, in bytes. @default 64 */
      readonly max?: number;
    };

/** Default bounds of random piece sizes, in bytes. */
const DEFAULT_MIN = 1;
const DEFAULT_MAX = 64;
/** Largest piece size accepted (a piece is one Buffer). */
const MAX_SIZE = 0x7fffffff;

/** Gives the size of each next piece of one direction of a connection. */
export interface PieceSizes {
  /** The largest size the next piece may have (`Infinity`: no split). */
  next(): number;
}

const UNSPLIT: PieceSizes = { next: () => Infinity };

class CycledSizes implements PieceSizes {
  readonly #sizes: readonly number[];
  #index = 0;

  constructor(sizes: readonly number[]) {
    this.#sizes = sizes;
  }

  next(): number {
    const size = this.#sizes[this.#index] as number;
    this.#index = (this.#index + 1) % this.#sizes.length;
    return size;
  }
}

/** Sizes from a 32-bit xorshift generator: small, fast and replayable. */
class SeededSizes implements PieceSizes {
  readonly #min: number;
  readonly #span: number;
  #state: number;

  constructor(seed: number, min: number, max: number) {
    this.#min = min;
    this.#span = max - min + 1;
    // Xorshift never leaves zero: a zero seed gets a fixed non-zero state.
    this.#state = seed >>> 0 || 0x9e3779b9;
  }

  next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#min + (this.#state % this.#span);
  }
}

function isSize(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_SIZE;
}

/**
 * Checks `chunking` (throws `ERR_COMMIO_INVALID_ARGUMENT`) and returns a
 * maker of piece-size sequences: `direction` 0 and 1 get different
 * sequences from one seed, so both directions are split, differently.
 */
export function checkChunking(chunking: unknown, name = 'options.chunking'): (direction: 0 | 1) => PieceSizes {
  if (chunking === undefined || chunking === null) return () => UNSPLIT;
  if (Array.isArray(chunking)) {
    const sizes: unknown[] = chunking;
    if (sizes.length === 0 || !sizes.every(isSize)) {
      throw new InvalidArgumentError(name, `must be a non-empty array of sizes from 1 to ${MAX_SIZE} bytes`);
    }
    const copy = sizes.slice();
    return () => new CycledSizes(copy);
  }
  if (typeof chunking !== 'object') throw new InvalidArgumentError(name, 'must be an array of sizes or { seed, min?, max? }');
  const { seed, min = DEFAULT_MIN, max = DEFAULT_MAX, ...rest } = chunking as { seed?: unknown; min?: unknown; max?: unknown };
  const unknownKey = Object.keys(rest)[0];
  if (unknownKey !== undefined) throw new InvalidArgumentError(`${name}.${unknownKey}`, 'is not an option');
  if (!Number.isInteger(seed)) throw new InvalidArgumentError(`${name}.seed`, 'must be an integer');
  if (!isSize(min)) throw new InvalidArgumentError(`${name}.min`, `must be an integer from 1 to ${MAX_SIZE}`);
  if (!isSize(max) || max < min) throw new InvalidArgumentError(`${name}.max`, `must be an integer from min to ${MAX_SIZE}`);
  const base = seed as number;
  // The second direction's seed differs by a fixed odd constant.
  return (direction) => new SeededSizes(direction === 0 ? base : base ^ 0x5bd1e995, min, max);
}
