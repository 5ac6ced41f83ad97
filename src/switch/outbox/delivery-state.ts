// SPDX-License-Identifier: Apache-2.0
/**
 * The life of one outbox message, on one screen. A message is PENDING until a worker claims it, SENDING
 * while one attempt is under way, and ends DELIVERED (the participant answered 2xx), FAILED (it refused the
 * message for good: 4xx other than 429, or a 3xx, which FSPIOP says must not be retried) or
 * FAILED_UNREACHABLE (every attempt the retry policy allows ended in a network error, a timeout, a 5xx or
 * a 429). The repository builds its compare-and-set statements from this table, so a move the table does
 * not allow cannot be written either.
 */
import { ConflictError } from '../../core/errors.ts'

export const DELIVERY_STATES = ['PENDING', 'SENDING', 'DELIVERED', 'FAILED', 'FAILED_UNREACHABLE'] as const
export type DeliveryState = (typeof DELIVERY_STATES)[number]

export const DELIVERY_EVENTS = ['claim', 'reclaim', 'accept', 'retry', 'reject', 'exhaust'] as const
/**
 * - claim: a worker takes a due message to send it.
 * - reclaim: a worker takes a message whose earlier claim's lease ran out (that worker is presumed dead).
 * - accept: the participant answered 2xx.
 * - retry: the attempt failed in a way worth repeating, and the policy allows another attempt.
 * - reject: the participant refused the message; repeating it would not help.
 * - exhaust: the attempt failed in a way worth repeating, but the policy allows no more attempts.
 */
export type DeliveryEvent = (typeof DELIVERY_EVENTS)[number]

/** The whole table. A missing cell is an illegal move. */
export const DELIVERY_TRANSITIONS: { readonly [S in DeliveryState]: Partial<Record<DeliveryEvent, DeliveryState>> } = {
  PENDING: { claim: 'SENDING' },
  SENDING: { reclaim: 'SENDING', accept: 'DELIVERED', retry: 'PENDING', reject: 'FAILED', exhaust: 'FAILED_UNREACHABLE' },
  DELIVERED: {},
  FAILED: {},
  FAILED_UNREACHABLE: {},
}

/** States a worker may still act on: the ones that hold back later messages of the same correlation. */
export const OPEN_STATES: readonly DeliveryState[] = DELIVERY_STATES.filter((state) => Object.keys(DELIVERY_TRANSITIONS[state]).length > 0)

/** The next state, or undefined when the event is not allowed from `from`. */
export function nextDeliveryState(from: DeliveryState, event: DeliveryEvent): DeliveryState | undefined {
  return DELIVERY_TRANSITIONS[from][event]
}

/** The next state; an illegal move is a ConflictError. */
export function deliveryTransition(from: DeliveryState, event: DeliveryEvent): DeliveryState {
  const to = nextDeliveryState(from, event)
  if (to === undefined) throw new ConflictError(`an outbox message cannot ${event} from ${from}`, { from, event })
  return to
}

/** Every state the event may leave from: what a compare-and-set for that event must find in the row. */
export function statesAllowing(event: DeliveryEvent): DeliveryState[] {
  return DELIVERY_STATES.filter((state) => DELIVERY_TRANSITIONS[state][event] !== undefined)
}

export function isDeliveryState(value: string): value is DeliveryState {
  return (DELIVERY_STATES as readonly string[]).includes(value)
}
