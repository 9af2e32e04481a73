// Tests are TypeScript, run through tsx, and import the packages' sources
// (the "commio-source" export condition) so no build is needed to run them.
export default {
  files: ['test/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx', '--conditions=commio-source'],
  timeout: '60s',
  workerThreads: false,
};
