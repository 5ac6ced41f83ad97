// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConflictError } from '../../core/errors.ts'
import { TRANSFER_TRANSITIONS, nextTransferState, type TransferEvent, type TransferState } from './transfer-state.ts'

const STATES: readonly TransferState[] = ['RECEIVED', 'RESERVED', 'COMMITTED', 'ABORTED']
const EVENTS: readonly TransferEvent[] = ['reserve', 'reject', 'commit', 'fail', 'expire']

/** Every cell of the table, written out: reference §4.1's diagram. */
const EXPECTED: Record<TransferState, Record<TransferEvent, TransferState | null>> = {
  RECEIVED: { reserve: 'RESERVED', reject: 'ABORTED', commit: null, fail: 'ABORTED', expire: 'ABORTED' },
  RESERVED: { reserve: null, reject: null, commit: 'COMMITTED', fail: 'ABORTED', expire: 'ABORTED' },
  COMMITTED: { reserve: null, reject: null, commit: null, fail: null, expire: null },
  ABORTED: { reserve: null, reject: null, commit: null, fail: null, expire: null },
}

describe('transfer transition table', () => {
  for (const from of STATES) {
    for (const event of EVENTS) {
      const to = EXPECTED[from][event]
      it(`${from} --${event}--> ${to ?? 'refused'}`, () => {
        if (to === null) assert.throws(() => nextTransferState(from, event), ConflictError)
        else assert.equal(nextTransferState(from, event), to)
      })
    }
  }

  it('has no state or event the table above does not cover', () => {
    assert.deepEqual(Object.keys(TRANSFER_TRANSITIONS).sort(), [...STATES].sort())
    for (const from of STATES) for (const event of Object.keys(TRANSFER_TRANSITIONS[from])) assert.ok(EVENTS.includes(event as TransferEvent))
  })

  it('COMMITTED and ABORTED are final', () => {
    assert.deepEqual(TRANSFER_TRANSITIONS.COMMITTED, {})
    assert.deepEqual(TRANSFER_TRANSITIONS.ABORTED, {})
  })
})
