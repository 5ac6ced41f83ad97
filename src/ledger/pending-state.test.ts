// SPDX-License-Identifier: Apache-2.0
/**
 * The pending transfer's transition table, cell by cell: every state × every event, so that adding a state
 * or an edge fails here until the test says what the new cell should be.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PENDING_TRANSITIONS, nextPendingState, type PendingEvent } from './pending-state.ts'
import type { PendingState } from './types.ts'

const STATES: readonly PendingState[] = ['pending', 'posted', 'voided', 'expired']
const EVENTS: readonly PendingEvent[] = ['post', 'void', 'expire']

/** The expected table, written out in full: undefined is an illegal move. */
const EXPECTED: { readonly [S in PendingState]: { readonly [E in PendingEvent]: PendingState | undefined } } = {
  pending: { post: 'posted', void: 'voided', expire: 'expired' },
  posted: { post: undefined, void: undefined, expire: undefined },
  voided: { post: undefined, void: undefined, expire: undefined },
  expired: { post: undefined, void: undefined, expire: undefined },
}

describe('pending transfer transition table', () => {
  it('has a row for exactly the four pending states', () => {
    assert.deepEqual(Object.keys(PENDING_TRANSITIONS).sort(), [...STATES].sort())
  })

  it('names only known events and known target states', () => {
    for (const state of STATES) {
      for (const [event, to] of Object.entries(PENDING_TRANSITIONS[state])) {
        assert.ok((EVENTS as readonly string[]).includes(event), `${state} has an edge for unknown event ${event}`)
        assert.ok(to !== undefined && STATES.includes(to), `${state} --${event}--> ${String(to)} is not a state`)
      }
    }
  })

  for (const from of STATES) {
    for (const event of EVENTS) {
      const expected = EXPECTED[from][event]
      it(`${from} × ${event} → ${expected ?? 'illegal'}`, () => {
        assert.equal(nextPendingState(from, event), expected)
        assert.equal(PENDING_TRANSITIONS[from][event], expected)
      })
    }
  }

  it('leaves every resolved state terminal: nothing moves out of posted, voided or expired', () => {
    for (const from of STATES.filter((s) => s !== 'pending')) {
      assert.deepEqual(PENDING_TRANSITIONS[from], {}, `${from} must have no edges`)
    }
  })

  it('never moves a transfer back to pending', () => {
    for (const from of STATES) for (const event of EVENTS) assert.notEqual(nextPendingState(from, event), 'pending')
  })
})
