#!/usr/bin/env bash
# pnpm test:packages: every package under packages/ as a user gets it.
#  1. `pnpm pack` each package (workspace versions become real ranges);
#     publint and @arethetypeswrong/cli (ESM-only profile) check each one.
#  2. plain `npm install` of the tarballs into an empty project outside the
#     workspace (only the packages' own dependencies come from the registry).
#  3. typecheck a consumer against the installed types with skipLibCheck off,
#     under moduleResolution node16 and bundler: every export of every
#     package, and the README's quick start.
#  4. run the quick start and import every export from the installed packages.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
work=$(mktemp -d "${TMPDIR:-/tmp}/commio-packages.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tarballs" "$work/project"
step() { echo "== packages ($SECONDS s): $*" >&2; }

# The Node.js that runs the consumer: this one while the packages' engines
# admit it, else the newest supported line.
if [ "$(node scripts/admits.mjs)" = yes ]; then
  run_node=$(command -v node)
else
  lines=$(cat scripts/node-lines.txt)
  run_node=$(scripts/node-line.sh "${lines##* }")
fi

pnpm run -s build

step "pack, publint, attw"
packages=()
for dir in packages/*/; do
  [ -f "$dir/package.json" ] || continue
  [ "$(node -p "require('./${dir}package.json').private === true")" = false ] || continue
  packages+=("${dir%/}")
  (cd "$dir" && pnpm pack --pack-destination "$work/tarballs" >/dev/null 2>"$work/pack.log") || { cat "$work/pack.log" >&2; exit 1; }
done
for tarball in "$work"/tarballs/*.tgz; do
  for file in package/LICENSE package/CHANGELOG.md package/README.md; do
    tar -tzf "$tarball" "$file" >/dev/null 2>&1 || { echo "$(basename "$tarball") has no $file" >&2; exit 1; }
  done
  "$root/node_modules/.bin/publint" run --strict "$tarball" | { grep -v '^Linting\|^Unpacking' || true; } >&2
  "$root/node_modules/.bin/attw" --profile esm-only --format ascii --quiet "$tarball" || {
    "$root/node_modules/.bin/attw" --profile esm-only --format ascii "$tarball" >&2
    exit 1
  }
done

step "npm install of ${#packages[@]} tarballs into an empty project"
cd "$work/project"
types_node=$(node -p "require('$root/node_modules/@types/node/package.json').version")
cat >package.json <<'JSON'
{ "name": "commio-consumer", "private": true, "type": "module" }
JSON
npm install --prefer-offline --no-audit --no-fund --loglevel=error \
  "$work"/tarballs/*.tgz "@types/node@$types_node" >/dev/null

# A module that imports every export path of every package, and the quick start.
node --input-type=module >all-exports.ts - "$root" "${packages[@]}" <<'JS'
import { readFileSync } from 'node:fs';
const [root, ...dirs] = process.argv.slice(2);
let n = 0;
for (const dir of dirs) {
  const pkg = JSON.parse(readFileSync(`${root}/${dir}/package.json`, 'utf8'));
  const paths = typeof pkg.exports === 'object' && !('types' in pkg.exports) ? Object.keys(pkg.exports) : ['.'];
  for (const path of paths.filter((p) => !p.includes('*'))) {
    const specifier = pkg.name + path.slice(1);
    console.log(`import * as m${n} from '${specifier}';`);
    console.log(`if (Object.keys(m${n}).length === 0) throw new Error('${specifier}: no exports');`);
    n += 1;
  }
}
console.log(`console.log('imported ${n} export paths');`);
JS
cp "$root/examples/quick-start.ts" quick-start.ts
cat >tsconfig.node16.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022", "module": "node16", "moduleResolution": "node16",
    "strict": true, "exactOptionalPropertyTypes": true, "skipLibCheck": false,
    "types": ["node"], "outDir": "out"
  },
  "files": ["all-exports.ts", "quick-start.ts"]
}
JSON
cat >tsconfig.bundler.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022", "module": "preserve", "moduleResolution": "bundler",
    "strict": true, "skipLibCheck": false, "types": ["node"], "noEmit": true
  },
  "files": ["all-exports.ts", "quick-start.ts"]
}
JSON
tsc=$root/node_modules/typescript/bin/tsc
step "typecheck against the installed types (skipLibCheck: false): node16"
node "$tsc" -p tsconfig.node16.json
step "typecheck against the installed types (skipLibCheck: false): bundler"
node "$tsc" -p tsconfig.bundler.json

step "run from the installed packages on Node.js $("$run_node" --version)"
"$run_node" out/all-exports.js
answer=$(timeout 30 "$run_node" out/quick-start.js)
[ "$answer" = HELLO ] || { echo "quick start printed '$answer', not HELLO" >&2; exit 1; }
echo "quick start: $answer" >&2
step "ok: ${packages[*]}"
