// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConflictError } from '../../core/errors.ts'
import { OTP_EVENTS, OTP_STATES, OTP_TRANSITIONS, isLive, nextOtpState, type OtpEvent, type OtpState } from './otp-state.ts'

/** Every cell of the table, written out: undefined means the event is refused from that state. */
const EXPECTED: Record<OtpState, Record<OtpEvent, OtpState | undefined>> = {
  ISSUED: { verify: 'USED', miss: 'ISSUED', exhaust: 'LOCKED', expire: 'EXPIRED', supersede: 'SUPERSEDED', cancel: 'CANCELLED' },
  USED: { verify: undefined, miss: undefined, exhaust: undefined, expire: undefined, supersede: undefined, cancel: undefined },
  EXPIRED: { verify: undefined, miss: undefined, exhaust: undefined, expire: undefined, supersede: undefined, cancel: undefined },
  LOCKED: { verify: undefined, miss: undefined, exhaust: undefined, expire: undefined, supersede: undefined, cancel: undefined },
  SUPERSEDED: { verify: undefined, miss: undefined, exhaust: undefined, expire: undefined, supersede: undefined, cancel: undefined },
  CANCELLED: { verify: undefined, miss: undefined, exhaust: undefined, expire: undefined, supersede: undefined, cancel: undefined },
}

describe('OTP transition table', () => {
  it('lists every state and event', () => {
    assert.deepEqual([...OTP_STATES].sort(), Object.keys(OTP_TRANSITIONS).sort())
    assert.deepEqual([...OTP_STATES].sort(), Object.keys(EXPECTED).sort())
  })

  for (const from of OTP_STATES) {
    for (const event of OTP_EVENTS) {
      const expected = EXPECTED[from][event]
      it(`${from} --${event}--> ${expected ?? 'ConflictError'}`, () => {
        if (expected === undefined) {
          assert.throws(() => nextOtpState(from, event), (error: unknown) => error instanceof ConflictError && error.code === 'INVALID_STATE')
        } else {
          assert.equal(nextOtpState(from, event), expected)
        }
      })
    }
  }

  it('has no edge the expected table lacks', () => {
    for (const from of OTP_STATES) {
      for (const [event, to] of Object.entries(OTP_TRANSITIONS[from])) assert.equal(EXPECTED[from][event as OtpEvent], to)
    }
  })

  it('only ISSUED is live', () => {
    assert.deepEqual(
      OTP_STATES.filter((state) => isLive(state)),
      ['ISSUED'],
    )
  })
})
