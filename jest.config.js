/** Tests run through @swc/jest (no type-check: `npm run typecheck` does that). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  // ESM-only signer used as a real third-party producer of GitHub signatures.
  transformIgnorePatterns: ['/node_modules/(?!@octokit/webhooks-methods)'],
  // Its package exports only an ESM "import" condition, which jest's CommonJS resolver does not pick.
  moduleNameMapper: { '^@octokit/webhooks-methods$': '<rootDir>/node_modules/@octokit/webhooks-methods/dist-node/index.js' },
  setupFilesAfterEnv: ['aws-sdk-client-mock-jest'],
  testTimeout: 60_000,
};
