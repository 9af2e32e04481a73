/** A child process speaking JSON lines on stdout (and logging on stderr), for the accept tests that need their own process. */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import type { ExecutionContext } from 'ava';

/** A running child: its JSON messages, its stderr lines, and a way to send it commands. */
export interface LineChild {
  readonly process: ChildProcess;
  /** Resolves with the next message (in arrival order) for which `match` holds. */
  next(match: (message: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** Resolves with the first stderr line matching `pattern` (seen already or still to come). */
  stderrLine(pattern: RegExp): Promise<string>;
  send(command: string): void;
}

/** Spawns `command` (with `args`) from the repository root; killed when the test ends. */
export function spawnLineChild(t: ExecutionContext, command: string, args: string[], options: { env?: NodeJS.ProcessEnv; stdio?: (string | number)[] } = {}): LineChild {
  const stdio = (options.stdio ?? ['pipe', 'pipe', 'pipe']) as ('pipe' | number)[];
  const child = spawn(command, args, { cwd: process.cwd(), env: { ...process.env, ...options.env }, stdio });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const messages: Record<string, unknown>[] = [];
  const waiters: { match: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
  const errLines: string[] = [];
  const errWaiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  if (child.stdout !== null) {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(line) as Record<string, unknown>;
      } catch {
        t.log(`child stdout: ${line}`);
        return;
      }
      const waiter = waiters.find((w) => w.match(message));
      if (waiter === undefined) messages.push(message);
      else {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    });
  }
  if (child.stderr !== null) {
    readline.createInterface({ input: child.stderr }).on('line', (line) => {
      errLines.push(line);
      for (const w of [...errWaiters]) {
        if (w.pattern.test(line)) {
          errWaiters.splice(errWaiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    });
  }
  return {
    process: child,
    next(match) {
      const index = messages.findIndex(match);
      if (index >= 0) return Promise.resolve(messages.splice(index, 1)[0] as Record<string, unknown>);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
    stderrLine(pattern) {
      const seen = errLines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => errWaiters.push({ pattern, resolve }));
    },
    send(command) {
      child.stdin?.write(`${command}\n`);
    },
  };
}

/** `node` with the flags the tests run under (TypeScript through tsx, sources through the commio-source condition). */
export const NODE_ARGS = ['--import=tsx', '--conditions=commio-source'];
