/**
 * Running the examples as child processes, from their TypeScript sources
 * (through tsx and the `commio-source` condition, as the suite runs
 * everything: no build needed, never a stale build).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';

/** The repository's root: the examples run from there. */
const root = fileURLToPath(new URL('../..', import.meta.url));

/** A running example. */
export interface Example {
  child: ChildProcessWithoutNullStreams;
  /** Everything printed on stdout so far. */
  stdout(): string;
  /** Everything printed on stderr so far. */
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout. */
  waitForOutput(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `examples/<file>` with `args`; killed (if still running) when the test ends. */
export function runExample(t: ExecutionContext, file: string, args: string[], input?: string | Buffer): Example {
  const child = spawn(process.execPath, ['--import=tsx', '--conditions=commio-source', `examples/${file}`, ...args], {
    cwd: root,
    env: { ...process.env, DEBUG: '' },
  });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  const poke = (): void => {
    for (const waiter of waiters.splice(0)) waiter();
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    poke();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      poke();
      resolve({ code, signal });
    });
  });
  if (input !== undefined) child.stdin.end(input);
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const waitForOutput = (pattern: RegExp): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const match = pattern.exec(out);
        if (match !== null) resolve(match);
        else if (child.exitCode !== null || child.signalCode !== null) {
          reject(new Error(`${file} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}; stdout: ${out}; stderr: ${err}`));
        } else waiters.push(check);
      };
      check();
    });
  return { child, stdout: () => out, stderr: () => err, waitForOutput, exited };
}

/** Checks that the first ts block after README.md's `## heading` is `examples/<file>` from its first `import {` on. */
export function checkReadmeShows(t: ExecutionContext, heading: string, file: string): void {
  const source = readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8');
  const body = source.slice(source.indexOf('import {'));
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = new RegExp(`## ${heading}[\\s\\S]*?\`\`\`ts\n([\\s\\S]*?)\`\`\``).exec(readme);
  t.truthy(block, `README.md has a ${heading} section with a ts block`);
  t.is(block?.[1], body);
}
