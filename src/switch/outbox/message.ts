// SPDX-License-Identifier: Apache-2.0
/**
 * An outbox message: one HTTP request the switch owes a participant (an FSPIOP callback, a forwarded
 * request or a PATCH notification), already addressed and serialised, so delivering it needs nothing but
 * the message itself.
 */
import { randomUUID } from 'node:crypto'
import { assert } from '../../core/assert.ts'
import type { HttpMethod } from '../../fspiop/index.ts'
import type { DeliveryState } from './delivery-state.ts'

export const OUTBOX_METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']

/** The longest FspId (reference §1.8). */
export const DESTINATION_LENGTH_MAX = 32
/** Correlations name a resource and its id; 200 characters leave room for /parties/{Type}/{ID}/{SubId}. */
export const CORRELATION_LENGTH_MAX = 200
/** The largest body FSPIOP allows, in bytes of UTF-8 (API Definition §3.2.1.3). */
export const BODY_BYTES_MAX = 5_242_880

export interface OutboxMessageInput {
  /** The participant (FspId) the message goes to: the unit of fairness and concurrency limits. */
  readonly destination: string
  readonly method: HttpMethod
  /** The absolute http(s) URL, already resolved from the participant's registered endpoints. */
  readonly url: string
  /** Sent as given on every attempt: the outbox never rewrites them, so JWS signatures stay valid. */
  readonly headers: Readonly<Record<string, string>>
  /** JSON text, or null for a request without a body (GET, DELETE). */
  readonly body: string | null
  /**
   * What the message is about, for ordering and logs: e.g. `transfers/{transferId}`. Messages to the same
   * destination with the same correlation are delivered one after the other, in enqueue order, except
   * that one that only informs holds nothing back (outbox.ts). It is logged, so it should name a resource
   * and its id, never a party's name.
   */
  readonly correlation: string
  /**
   * True for a message that only informs its receiver, which nothing later depends on (an answer to a
   * look-up): it does not hold back the later messages of its correlation. A GET only informs anyway.
   */
  readonly informs?: boolean
  /** An id for the message; a fresh time-ordered UUID (messageId) when absent. */
  readonly id?: string
}

export interface OutboxMessage {
  readonly id: string
  readonly destination: string
  readonly method: HttpMethod
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | null
  readonly correlation: string
  readonly state: DeliveryState
  /** Attempts started so far. */
  readonly attempts: number
  readonly createdAtMs: number
  /** PENDING: when the next attempt may start. SENDING: when the current claim's lease runs out. */
  readonly dueAtMs: number
  /** The HTTP status of the last attempt, when it got one. */
  readonly lastStatus: number | null
  /** Why the last attempt got no status (`timeout`, `network: ECONNREFUSED`), when it got none. */
  readonly lastError: string | null
  /** When the message reached DELIVERED, FAILED or FAILED_UNREACHABLE. */
  readonly completedAtMs: number | null
}

/** What a sender receives for one attempt. */
export interface DeliveryRequest {
  readonly id: string
  readonly destination: string
  readonly method: HttpMethod
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | null
  readonly correlation: string
  /** 1 for the first attempt. */
  readonly attempt: number
}

/** Checks a message before it is stored: a malformed one is a bug in the caller, never a participant's fault. */
export function checkMessageInput(input: OutboxMessageInput): void {
  assert(input.destination.length >= 1 && input.destination.length <= DESTINATION_LENGTH_MAX, 'an outbox destination is an FspId of 1 to 32 characters')
  assert(OUTBOX_METHODS.includes(input.method), `an outbox message has an HTTP method FSPIOP uses, not ${String(input.method)}`)
  assert(/^https?:\/\/[^\s]+$/.test(input.url) && URL.canParse(input.url), 'an outbox URL is an absolute http(s) URL')
  assert(input.correlation.length >= 1 && input.correlation.length <= CORRELATION_LENGTH_MAX, 'an outbox correlation has 1 to 200 characters')
  assert(input.body === null || Buffer.byteLength(input.body, 'utf8') <= BODY_BYTES_MAX, 'an outbox body fits FSPIOP’s 5 MB limit')
  for (const [name, value] of Object.entries(input.headers)) {
    assert(typeof value === 'string' && !/[\r\n]/.test(value) && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name), `outbox header ${name} is a valid HTTP header`)
  }
  assert(input.id === undefined || (input.id.length >= 1 && input.id.length <= 64), 'an outbox message id has 1 to 64 characters')
}

/**
 * A fresh message id: a UUID version 7 (RFC 9562), the creation time in milliseconds in its first 48 bits
 * and 74 random bits after it. Ids made one after another sort one after another, so the unique index on
 * them grows at its right edge and a group commit writes a page or two of it instead of one random page
 * per message (a version-4 UUID lands anywhere in the index).
 */
export function messageId(createdAtMs: number): string {
  assert(Number.isSafeInteger(createdAtMs) && createdAtMs >= 0 && createdAtMs < 2 ** 48, 'a message id carries a 48-bit millisecond time')
  const time = createdAtMs.toString(16).padStart(12, '0')
  // randomUUID's random digits, with the time over its first 12 and the version digit made 7.
  const random = randomUUID()
  return `${time.slice(0, 8)}-${time.slice(8)}-7${random.slice(15)}`
}
