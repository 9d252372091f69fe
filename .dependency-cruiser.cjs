/**
 * EventFlow's layers, checked by `npm run lint:layers` (part of `npm test`, hence CI). The README's
 * Architecture section says the same in words; change both together.
 *
 *   shared/      the kernel: messaging, database, HTTP, auth and event machinery; knows no service
 *   functions/   the services and the function catalog, built on shared/
 *   local/ lib/ bench/ scripts/ bin/ test/ web/   the local runtime, the CDK app and the tools, on top
 */
const TOP = '^(local|lib|bench|scripts|bin|test|web)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'kernel-knows-no-service',
      comment: 'shared/ is the ground floor: it imports nothing from the services, the runtime, the CDK app or the tools.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: ['^functions/', TOP] },
    },
    {
      name: 'services-below-the-runtime',
      comment: 'What ships to Lambda (functions/) never imports the local runtime, the CDK app or the tools.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: TOP },
    },
    {
      name: 'services-talk-through-events',
      comment: 'A service never imports another service\'s code: they share only the kernel and the catalog.',
      severity: 'error',
      from: { path: '^functions/([^/]+)/' },
      to: { path: '^functions/[^/]+/', pathNot: '^functions/$1/' },
    },
    {
      name: 'decisions-are-pure',
      comment: 'functions/<service>/domain/ decides without I/O: no database, broker, Redis, network, file system, configuration or handler code.',
      severity: 'error',
      from: { path: '^functions/[^/]+/domain/' },
      to: {
        path: [
          '^shared/(db|messaging|redis\\.ts|config\\.ts|http|observability\\.ts|logger\\.ts)',
          '^functions/[^/]+/(?!domain/)',
          '^node_modules/(pg|amqplib|ioredis|@aws-sdk|@middy)/',
          '^(fs|net|http|https|child_process|dgram|dns|tls)$',
        ],
      },
    },
    {
      name: 'the-runtime-is-not-a-tool',
      comment: 'The local runtime and the CDK app do not import benchmarks or tests.',
      severity: 'error',
      from: { path: '^(local|lib)/' },
      to: { path: '^(bench|test)/' },
    },
    {
      name: 'no-circular',
      comment: 'Modules import each other in one direction only (type-only imports aside: they vanish at build time).',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-unresolvable',
      comment: 'Every import resolves.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^(cdk\\.out|node_modules|web/(\\.next|out|node_modules))/', '^web/next-env\\.d\\.ts$'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json', '.d.ts'] },
  },
};
