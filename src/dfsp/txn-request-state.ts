// SPDX-License-Identifier: Apache-2.0
/**
 * A payee-initiated transaction request with OTP (reference §7), as each side keeps it: one transition
 * table per role (STYLE §2.5). The FSPIOP messages that drive them are named per event.
 *
 * Payee DFSP (the ATM's or merchant's bank, which sent POST /transactionRequests):
 *   REQUESTED               POST /transactionRequests sent; waiting for the payer FSP's quote and challenge
 *   AWAITING_AUTHORIZATION  a GET /authorizations came: the device shows the amount and asks for the OTP
 *   AUTHORIZING             PUT /authorizations ENTERED or RESEND sent; waiting for the payer FSP's word
 *   TRANSFERRING            the POST /transfers came and was answered RESERVED; waiting for the PATCH
 *   COMMITTED               PATCH COMMITTED: the credit is posted, the device may dispense
 *   REJECTED                the payer FSP (or the customer at the device) said no
 *   FAILED                  the transfer was aborted, or a step did not answer in time
 *   REFUNDED                committed, then given back with a REFUND transfer (the dispense failed)
 *
 * Payer DFSP (the customer's wallet, which owns the OTP and the retry count):
 *   QUOTING                 answered RECEIVED; POST /quotes sent
 *   AWAITING_AUTHORIZATION  GET /authorizations sent; waiting for PUT /authorizations
 *   TRANSFERRING            the OTP was right: funds held, POST /transfers sent
 *   COMMITTED · REJECTED    final
 */
import { ConflictError } from '../core/errors.ts'

export type PayeeRequestState = 'REQUESTED' | 'AWAITING_AUTHORIZATION' | 'AUTHORIZING' | 'TRANSFERRING' | 'COMMITTED' | 'REJECTED' | 'FAILED' | 'REFUNDED'
/**
 * challenge  GET /authorizations arrived (first, after a wrong OTP, or after a resend)
 * submit     the device's OTP, a RESEND or a REJECTED went out as PUT /authorizations
 * prepare    POST /transfers for the request's quote arrived and was answered RESERVED
 * commit     PATCH COMMITTED
 * reject     PUT /transactionRequests REJECTED or its /error, or the customer rejected at the device
 * fail       the transfer was aborted, or the payer FSP went quiet
 * refund     the REFUND transfer committed
 */
export type PayeeRequestEvent = 'challenge' | 'submit' | 'prepare' | 'commit' | 'reject' | 'fail' | 'refund'

export const PAYEE_REQUEST_STATES: readonly PayeeRequestState[] = ['REQUESTED', 'AWAITING_AUTHORIZATION', 'AUTHORIZING', 'TRANSFERRING', 'COMMITTED', 'REJECTED', 'FAILED', 'REFUNDED']
export const PAYEE_REQUEST_EVENTS: readonly PayeeRequestEvent[] = ['challenge', 'submit', 'prepare', 'commit', 'reject', 'fail', 'refund']

export const PAYEE_REQUEST_TRANSITIONS: { readonly [S in PayeeRequestState]: Partial<Record<PayeeRequestEvent, PayeeRequestState>> } = {
  REQUESTED: { challenge: 'AWAITING_AUTHORIZATION', reject: 'REJECTED', fail: 'FAILED' },
  // A repeated GET (the payer FSP's resend) changes nothing.
  AWAITING_AUTHORIZATION: { challenge: 'AWAITING_AUTHORIZATION', submit: 'AUTHORIZING', reject: 'REJECTED', fail: 'FAILED' },
  // A challenge here is the payer FSP's "wrong OTP, try again" (or the fresh GET after a RESEND).
  AUTHORIZING: { challenge: 'AWAITING_AUTHORIZATION', prepare: 'TRANSFERRING', reject: 'REJECTED', fail: 'FAILED' },
  // Funds are reserved at the switch: only its word (PATCH) ends this; the payer can no longer reject.
  TRANSFERRING: { commit: 'COMMITTED', fail: 'FAILED' },
  COMMITTED: { refund: 'REFUNDED' },
  REJECTED: {},
  FAILED: {},
  REFUNDED: {},
}

export function nextPayeeRequestState(from: PayeeRequestState, event: PayeeRequestEvent): PayeeRequestState {
  const to = PAYEE_REQUEST_TRANSITIONS[from][event]
  if (to === undefined) throw new ConflictError(`a transaction request cannot ${event} from ${from}`, { from, event })
  return to
}

export type PayerRequestState = 'QUOTING' | 'AWAITING_AUTHORIZATION' | 'TRANSFERRING' | 'COMMITTED' | 'REJECTED'
/**
 * challenge  PUT /quotes came and GET /authorizations went out
 * retry      a wrong OTP with retries left (or a RESEND): another GET /authorizations
 * authorize  the OTP was right: hold and POST /transfers
 * commit     the switch committed the transfer
 * reject     PUT /transactionRequests REJECTED sent (customer rejected, retries exhausted, OTP expired,
 *            quote failed, funds short, transfer aborted)
 */
export type PayerRequestEvent = 'challenge' | 'retry' | 'authorize' | 'commit' | 'reject'

export const PAYER_REQUEST_STATES: readonly PayerRequestState[] = ['QUOTING', 'AWAITING_AUTHORIZATION', 'TRANSFERRING', 'COMMITTED', 'REJECTED']
export const PAYER_REQUEST_EVENTS: readonly PayerRequestEvent[] = ['challenge', 'retry', 'authorize', 'commit', 'reject']

export const PAYER_REQUEST_TRANSITIONS: { readonly [S in PayerRequestState]: Partial<Record<PayerRequestEvent, PayerRequestState>> } = {
  QUOTING: { challenge: 'AWAITING_AUTHORIZATION', reject: 'REJECTED' },
  AWAITING_AUTHORIZATION: { retry: 'AWAITING_AUTHORIZATION', authorize: 'TRANSFERRING', reject: 'REJECTED' },
  TRANSFERRING: { commit: 'COMMITTED', reject: 'REJECTED' },
  COMMITTED: {},
  REJECTED: {},
}

export function nextPayerRequestState(from: PayerRequestState, event: PayerRequestEvent): PayerRequestState {
  const to = PAYER_REQUEST_TRANSITIONS[from][event]
  if (to === undefined) throw new ConflictError(`a transaction request cannot ${event} from ${from}`, { from, event })
  return to
}
