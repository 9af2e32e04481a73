/**
 * A forked helper process of the memory driver, spoken to over IPC: send a
 * request, await the next reply of a given type (bounded in time).
 */
import { fork, type ChildProcess } from 'node:child_process';

interface Waiter {
  type: string;
  resolve: (message: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** One helper process. */
export class Child<Request, Reply extends { type: string }> {
  readonly #process: ChildProcess;
  readonly #waiters: Waiter[] = [];
  readonly #label: string;
  #exited = false;

  constructor(script: string, args: string[], execArgv: string[], label: string) {
    this.#label = label;
    this.#process = fork(script, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#process.on('message', (message: Reply) => {
      const at = this.#waiters.findIndex((w) => w.type === message.type);
      if (at < 0) return;
      const [waiter] = this.#waiters.splice(at, 1) as [Waiter];
      clearTimeout(waiter.timer);
      waiter.resolve(message);
    });
    this.#process.on('exit', (code, signal) => {
      this.#exited = true;
      for (const waiter of this.#waiters.splice(0)) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error(`${this.#label} exited (${signal ?? code}) while a '${waiter.type}' reply was awaited`));
      }
    });
  }

  /** The process id. */
  get pid(): number {
    return this.#process.pid ?? -1;
  }

  /** Awaits the next reply of `type` (sending `request` first, if given), for at most `seconds`. */
  ask<T extends Reply['type']>(request: Request | null, type: T, seconds: number): Promise<Extract<Reply, { type: T }>> {
    return new Promise((resolve, reject) => {
      if (this.#exited) {
        reject(new Error(`${this.#label} has exited`));
        return;
      }
      const timer = setTimeout(() => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        reject(new Error(`${this.#label}: no '${type}' reply within ${seconds} s`));
      }, seconds * 1000);
      const waiter: Waiter = { type, resolve: resolve as (message: unknown) => void, reject, timer };
      this.#waiters.push(waiter);
      if (request !== null) this.#process.send(request as object);
    });
  }

  /** Sends a request that gets no reply. */
  tell(request: Request): void {
    if (!this.#exited && this.#process.connected) this.#process.send(request as object);
  }

  /** Waits up to `seconds` for the process to exit, then kills it. */
  async stop(seconds = 5): Promise<void> {
    if (this.#exited) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#process.kill('SIGKILL');
      }, seconds * 1000);
      this.#process.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      if (this.#exited) {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  /** Kills the process at once. */
  kill(): void {
    if (!this.#exited) this.#process.kill('SIGKILL');
  }
}
