// SPDX-License-Identifier: Apache-2.0
/**
 * The retry policy: what each result means, how long to wait, and when to give up. Pure, so every case is
 * exact: the jitter draw and the clock reading are arguments.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AssertionFailed } from '../../core/assert.ts'
import { checkRetryPolicy, classifyResult, decideAttempt, DEFAULT_RETRY_POLICY, retryDelayMs, type RetryPolicy, type SendResult } from './retry-policy.ts'

const POLICY: RetryPolicy = { attemptsMax: 5, ageMaxMs: 60_000, delayBaseMs: 1_000, delayMaxMs: 8_000 }
const T0 = Date.UTC(2026, 0, 1)

describe('classifyResult', () => {
  const cases: readonly [SendResult, string][] = [
    [{ status: 200 }, 'accepted'],
    [{ status: 202 }, 'accepted'],
    [{ status: 204 }, 'accepted'],
    [{ status: 299 }, 'accepted'],
    [{ status: 429 }, 'retryable'],
    [{ status: 500 }, 'retryable'],
    [{ status: 502 }, 'retryable'],
    [{ status: 503, retryAfterMs: 5_000 }, 'retryable'],
    [{ status: 504 }, 'retryable'],
    [{ status: 599 }, 'retryable'],
    [{ status: 400 }, 'rejected'],
    [{ status: 401 }, 'rejected'],
    [{ status: 403 }, 'rejected'],
    [{ status: 404 }, 'rejected'],
    [{ status: 405 }, 'rejected'],
    [{ status: 406 }, 'rejected'],
    [{ status: 408 }, 'rejected'],
    [{ status: 413 }, 'rejected'],
    [{ status: 499 }, 'rejected'],
    [{ status: 301 }, 'rejected'],
    [{ status: 302 }, 'rejected'],
    [{ status: 307 }, 'rejected'],
    [{ status: 100 }, 'rejected'],
    [{ status: 600 }, 'rejected'],
    [{ error: 'timeout' }, 'retryable'],
    [{ error: 'network', detail: 'ECONNREFUSED' }, 'retryable'],
    [{ error: 'network' }, 'retryable'],
  ]
  for (const [result, expected] of cases) {
    it(`${JSON.stringify(result)} is ${expected}`, () => assert.equal(classifyResult(result), expected))
  }
})

describe('retryDelayMs', () => {
  it('doubles from the base and stops at the cap, keeping the upper half as the jitter range', () => {
    const ceilings = [1_000, 2_000, 4_000, 8_000, 8_000, 8_000]
    ceilings.forEach((ceilingMs, index) => {
      const failed = index + 1
      assert.equal(retryDelayMs(POLICY, failed, 0), ceilingMs / 2, `lowest delay after ${failed}`)
      assert.equal(retryDelayMs(POLICY, failed, 0.5), (ceilingMs * 3) / 4, `middle delay after ${failed}`)
      assert.ok(retryDelayMs(POLICY, failed, 0.999_999) <= ceilingMs, `highest delay after ${failed}`)
      assert.ok(retryDelayMs(POLICY, failed, 0.999_999) >= ceilingMs - 1, `highest delay after ${failed}`)
    })
  })

  it('never overflows, however many attempts failed', () => {
    assert.equal(retryDelayMs(POLICY, 10_000, 0), 4_000)
    assert.ok(Number.isFinite(retryDelayMs({ ...POLICY, delayMaxMs: Number.MAX_SAFE_INTEGER }, 10_000, 0)))
  })

  it('stays within [ceiling / 2, ceiling] for any draw', () => {
    for (let i = 0; i < 1_000; i += 1) {
      const draw = i / 1_000
      for (let failed = 1; failed <= 6; failed += 1) {
        const ceilingMs = Math.min(POLICY.delayMaxMs, POLICY.delayBaseMs * 2 ** (failed - 1))
        const delayMs = retryDelayMs(POLICY, failed, draw)
        assert.ok(delayMs >= ceilingMs / 2 && delayMs <= ceilingMs, `${failed} failed, draw ${draw}: ${delayMs}`)
      }
    }
  })

  it('refuses impossible arguments', () => {
    assert.throws(() => retryDelayMs(POLICY, 0, 0.5), AssertionFailed)
    assert.throws(() => retryDelayMs(POLICY, 1, 1), AssertionFailed)
    assert.throws(() => retryDelayMs(POLICY, 1, -0.1), AssertionFailed)
  })
})

describe('decideAttempt', () => {
  const facts = (attempts: number, nowMs = T0, random = 0) => ({ attempts, createdAtMs: T0, nowMs, random })

  it('delivers on 2xx, whatever the attempt', () => {
    assert.deepEqual(decideAttempt(POLICY, { status: 200 }, facts(1)), { event: 'accept' })
    assert.deepEqual(decideAttempt(POLICY, { status: 204 }, facts(5)), { event: 'accept' })
  })

  it('rejects on a refusal at once, even with attempts to spare', () => {
    assert.deepEqual(decideAttempt(POLICY, { status: 400 }, facts(1)), { event: 'reject' })
    assert.deepEqual(decideAttempt(POLICY, { status: 302 }, facts(2)), { event: 'reject' })
  })

  it('retries a network error, a timeout, a 5xx and a 429 after the backoff', () => {
    for (const result of [{ error: 'network' }, { error: 'timeout' }, { status: 503 }, { status: 429 }] as const) {
      assert.deepEqual(decideAttempt(POLICY, result, facts(1, T0 + 100)), { event: 'retry', nextAttemptAtMs: T0 + 100 + 500 })
      assert.deepEqual(decideAttempt(POLICY, result, facts(3, T0 + 9_000, 0.5)), { event: 'retry', nextAttemptAtMs: T0 + 9_000 + 3_000 })
    }
  })

  it('gives up once the attempts are spent', () => {
    assert.equal(decideAttempt(POLICY, { status: 503 }, facts(4)).event, 'retry')
    assert.deepEqual(decideAttempt(POLICY, { status: 503 }, facts(5)), { event: 'exhaust' })
    assert.deepEqual(decideAttempt(POLICY, { error: 'timeout' }, facts(9)), { event: 'exhaust' })
  })

  it('gives up when the next attempt would start after the age limit', () => {
    // After attempt 2, the pause is 1–2 s: at T0 + 58.5 s that is 59.5–60.5 s of age.
    assert.deepEqual(decideAttempt(POLICY, { status: 500 }, facts(2, T0 + 58_500, 0)), { event: 'retry', nextAttemptAtMs: T0 + 59_500 })
    assert.deepEqual(decideAttempt(POLICY, { status: 500 }, facts(2, T0 + 58_500, 0.99)), { event: 'exhaust' })
    assert.deepEqual(decideAttempt(POLICY, { status: 500 }, facts(2, T0 + 60_000, 0)), { event: 'exhaust' })
  })

  it('honours Retry-After when it is longer than the backoff, up to the longest pause', () => {
    assert.deepEqual(decideAttempt(POLICY, { status: 429, retryAfterMs: 5_000 }, facts(1)), { event: 'retry', nextAttemptAtMs: T0 + 5_000 })
    assert.deepEqual(decideAttempt(POLICY, { status: 503, retryAfterMs: 100 }, facts(1)), { event: 'retry', nextAttemptAtMs: T0 + 500 })
    assert.deepEqual(decideAttempt(POLICY, { status: 503, retryAfterMs: 3_600_000 }, facts(1)), { event: 'retry', nextAttemptAtMs: T0 + 8_000 })
  })

  it('has a default policy that gives up on a silent participant within three minutes of pauses and timeouts', () => {
    let pausesMs = 0
    for (let failed = 1; failed < DEFAULT_RETRY_POLICY.attemptsMax; failed += 1) pausesMs += retryDelayMs(DEFAULT_RETRY_POLICY, failed, 0.999_999)
    assert.ok(pausesMs <= 91_000, `${pausesMs} ms of pauses`)
    assert.ok(pausesMs + DEFAULT_RETRY_POLICY.attemptsMax * 10_000 <= 180_000)
    assert.ok(pausesMs <= DEFAULT_RETRY_POLICY.ageMaxMs)
  })
})

describe('checkRetryPolicy', () => {
  it('accepts the default and refuses policies that cannot work', () => {
    assert.equal(checkRetryPolicy(DEFAULT_RETRY_POLICY), DEFAULT_RETRY_POLICY)
    for (const bad of [
      { ...POLICY, attemptsMax: 0 },
      { ...POLICY, attemptsMax: 1.5 },
      { ...POLICY, ageMaxMs: -1 },
      { ...POLICY, delayBaseMs: 0 },
      { ...POLICY, delayMaxMs: 999 },
    ]) {
      assert.throws(() => checkRetryPolicy(bad), AssertionFailed, JSON.stringify(bad))
    }
  })
})
