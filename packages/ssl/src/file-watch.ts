/**
 * Watching the files of a context so it reloads when they change. The
 * directories are watched (not the files): certificate renewals usually
 * replace files by renaming, which a watch on the old file would miss.
 * Changes are gathered for a short while, so that a key and a certificate
 * written one after the other are reloaded together.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Milliseconds of quiet after a change before reloading. */
const SETTLE_MS = 50;

/** Watches `files`; calls `onChange` (debounced) when any of them changes. Returns the stopper. */
export function watchFiles(files: readonly string[], onChange: () => void): () => void {
  const byDir = new Map<string, Set<string>>();
  for (const file of files) {
    const absolute = path.resolve(file);
    const dir = path.dirname(absolute);
    let names = byDir.get(dir);
    if (names === undefined) byDir.set(dir, (names = new Set()));
    names.add(path.basename(absolute));
  }
  let timer: NodeJS.Timeout | null = null;
  const fire = (): void => {
    timer = null;
    onChange();
  };
  const watchers: fs.FSWatcher[] = [];
  for (const [dir, names] of byDir) {
    const watcher = fs.watch(dir, { persistent: false }, (_event, name) => {
      if (name !== null && !names.has(name)) return;
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(fire, SETTLE_MS);
      timer.unref();
    });
    watcher.on('error', () => {
      // The directory went away: nothing more to watch there.
    });
    watchers.push(watcher);
  }
  return () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    for (const watcher of watchers.splice(0)) watcher.close();
  };
}
