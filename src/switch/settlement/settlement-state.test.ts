// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConflictError } from '../../core/errors.ts'
import {
  SETTLEMENT_EVENTS,
  SETTLEMENT_STATES,
  WINDOW_EVENTS,
  WINDOW_STATES,
  nextSettlementState,
  nextWindowState,
  settlementStatesAllowing,
  windowStatesAllowing,
  type SettlementEvent,
  type SettlementState,
  type WindowEvent,
  type WindowState,
} from './settlement-state.ts'

/** Every cell of the window table, written out: a state and event missing here is an illegal move. */
const WINDOW_EXPECTED: Readonly<Record<WindowState, Partial<Record<WindowEvent, WindowState>>>> = {
  OPEN: { close: 'CLOSED' },
  CLOSED: { include: 'PENDING_SETTLEMENT' },
  PENDING_SETTLEMENT: { settle: 'SETTLED', release: 'CLOSED' },
  SETTLED: {},
}

const SETTLEMENT_EXPECTED: Readonly<Record<SettlementState, Partial<Record<SettlementEvent, SettlementState>>>> = {
  PENDING_SETTLEMENT: { start: 'SETTLING', abort: 'ABORTED' },
  SETTLING: { complete: 'SETTLED' },
  SETTLED: {},
  ABORTED: {},
}

describe('settlement window transitions', () => {
  for (const from of WINDOW_STATES) {
    for (const event of WINDOW_EVENTS) {
      const to = WINDOW_EXPECTED[from][event]
      it(`${from} --${event}--> ${to ?? 'ConflictError'}`, () => {
        if (to === undefined) {
          assert.throws(
            () => nextWindowState(from, event),
            (error: unknown) => error instanceof ConflictError && error.code === 'INVALID_STATE' && error.spec.http === 409,
          )
        } else {
          assert.equal(nextWindowState(from, event), to)
        }
      })
    }
  }

  it('lists, for each event, exactly the states it may leave from', () => {
    for (const event of WINDOW_EVENTS) {
      assert.deepEqual(
        windowStatesAllowing(event),
        WINDOW_STATES.filter((s) => WINDOW_EXPECTED[s][event] !== undefined),
      )
    }
  })

  it('has SETTLED as its only final state, and every state reachable from OPEN', () => {
    const reached = new Set<WindowState>(['OPEN'])
    for (let grew = true; grew; ) {
      grew = false
      for (const from of [...reached]) {
        for (const event of WINDOW_EVENTS) {
          const to = WINDOW_EXPECTED[from][event]
          if (to !== undefined && !reached.has(to)) {
            reached.add(to)
            grew = true
          }
        }
      }
    }
    assert.deepEqual([...reached].sort(), [...WINDOW_STATES].sort())
    assert.deepEqual(
      WINDOW_STATES.filter((s) => Object.keys(WINDOW_EXPECTED[s]).length === 0),
      ['SETTLED'],
    )
  })
})

describe('settlement transitions', () => {
  for (const from of SETTLEMENT_STATES) {
    for (const event of SETTLEMENT_EVENTS) {
      const to = SETTLEMENT_EXPECTED[from][event]
      it(`${from} --${event}--> ${to ?? 'ConflictError'}`, () => {
        if (to === undefined) {
          assert.throws(
            () => nextSettlementState(from, event),
            (error: unknown) => error instanceof ConflictError && error.code === 'INVALID_STATE',
          )
        } else {
          assert.equal(nextSettlementState(from, event), to)
        }
      })
    }
  }

  it('lists, for each event, exactly the states it may leave from', () => {
    for (const event of SETTLEMENT_EVENTS) {
      assert.deepEqual(
        settlementStatesAllowing(event),
        SETTLEMENT_STATES.filter((s) => SETTLEMENT_EXPECTED[s][event] !== undefined),
      )
    }
  })
})
