// pnpm docs: the API reference of every package under packages/, generated
// from the doc comments into .tmp/docs (git-ignored). Every exported name
// must have a doc comment: a missing one fails the build.
/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  entryPointStrategy: 'packages',
  entryPoints: ['packages/*'],
  out: '.tmp/docs',
  name: 'commio API reference',
  readme: 'none',
  treatWarningsAsErrors: true,
  packageOptions: {
    // Each package's public entry points come from its package.json exports
    // ("./internal" of @commio/core is a seam between the packages, not API).
    entryPoints: ['src/index.ts'],
    readme: 'README.md',
    excludePrivate: true,
    excludeProtected: true,
    validation: { notExported: true, invalidLink: true, notDocumented: true },
  },
};
