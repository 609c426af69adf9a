/**
 * How long a heavy test may take (a million codes, a hostile file, a property run, processes
 * racing): generous, because CI and reviewers run the suite on loaded 2-core machines. How fast
 * the package is, is measured by `npm run bench` against a baseline, never by a test's timeout.
 */
export const HEAVY_TEST_MS = 300_000;
