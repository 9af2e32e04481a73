/**
 * Child process of the faulty-callback test for `handler: null`: every throw
 * of a callback becomes an uncaught exception, which this process counts
 * instead of dying; it prints the outcome as one JSON line.
 */
import { runFaultyScenario, Planted } from './attack-faulty.js';

const uncaught: Record<string, number> = {};
let foreign: string | null = null;
let arrived: (() => void) | null = null;
process.on('uncaughtException', (error) => {
  if (error instanceof Planted) uncaught[error.where] = (uncaught[error.where] ?? 0) + 1;
  else foreign = error.stack ?? String(error);
  arrived?.();
});

const outcome = await runFaultyScenario(null);
// Uncaught exceptions are raised on later turns of the loop (a busy machine
// spreads them out): wait until every throw came back as one. The deadline
// only keeps a missing one from hanging the test; the parent then fails it.
const allArrived = (): boolean => Object.entries(outcome.thrown).every(([where, n]) => (uncaught[where] ?? 0) >= n);
if (!allArrived()) {
  await new Promise<void>((resolve) => {
    const deadline = setTimeout(resolve, 10_000);
    arrived = () => {
      if (!allArrived()) return;
      clearTimeout(deadline);
      resolve();
    };
  });
}
process.stdout.write(JSON.stringify({ ...outcome, uncaught, foreign }) + '\n');
