/** Tests run through @swc/jest (no type-check: `npm run typecheck` does that). */
// The SDK warns on Node 20 that releases after January 2027 need Node 22; Lambda runs 22, CI runs 20 (see docs/decisions.md).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  // ESM-only packages (middy, and the GitHub signer used as an independent producer of signatures).
  transformIgnorePatterns: ['/node_modules/(?!(@octokit/webhooks-methods|@middy)/)'],
  // Its package exports only an ESM "import" condition, which jest's CommonJS resolver does not pick.
  moduleNameMapper: { '^@octokit/webhooks-methods$': '<rootDir>/node_modules/@octokit/webhooks-methods/dist-node/index.js' },
  setupFilesAfterEnv: ['aws-sdk-client-mock-jest'],
  testTimeout: 60_000,
};
