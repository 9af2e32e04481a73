// Prints "yes" if the Node.js version given (default: this one) satisfies
// the `engines.node` range of every published package, else "no".
//   node scripts/admits.mjs [v22.12.0]
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';

const root = join(import.meta.dirname, '..');
const version = process.argv[2] ?? process.version;
const ranges = readdirSync(join(root, 'packages'))
  .map((name) => join(root, 'packages', name, 'package.json'))
  .filter((file) => existsSync(file))
  .map((file) => JSON.parse(readFileSync(file, 'utf8')))
  .filter((pkg) => pkg.private !== true)
  .map((pkg) => pkg.engines?.node ?? '*');
console.log(ranges.every((range) => semver.satisfies(version, range)) ? 'yes' : 'no');
