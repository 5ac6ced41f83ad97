// SPDX-License-Identifier: Apache-2.0
/**
 * The switch's persistent callback outbox: enqueue inside your transaction, and workers deliver with retries,
 * per-destination limits and per-correlation order. See outbox.ts for the guarantees.
 */
export {
  Outbox,
  type DeliveryInfo,
  type OutboxActivity,
  type OutboxMetrics,
  type OutboxOptions,
  type Sender,
  type UnreachableHook,
} from './outbox.ts'
export { createFetchSender, createHttpSender, type FetchSenderOptions } from './http-sender.ts'
export {
  DELIVERY_EVENTS,
  DELIVERY_STATES,
  DELIVERY_TRANSITIONS,
  deliveryTransition,
  nextDeliveryState,
  type DeliveryEvent,
  type DeliveryState,
} from './delivery-state.ts'
export {
  classifyResult,
  decideAttempt,
  DEFAULT_RETRY_POLICY,
  retryDelayMs,
  type AttemptClass,
  type AttemptDecision,
  type RetryPolicy,
  type SendResult,
} from './retry-policy.ts'
export { type DeliveryRequest, type OutboxMessage, type OutboxMessageInput } from './message.ts'
