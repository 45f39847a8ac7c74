// Two jest projects: the provider's unit tests (src/**/*.test.ts, no server) and the
// integration spec, which boots a real Medusa on the test PostgreSQL beside a sandbox proxy.
const transform = {
  "^.+\\.[jt]s$": ["@swc/jest", { jsc: { parser: { syntax: "typescript", decorators: true }, target: "es2021" } }],
}

module.exports = {
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      transform,
      testMatch: ["<rootDir>/src/**/*.test.ts"],
      modulePathIgnorePatterns: ["<rootDir>/dist/"],
    },
    {
      displayName: "integration",
      testEnvironment: "node",
      transform,
      testMatch: ["<rootDir>/integration-tests/**/*.spec.ts"],
      modulePathIgnorePatterns: ["<rootDir>/dist/"],
      setupFiles: ["<rootDir>/integration-tests/setup.js"],
    },
  ],
}
