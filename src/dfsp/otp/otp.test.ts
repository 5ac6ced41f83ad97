// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { describe, it, mock } from 'node:test'
import fc from 'fast-check'
import { ConfigError } from '../../config/load-config.ts'
import { OTP_DEFAULTS, QR_CODE_PREFIX, QR_CODE_RANDOM_CHARS, QR_CODE_VALUE, codeMatches, generateCode, generateQrCode, hashCode, resolveOtpConfig } from './otp.ts'

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

describe('QR codes', () => {
  it('are the prefix and 16 Crockford base32 characters: a valid FSPIOP QRCODE value and ISO 8583 field 62 content', () => {
    for (let i = 0; i < 500; i += 1) {
      const code = generateQrCode()
      assert.match(code, /^KQ[0-9ABCDEFGHJKMNPQRSTVWXYZ]{16}$/)
      assert.equal(code.length, QR_CODE_PREFIX.length + QR_CODE_RANDOM_CHARS)
      assert.match(code, QR_CODE_VALUE)
    }
  })

  it('use every character of the alphabet in every position and do not repeat (80 bits)', () => {
    const seen = new Set<string>()
    const perPosition = Array.from({ length: QR_CODE_RANDOM_CHARS }, () => new Set<string>())
    for (let i = 0; i < 5_000; i += 1) {
      const code = generateQrCode()
      seen.add(code)
      for (let p = 0; p < QR_CODE_RANDOM_CHARS; p += 1) perPosition[p]?.add(code[QR_CODE_PREFIX.length + p] as string)
    }
    assert.equal(seen.size, 5_000)
    for (const chars of perPosition) assert.equal(chars.size, 32)
  })

  it('are drawn with crypto.randomInt, one call per character', (t) => {
    const spy = t.mock.method(crypto, 'randomInt')
    generateQrCode()
    assert.equal(spy.mock.callCount(), QR_CODE_RANDOM_CHARS)
    assert.deepEqual(spy.mock.calls[0]?.arguments, [0, 32])
  })

  it('QR_CODE_VALUE accepts 1 to 64 printable characters without spaces, and nothing else', () => {
    const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 64 })
    fc.assert(fc.property(printable, (value) => QR_CODE_VALUE.test(value)))
    fc.assert(fc.property(printable, fc.constantFrom(' ', '\t', '\n', 'é', '\u0000'), fc.nat(), (value, bad, at) => {
      const i = at % (value.length + 1)
      return !QR_CODE_VALUE.test(value.slice(0, i) + bad + value.slice(i))
    }))
    assert.equal(QR_CODE_VALUE.test(''), false)
    assert.equal(QR_CODE_VALUE.test('K'.repeat(65)), false)
  })

  it('hash under their own domain tag: an OTP hash never verifies a QR code of the same text, nor the reverse', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{3,10}$/), (code) => {
        const asOtp = hashCode(SECRET, BINDING, code, 'OTP')
        const asQr = hashCode(SECRET, BINDING, code, 'QRCODE')
        assert.notEqual(asOtp, asQr)
        assert.equal(asOtp, hashCode(SECRET, BINDING, code))
        assert.equal(codeMatches(SECRET, BINDING, asQr, code, 'QRCODE'), true)
        assert.equal(codeMatches(SECRET, BINDING, asQr, code, 'OTP'), false)
        assert.equal(codeMatches(SECRET, BINDING, asOtp, code, 'QRCODE'), false)
      }),
      { numRuns: 50 },
    )
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
