/** How an operation's promise is settled (once; later calls are ignored). */
export interface Settle<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
  /** True once resolved or rejected. */
  readonly settled: boolean;
}
