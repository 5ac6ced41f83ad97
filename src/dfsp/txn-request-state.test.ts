// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConflictError } from '../core/errors.ts'
import {
  nextPayeeRequestState,
  nextPayerRequestState,
  PAYEE_REQUEST_EVENTS,
  PAYEE_REQUEST_STATES,
  PAYEE_REQUEST_TRANSITIONS,
  PAYER_REQUEST_EVENTS,
  PAYER_REQUEST_STATES,
  PAYER_REQUEST_TRANSITIONS,
  type PayeeRequestEvent,
  type PayeeRequestState,
  type PayerRequestEvent,
  type PayerRequestState,
} from './txn-request-state.ts'

const _ = undefined

/** Every cell, written out: undefined means the event is refused from that state. */
const PAYEE: Record<PayeeRequestState, Record<PayeeRequestEvent, PayeeRequestState | undefined>> = {
  REQUESTED: { challenge: 'AWAITING_AUTHORIZATION', submit: _, prepare: _, commit: _, reject: 'REJECTED', fail: 'FAILED', refund: _ },
  AWAITING_AUTHORIZATION: { challenge: 'AWAITING_AUTHORIZATION', submit: 'AUTHORIZING', prepare: _, commit: _, reject: 'REJECTED', fail: 'FAILED', refund: _ },
  AUTHORIZING: { challenge: 'AWAITING_AUTHORIZATION', submit: _, prepare: 'TRANSFERRING', commit: _, reject: 'REJECTED', fail: 'FAILED', refund: _ },
  TRANSFERRING: { challenge: _, submit: _, prepare: _, commit: 'COMMITTED', reject: _, fail: 'FAILED', refund: _ },
  COMMITTED: { challenge: _, submit: _, prepare: _, commit: _, reject: _, fail: _, refund: 'REFUNDED' },
  REJECTED: { challenge: _, submit: _, prepare: _, commit: _, reject: _, fail: _, refund: _ },
  FAILED: { challenge: _, submit: _, prepare: _, commit: _, reject: _, fail: _, refund: _ },
  REFUNDED: { challenge: _, submit: _, prepare: _, commit: _, reject: _, fail: _, refund: _ },
}

const PAYER: Record<PayerRequestState, Record<PayerRequestEvent, PayerRequestState | undefined>> = {
  QUOTING: { challenge: 'AWAITING_AUTHORIZATION', retry: _, authorize: _, commit: _, reject: 'REJECTED' },
  AWAITING_AUTHORIZATION: { challenge: _, retry: 'AWAITING_AUTHORIZATION', authorize: 'TRANSFERRING', commit: _, reject: 'REJECTED' },
  TRANSFERRING: { challenge: _, retry: _, authorize: _, commit: 'COMMITTED', reject: 'REJECTED' },
  COMMITTED: { challenge: _, retry: _, authorize: _, commit: _, reject: _ },
  REJECTED: { challenge: _, retry: _, authorize: _, commit: _, reject: _ },
}

function suite<S extends string, E extends string>(
  name: string,
  states: readonly S[],
  events: readonly E[],
  table: { readonly [K in S]: Partial<Record<E, S>> },
  expected: Record<S, Record<E, S | undefined>>,
  next: (from: S, event: E) => S,
): void {
  describe(name, () => {
    it('lists every state and event', () => {
      assert.deepEqual([...states].sort(), Object.keys(table).sort())
      assert.deepEqual([...states].sort(), Object.keys(expected).sort())
      for (const state of states) assert.deepEqual([...events].sort(), Object.keys(expected[state]).sort())
    })
    for (const from of states) {
      for (const event of events) {
        const to = expected[from][event]
        it(`${from} --${event}--> ${to ?? 'ConflictError'}`, () => {
          if (to === undefined) assert.throws(() => next(from, event), (error: unknown) => error instanceof ConflictError && error.code === 'INVALID_STATE')
          else assert.equal(next(from, event), to)
        })
      }
    }
    it('has no edge the expected table lacks', () => {
      for (const from of states) for (const [event, to] of Object.entries(table[from])) assert.equal(expected[from][event as E], to)
    })
  })
}

suite('payee transaction request transition table', PAYEE_REQUEST_STATES, PAYEE_REQUEST_EVENTS, PAYEE_REQUEST_TRANSITIONS, PAYEE, nextPayeeRequestState)
suite('payer transaction request transition table', PAYER_REQUEST_STATES, PAYER_REQUEST_EVENTS, PAYER_REQUEST_TRANSITIONS, PAYER, nextPayerRequestState)
