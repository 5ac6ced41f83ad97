// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'

const KIVUKO = join(import.meta.dirname, '..', '..', 'bin', 'kivuko.js')

describe('kivuko dfsp: configuration errors', () => {
  it('reports a bad KIVUKO_DFSP_REQUEST_SESSIONS_MAX with every other problem and exits 2, without a stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kivuko-cli-'))
    try {
      const run = spawnSync(process.execPath, [KIVUKO, 'dfsp', '--id', 'bank', '--switch', 'http://127.0.0.1:1', '--currency', 'XXQ'], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, KIVUKO_STORE: join(dir, 'bank.db'), KIVUKO_DFSP_ILP_SECRET: 'a-secret-of-16-chars', KIVUKO_DFSP_REQUEST_SESSIONS_MAX: 'many' },
      })
      assert.equal(run.status, 2, run.stderr)
      assert.match(run.stderr, /requestSessionsMax must be a whole number from 1 to 10000000/)
      assert.match(run.stderr, /currency "XXQ" is not an ISO 4217 code/)
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
  it('reports a JWS key file that is missing or is not a private key, and exits 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kivuko-cli-'))
    try {
      for (const [file, content] of [[join(dir, 'absent.pem'), undefined], [join(dir, 'public.pem'), 'not a key']] as const) {
        if (content !== undefined) writeFileSync(file, content)
        const run = spawnSync(process.execPath, [KIVUKO, 'dfsp', '--id', 'bank', '--switch', 'http://127.0.0.1:1'], {
          encoding: 'utf8',
          timeout: 30_000,
          env: { ...process.env, KIVUKO_STORE: join(dir, 'bank.db'), KIVUKO_DFSP_ILP_SECRET: 'a-secret-of-16-chars', KIVUKO_DFSP_JWS_KEY_FILE: file },
        })
        assert.equal(run.status, 2, run.stderr)
        assert.match(run.stderr, new RegExp(`KIVUKO_DFSP_JWS_KEY_FILE ${file.replaceAll('.', '\\.')}: `))
        assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace')
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
