// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { DEFAULT_SCHEME_MAX_MINOR, findCurrency, findCurrencyByNumeric, formatAmount, formatFixed, mulDiv, parseAmount } from './money.ts'

describe('ISO 4217 table', () => {
  it('knows scales and numeric codes from the maintained list', () => {
    assert.deepEqual(findCurrency('USD'), { code: 'USD', numeric: '840', scale: 2 })
    assert.equal(findCurrency('UGX')?.scale, 0)
    assert.equal(findCurrency('BHD')?.scale, 3)
    assert.equal(findCurrency('CLF')?.scale, 4)
    assert.equal(findCurrency('XTS')?.scale, 4) // Mojaloop's convention for the test currency
    assert.equal(findCurrency('XXX')?.scale, 4)
    assert.equal(findCurrencyByNumeric('404')?.code, 'KES')
    assert.equal(findCurrency('usd'), undefined)
    assert.equal(findCurrency('ZZZ'), undefined)
  })
})

describe('parseAmount (FSPIOP grammar)', () => {
  const cases: [string, string, bigint | string][] = [
    ['0', 'USD', 0n],
    ['5', 'USD', 500n],
    ['5.5', 'USD', 550n],
    ['5.05', 'USD', 505n],
    ['123456789012', 'UGX', 123456789012n],
    ['1.234', 'BHD', 1234n],
    ['5.50', 'USD', 'amount_malformed'], // trailing zero
    ['5.', 'USD', 'amount_malformed'],
    ['.5', 'USD', 'amount_malformed'],
    ['05', 'USD', 'amount_malformed'], // leading zero
    ['-5', 'USD', 'amount_malformed'],
    ['+5', 'USD', 'amount_malformed'],
    ['1e3', 'USD', 'amount_malformed'],
    ['5.ABC', 'USD', 'amount_malformed'],
    [' 5', 'USD', 'amount_malformed'],
    ['', 'USD', 'amount_malformed'],
    ['1.00001', 'USD', 'amount_malformed'], // five decimals
    ['1234567890123456789', 'USD', 'amount_malformed'], // 19 integer digits
    ['5.123', 'USD', 'amount_scale_exceeded'],
    ['5.5', 'UGX', 'amount_scale_exceeded'],
    ['5', 'XYZ', 'currency_unknown'],
    ['10000000000000.01', 'USD', 'amount_exceeds_scheme_max'],
  ]
  for (const [text, currency, expected] of cases) {
    it(`${JSON.stringify(text)} ${currency} → ${String(expected)}`, () => {
      const result = parseAmount(text, currency)
      if (typeof expected === 'bigint') assert.deepEqual(result, { ok: true, value: expected })
      else assert.deepEqual(result, { ok: false, status: expected })
    })
  }

  it('the decimal grammar of channel APIs accepts trailing zeros, nothing else looser', () => {
    assert.deepEqual(parseAmount('10.50', 'USD', { grammar: 'decimal' }), { ok: true, value: 1050n })
    assert.deepEqual(parseAmount('10.500', 'USD', { grammar: 'decimal' }), { ok: true, value: 1050n })
    assert.deepEqual(parseAmount('10.501', 'USD', { grammar: 'decimal' }), { ok: false, status: 'amount_scale_exceeded' })
    assert.deepEqual(parseAmount('010', 'USD', { grammar: 'decimal' }), { ok: false, status: 'amount_malformed' })
  })

  it('takes a scheme maximum per currency', () => {
    assert.deepEqual(parseAmount('100', 'USD', { maxMinor: 10_000n }), { ok: true, value: 10_000n })
    assert.deepEqual(parseAmount('100.01', 'USD', { maxMinor: 10_000n }), { ok: false, status: 'amount_exceeds_scheme_max' })
  })

  it('never throws, whatever text it is given', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('USD', 'UGX', 'BHD', 'CLF', 'XXX', ''), (text, currency) => {
        const result = parseAmount(text, currency)
        assert.equal(typeof result.ok, 'boolean')
      }),
      { numRuns: 2_000 },
    )
  })
})

describe('formatAmount', () => {
  it('writes the canonical FSPIOP form', () => {
    assert.equal(formatAmount(0n, 'USD'), '0')
    assert.equal(formatAmount(500n, 'USD'), '5')
    assert.equal(formatAmount(550n, 'USD'), '5.5')
    assert.equal(formatAmount(505n, 'USD'), '5.05')
    assert.equal(formatAmount(7n, 'USD'), '0.07')
    assert.equal(formatAmount(7n, 'UGX'), '7')
    assert.equal(formatFixed(550n, 'USD'), '5.50')
    assert.equal(formatFixed(7n, 'BHD'), '0.007')
  })

  it('parse ∘ format is the identity on minor units, for every scale', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: DEFAULT_SCHEME_MAX_MINOR }), fc.constantFrom('USD', 'UGX', 'BHD', 'CLF'), (minor, currency) => {
        const text = formatAmount(minor, currency)
        assert.match(text, /^([0]|([1-9][0-9]{0,17}))([.][0-9]{0,3}[1-9])?$/)
        assert.deepEqual(parseAmount(text, currency), { ok: true, value: minor })
      }),
      { numRuns: 2_000 },
    )
  })
})

describe('mulDiv', () => {
  it('rounds as told', () => {
    assert.equal(mulDiv(1005n, 1n, 10n, 'floor'), 100n)
    assert.equal(mulDiv(1005n, 1n, 10n, 'ceil'), 101n)
    assert.equal(mulDiv(1005n, 1n, 10n, 'half-even'), 100n)
    assert.equal(mulDiv(1015n, 1n, 10n, 'half-even'), 102n)
    assert.equal(mulDiv(1005n, 1n, 10n, 'half-up'), 101n)
    assert.equal(mulDiv(1004n, 1n, 10n, 'half-up'), 100n)
    assert.equal(mulDiv(1000n, 150n, 10_000n, 'floor'), 15n) // 1.5 % of 10.00
  })

  it('floor ≤ half-even ≤ ceil, within one minor unit, and exact when divisible', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.bigInt({ min: 0n, max: 10n ** 6n }), fc.bigInt({ min: 1n, max: 10n ** 6n }), (a, n, d) => {
        const floor = mulDiv(a, n, d, 'floor')
        const even = mulDiv(a, n, d, 'half-even')
        const ceil = mulDiv(a, n, d, 'ceil')
        assert.ok(floor <= even && even <= ceil && ceil - floor <= 1n)
        if ((a * n) % d === 0n) assert.equal(floor, ceil)
      }),
    )
  })
})
