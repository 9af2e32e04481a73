/**
 * Child process of the faulty-callback test for `handler: null`: every throw
 * of a callback becomes an uncaught exception, which this process counts
 * instead of dying; it prints the outcome as one JSON line.
 */
import { runFaultyScenario, Planted } from './attack-faulty.js';

const uncaught: Record<string, number> = {};
let foreign: string | null = null;
process.on('uncaughtException', (error) => {
  if (error instanceof Planted) uncaught[error.where] = (uncaught[error.where] ?? 0) + 1;
  else foreign = error.stack ?? String(error);
});

const outcome = await runFaultyScenario(null);
// Uncaught exceptions are raised on a later tick: let the last ones arrive.
await new Promise((resolve) => setTimeout(resolve, 50));
process.stdout.write(JSON.stringify({ ...outcome, uncaught, foreign }) + '\n');
