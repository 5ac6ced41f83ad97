// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { describe, it, mock } from 'node:test'
import { ConfigError } from '../../config/load-config.ts'
import { OTP_DEFAULTS, codeMatches, generateCode, hashCode, resolveOtpConfig } from './otp.ts'

const SECRET = 'a-test-secret-of-at-least-32-characters!'
const BINDING = { dfspId: 'payerfsp', otpId: '00112233445566778899aabbccddeeff', customerId: 'c0ffee00c0ffee00' }

describe('OTP codes', () => {
  it('have the configured number of digits, all decimal, leading zeros kept', () => {
    for (const digits of [4, 6, 8, 10]) {
      for (let i = 0; i < 200; i += 1) assert.match(generateCode(digits), new RegExp(`^[0-9]{${digits}}$`))
    }
  })

  it('are spread over every digit in every position (a sanity check, not a statistical proof)', () => {
    const counts = Array.from({ length: 6 }, () => new Array<number>(10).fill(0))
    const samples = 20_000
    let leadingZero = 0
    for (let i = 0; i < samples; i += 1) {
      const code = generateCode(6)
      if (code.startsWith('0')) leadingZero += 1
      for (let p = 0; p < 6; p += 1) {
        const row = counts[p] as number[]
        const digit = Number(code[p])
        row[digit] = (row[digit] ?? 0) + 1
      }
    }
    // Expected 2,000 per cell; 1,700 to 2,300 is beyond 6 standard deviations of a fair draw.
    for (const position of counts) for (const n of position) assert.ok(n > 1_700 && n < 2_300, `digit count ${n}`)
    assert.ok(leadingZero > 1_700, 'codes with a leading zero occur')
  })

  it('are drawn with crypto.randomInt', (t) => {
    const spy = t.mock.method(crypto, 'randomInt')
    generateCode(6)
    assert.equal(spy.mock.callCount(), 1)
    assert.deepEqual(spy.mock.calls[0]?.arguments, [0, 1_000_000])
  })
})

describe('OTP hashes', () => {
  it('are 64 hex characters and never the code', () => {
    const hash = hashCode(SECRET, BINDING, '012345')
    assert.match(hash, /^[0-9a-f]{64}$/)
    assert.ok(!hash.includes('012345'))
  })

  it('depend on the secret and on every id they are bound to', () => {
    const base = hashCode(SECRET, BINDING, '123456')
    assert.notEqual(hashCode(`${SECRET}x`, BINDING, '123456'), base)
    assert.notEqual(hashCode(SECRET, { ...BINDING, dfspId: 'other' }, '123456'), base)
    assert.notEqual(hashCode(SECRET, { ...BINDING, otpId: 'ff' }, '123456'), base)
    assert.notEqual(hashCode(SECRET, { ...BINDING, customerId: 'other' }, '123456'), base)
  })

  it('are compared with crypto.timingSafeEqual', () => {
    const spy = mock.method(crypto, 'timingSafeEqual')
    try {
      const stored = hashCode(SECRET, BINDING, '123456')
      assert.equal(codeMatches(SECRET, BINDING, stored, '123456'), true)
      assert.equal(codeMatches(SECRET, BINDING, stored, '123457'), false)
      assert.equal(codeMatches(SECRET, BINDING, stored, ''), false)
      assert.equal(spy.mock.callCount(), 3)
    } finally {
      spy.mock.restore()
    }
  })
})

describe('resolveOtpConfig', () => {
  it('fills the defaults', () => {
    const config = resolveOtpConfig({ secret: SECRET })
    assert.equal(config.digits, 6)
    assert.equal(config.ttlMs, 300_000)
    assert.equal(config.maxAttempts, 3)
    assert.deepEqual(config.issueLimit, OTP_DEFAULTS.issueLimit)
    assert.ok(Object.isFrozen(config))
  })

  it('reports every problem at once and has no default secret', () => {
    assert.throws(
      () => resolveOtpConfig({ secret: 'short', digits: 3, maxAttempts: 0, ttlMs: 1, issueLimit: { max: 0 } }),
      (error: unknown) => error instanceof ConfigError && error.problems.length === 5,
    )
    assert.throws(() => resolveOtpConfig({ secret: SECRET, digits: 11 }), ConfigError)
  })
})
