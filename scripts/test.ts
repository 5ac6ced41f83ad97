// SPDX-License-Identifier: Apache-2.0
/**
 * `npm test`: every unit test beside the code and every suite in test/, on Node's test runner. The
 * PostgreSQL variants run when KIVUKO_TEST_POSTGRES_URL is given; this says so once when it is not.
 * Extra arguments are passed to `node --test` (e.g. a file or --test-name-pattern).
 */
import { spawn } from 'node:child_process'

const args = process.argv.slice(2)
const files = args.some((a) => !a.startsWith('-')) ? [] : ['src/**/*.test.ts', 'test/**/*.test.ts']
if (process.env.KIVUKO_TEST_POSTGRES_URL === undefined) {
  process.stdout.write(
    'note: KIVUKO_TEST_POSTGRES_URL is not set, so the PostgreSQL suites are skipped (they say so).\n' +
      '      e.g. KIVUKO_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test npm test\n',
  )
}
const child = spawn(process.execPath, ['--test', '--test-reporter=spec', ...args, ...files], {
  stdio: 'inherit',
  env: { ...process.env, KIVUKO_TEST_QUIET: '1' },
})
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal === null ? 1 : 128)
})
