// SPDX-License-Identifier: Apache-2.0
/**
 * An OTP challenge's life, as one table (STYLE §2.5). Only ISSUED is live; every other state is final.
 *
 *   ISSUED      generated, sent to the customer, not yet used; wrong attempts are counted on the row
 *   USED        verified once: a second use is a replay and fails
 *   EXPIRED     its lifetime ran out before it was used
 *   LOCKED      the attempt limit was reached with wrong codes
 *   SUPERSEDED  a newer OTP was issued for the same customer (a RESEND, or a fresh request)
 *   CANCELLED   the payment it was for ended without it (customer rejected at the device, request cancelled)
 */
import { ConflictError } from '../../core/errors.ts'

export type OtpState = 'ISSUED' | 'USED' | 'EXPIRED' | 'LOCKED' | 'SUPERSEDED' | 'CANCELLED'

/**
 * verify    the right code (and amount) was entered
 * miss      a wrong code or amount was entered and attempts remain: the state stays, the count grows
 * exhaust   a wrong code or amount used the last attempt
 * expire    the lifetime ran out
 * supersede a newer OTP was issued for the customer
 * cancel    the payment was abandoned
 */
export type OtpEvent = 'verify' | 'miss' | 'exhaust' | 'expire' | 'supersede' | 'cancel'

export const OTP_STATES: readonly OtpState[] = ['ISSUED', 'USED', 'EXPIRED', 'LOCKED', 'SUPERSEDED', 'CANCELLED']
export const OTP_EVENTS: readonly OtpEvent[] = ['verify', 'miss', 'exhaust', 'expire', 'supersede', 'cancel']

export const OTP_TRANSITIONS: { readonly [S in OtpState]: Partial<Record<OtpEvent, OtpState>> } = {
  ISSUED: { verify: 'USED', miss: 'ISSUED', exhaust: 'LOCKED', expire: 'EXPIRED', supersede: 'SUPERSEDED', cancel: 'CANCELLED' },
  USED: {},
  EXPIRED: {},
  LOCKED: {},
  SUPERSEDED: {},
  CANCELLED: {},
}

export function nextOtpState(from: OtpState, event: OtpEvent): OtpState {
  const to = OTP_TRANSITIONS[from][event]
  if (to === undefined) throw new ConflictError(`an OTP cannot ${event} from ${from}`, { from, event })
  return to
}

export function isLive(state: OtpState): boolean {
  return state === 'ISSUED'
}
