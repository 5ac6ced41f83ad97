// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { CREATE_TRANSFER_STATUSES, TRANSFER_STATUS_ERRORS } from './statuses.ts'

const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'errors.md'), 'utf8')

describe('ledger statuses', () => {
  it('maps and documents every ledger transfer status', () => {
    assert.deepEqual(Object.keys(TRANSFER_STATUS_ERRORS).sort(), [...CREATE_TRANSFER_STATUSES].sort())
    for (const status of CREATE_TRANSFER_STATUSES) {
      assert.ok(DOC.includes(`| \`${status}\` |`), `${status} is in docs/errors.md`)
      const code = TRANSFER_STATUS_ERRORS[status]
      assert.equal(code === null, status === 'created' || status === 'exists', status)
    }
  })

})
