// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { ERROR_CATALOG, ERROR_CODES } from './error-catalog.ts'
import { HubError, ValidationError } from './errors.ts'

const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'errors.md'), 'utf8')

describe('error catalogue', () => {
  it('maps every code to a four-digit FSPIOP code of the right category, an HTTP status and a description', () => {
    for (const code of ERROR_CODES) {
      const spec = ERROR_CATALOG[code]
      assert.match(spec.fspiop, /^[1-5]\d{3}$/, code)
      assert.ok(spec.http >= 400 && spec.http <= 599, code)
      assert.ok(spec.description.length > 0 && spec.description.length <= 128, `${code}: FSPIOP errorDescription is 1..128`)
      // FSPIOP: 1xxx/2xxx are server-side, 3xxx–5xxx client-side (reference §6); HTTP must agree.
      const serverSide = spec.fspiop.startsWith('1') || spec.fspiop.startsWith('2')
      assert.equal(spec.http >= 500, serverSide, `${code}: HTTP ${spec.http} for FSPIOP ${spec.fspiop}`)
    }
  })

  it('is documented in docs/errors.md, row for row, and the page lists nothing else', () => {
    const documented = [...DOC.matchAll(/^\| `([A-Z_]+)` \| (\d{4}) \| (\d{3}) \| (yes|no) \|/gm)]
    assert.deepEqual(documented.map((m) => m[1]).sort(), [...ERROR_CODES].sort())
    for (const [, code, fspiop, http, retryable] of documented) {
      const spec = ERROR_CATALOG[code as keyof typeof ERROR_CATALOG]
      assert.equal(fspiop, spec.fspiop, code)
      assert.equal(Number(http), spec.http, code)
      assert.equal(retryable === 'yes', spec.retryable, code)
    }
  })

  it('HubError carries its code, spec and details', () => {
    const error = new ValidationError('amount has too many decimals', { field: 'amount' })
    assert.ok(error instanceof HubError)
    assert.equal(error.name, 'ValidationError')
    assert.equal(error.spec.fspiop, '3100')
    assert.deepEqual(error.details, { field: 'amount' })
  })
})
