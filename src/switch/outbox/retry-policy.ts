// SPDX-License-Identifier: Apache-2.0
/**
 * What one delivery attempt's result means, and when to try again. Pure: the clock's reading and the random
 * draw for the jitter are arguments, so every decision can be tested exactly.
 *
 *   2xx                                         accept   → DELIVERED
 *   network error, timeout, 5xx, 429            retry    → PENDING, again after an exponential, jittered delay
 *                                               exhaust  → FAILED_UNREACHABLE once attempts or age run out
 *   anything else (4xx but 429, 3xx, 1xx)       reject   → FAILED, never repeated
 *
 * 3xx is a refusal because FSPIOP says redirects must not be followed (reference §1.6); 5xx and 429 are
 * worth repeating because they say "not now", not "never".
 */
import { assert } from '../../core/assert.ts'
import type { DeliveryEvent } from './delivery-state.ts'

/** What a sender reports for one attempt: the participant's HTTP status, or why no status came back. */
export type SendResult =
  | {
      readonly status: number
      /** The participant's Retry-After, as a delay in ms, when it sent one (429, 503). */
      readonly retryAfterMs?: number
    }
  | {
      readonly error: 'timeout' | 'network'
      /** A short reason for operators, such as ECONNREFUSED. Never the request or response body. */
      readonly detail?: string
    }

export interface RetryPolicy {
  /** Most attempts in all, the first one included. */
  readonly attemptsMax: number
  /** No retry is scheduled to start later than this after the message was enqueued. */
  readonly ageMaxMs: number
  /** The delay after the first failed attempt, before jitter; it doubles with each further attempt. */
  readonly delayBaseMs: number
  /** The longest delay between two attempts, before jitter and after a participant's Retry-After. */
  readonly delayMaxMs: number
}

/**
 * Eight attempts with pauses of 0.5–1 s, 1–2 s, 2–4 s, 4–8 s, 8–16 s, 15–30 s and 15–30 s between them: at
 * most 91 s of waiting, so with the default 10 s attempt timeout a participant that never answers is
 * declared unreachable within three minutes. Long enough to ride out a participant's restart, short enough
 * that the source hears 1001 while its own request is still worth answering. The age limit only bites when
 * participants ask for long Retry-After pauses or messages waited behind others of their correlation.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  attemptsMax: 8,
  ageMaxMs: 5 * 60_000,
  delayBaseMs: 1_000,
  delayMaxMs: 30_000,
})

export type AttemptClass = 'accepted' | 'retryable' | 'rejected'

export function classifyResult(result: SendResult): AttemptClass {
  if ('error' in result) return 'retryable'
  const { status } = result
  if (status >= 200 && status <= 299) return 'accepted'
  if (status === 429 || (status >= 500 && status <= 599)) return 'retryable'
  return 'rejected'
}

/**
 * The pause before attempt `failedAttempts + 1`: base × 2^(failedAttempts − 1), capped, then "equal jitter"
 * (a uniform draw over the upper half). Jitter spreads the retries of many messages that failed together,
 * so a participant coming back is not hit by all of them in the same millisecond; keeping the lower half
 * keeps a floor under the pause.
 */
export function retryDelayMs(policy: RetryPolicy, failedAttempts: number, random: number): number {
  assert(failedAttempts >= 1, 'a retry follows at least one failed attempt')
  assert(random >= 0 && random < 1, 'random is a draw from [0, 1)')
  const exponent = Math.min(failedAttempts - 1, 52)
  const ceilingMs = Math.min(policy.delayMaxMs, policy.delayBaseMs * 2 ** exponent)
  const halfMs = ceilingMs / 2
  return Math.round(halfMs + random * halfMs)
}

export type AttemptDecision =
  | { readonly event: Extract<DeliveryEvent, 'accept' | 'reject' | 'exhaust'> }
  | { readonly event: 'retry'; readonly nextAttemptAtMs: number }

export interface AttemptFacts {
  /** Attempts made so far, this one included. */
  readonly attempts: number
  readonly createdAtMs: number
  readonly nowMs: number
  /** A draw from [0, 1) for the jitter. */
  readonly random: number
}

/** The event an attempt's result leads to, and when to try again if it is a retry. */
export function decideAttempt(policy: RetryPolicy, result: SendResult, facts: AttemptFacts): AttemptDecision {
  assert(facts.attempts >= 1, 'a decision follows an attempt')
  const kind = classifyResult(result)
  if (kind === 'accepted') return { event: 'accept' }
  if (kind === 'rejected') return { event: 'reject' }
  if (facts.attempts >= policy.attemptsMax) return { event: 'exhaust' }
  let delayMs = retryDelayMs(policy, facts.attempts, facts.random)
  // A participant that says when to come back is believed, within the policy's longest pause.
  if ('status' in result && result.retryAfterMs !== undefined) delayMs = Math.max(delayMs, Math.min(result.retryAfterMs, policy.delayMaxMs))
  const nextAttemptAtMs = facts.nowMs + delayMs
  if (nextAttemptAtMs - facts.createdAtMs > policy.ageMaxMs) return { event: 'exhaust' }
  return { event: 'retry', nextAttemptAtMs }
}

/** Throws when a policy cannot work, so a bad configuration fails at start-up and not at the first retry. */
export function checkRetryPolicy(policy: RetryPolicy): RetryPolicy {
  assert(Number.isSafeInteger(policy.attemptsMax) && policy.attemptsMax >= 1, 'attemptsMax is a whole number ≥ 1')
  assert(Number.isSafeInteger(policy.ageMaxMs) && policy.ageMaxMs >= 0, 'ageMaxMs is a whole number ≥ 0')
  assert(Number.isSafeInteger(policy.delayBaseMs) && policy.delayBaseMs >= 1, 'delayBaseMs is a whole number ≥ 1')
  assert(Number.isSafeInteger(policy.delayMaxMs) && policy.delayMaxMs >= policy.delayBaseMs, 'delayMaxMs is a whole number ≥ delayBaseMs')
  return policy
}
