// SPDX-License-Identifier: Apache-2.0
/**
 * The outbox message's transition table, cell by cell: every state × every event, so that adding a state or
 * an edge fails here until the test says what the new cell should be.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConflictError } from '../../core/errors.ts'
import {
  DELIVERY_EVENTS,
  DELIVERY_STATES,
  DELIVERY_TRANSITIONS,
  OPEN_STATES,
  deliveryTransition,
  isDeliveryState,
  nextDeliveryState,
  statesAllowing,
  type DeliveryEvent,
  type DeliveryState,
} from './delivery-state.ts'

/** The expected table, written out in full: undefined is an illegal move. */
const EXPECTED: { readonly [S in DeliveryState]: { readonly [E in DeliveryEvent]: DeliveryState | undefined } } = {
  PENDING: { claim: 'SENDING', reclaim: undefined, accept: undefined, retry: undefined, reject: undefined, exhaust: undefined },
  SENDING: { claim: undefined, reclaim: 'SENDING', accept: 'DELIVERED', retry: 'PENDING', reject: 'FAILED', exhaust: 'FAILED_UNREACHABLE' },
  DELIVERED: { claim: undefined, reclaim: undefined, accept: undefined, retry: undefined, reject: undefined, exhaust: undefined },
  FAILED: { claim: undefined, reclaim: undefined, accept: undefined, retry: undefined, reject: undefined, exhaust: undefined },
  FAILED_UNREACHABLE: { claim: undefined, reclaim: undefined, accept: undefined, retry: undefined, reject: undefined, exhaust: undefined },
}

describe('outbox delivery transition table', () => {
  it('has a row for exactly the five delivery states', () => {
    assert.deepEqual(Object.keys(DELIVERY_TRANSITIONS).sort(), [...DELIVERY_STATES].sort())
    assert.deepEqual(Object.keys(EXPECTED).sort(), [...DELIVERY_STATES].sort())
  })

  it('names only known events and known target states', () => {
    for (const state of DELIVERY_STATES) {
      for (const [event, to] of Object.entries(DELIVERY_TRANSITIONS[state])) {
        assert.ok((DELIVERY_EVENTS as readonly string[]).includes(event), `${state} has an edge for unknown event ${event}`)
        assert.ok(to !== undefined && isDeliveryState(to), `${state} --${event}--> ${String(to)} is not a state`)
      }
    }
  })

  for (const from of DELIVERY_STATES) {
    for (const event of DELIVERY_EVENTS) {
      const expected = EXPECTED[from][event]
      it(`${from} × ${event} → ${expected ?? 'illegal'}`, () => {
        assert.equal(DELIVERY_TRANSITIONS[from][event], expected)
        assert.equal(nextDeliveryState(from, event), expected)
        if (expected === undefined) {
          assert.throws(
            () => deliveryTransition(from, event),
            (error: unknown) => error instanceof ConflictError && error.code === 'INVALID_STATE',
          )
        } else {
          assert.equal(deliveryTransition(from, event), expected)
        }
      })
    }
  }

  it('keeps DELIVERED, FAILED and FAILED_UNREACHABLE final: nothing moves out of them', () => {
    for (const state of ['DELIVERED', 'FAILED', 'FAILED_UNREACHABLE'] as const) assert.deepEqual(DELIVERY_TRANSITIONS[state], {}, `${state} must have no edges`)
  })

  it('sends nothing twice once delivered: no edge leads out of DELIVERED, and only a 2xx leads in', () => {
    for (const from of DELIVERY_STATES) {
      for (const event of DELIVERY_EVENTS) {
        if (nextDeliveryState(from, event) === 'DELIVERED') assert.deepEqual([from, event], ['SENDING', 'accept'])
      }
    }
  })

  it('derives the open states (those that hold back later messages of a correlation) from the table', () => {
    assert.deepEqual(OPEN_STATES, ['PENDING', 'SENDING'])
  })

  it('gives the compare-and-set of each event exactly the states the table allows it from', () => {
    const expected: Record<DeliveryEvent, DeliveryState[]> = {
      claim: ['PENDING'],
      reclaim: ['SENDING'],
      accept: ['SENDING'],
      retry: ['SENDING'],
      reject: ['SENDING'],
      exhaust: ['SENDING'],
    }
    for (const event of DELIVERY_EVENTS) assert.deepEqual(statesAllowing(event), expected[event], event)
  })

  it('recognises state names exactly', () => {
    for (const state of DELIVERY_STATES) assert.ok(isDeliveryState(state))
    for (const other of ['pending', 'RETRYING', '', 'DELIVERED ']) assert.ok(!isDeliveryState(other), other)
  })
})
