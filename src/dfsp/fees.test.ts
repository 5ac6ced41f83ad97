// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { feeFor, NO_FEE, parseFeeRule, type FeeRuleInput } from './fees.ts'

function rule(input: FeeRuleInput, currency = 'USD'): ReturnType<typeof parseFeeRule> {
  const problems: string[] = []
  const parsed = parseFeeRule(input, currency, 'fees', problems)
  assert.deepEqual(problems, [])
  return parsed
}

describe('fee rules', () => {
  it('computes flat + percentage with the stated rounding', () => {
    const cases: [FeeRuleInput, bigint, bigint][] = [
      [{ flat: '0.5', rounding: 'half-up' }, 10_000n, 50n], // flat only
      [{ percent: '1.5', rounding: 'half-up' }, 10_000n, 150n], // 1.5 % of 100.00
      [{ percent: '1.5', rounding: 'half-up' }, 1_030n, 15n], // 15.45 → 15
      [{ percent: '1.5', rounding: 'half-up' }, 1_100n, 17n], // 16.5 → 17 (half up)
      [{ percent: '1.5', rounding: 'half-even' }, 1_100n, 16n], // 16.5 → 16 (half to even)
      [{ percent: '1.5', rounding: 'floor' }, 1_133n, 16n], // 16.995 → 16
      [{ percent: '1.5', rounding: 'ceil' }, 1_067n, 17n], // 16.005 → 17
      [{ flat: '0.25', percent: '2', rounding: 'half-up' }, 5_000n, 125n], // 0.25 + 1.00
      [{ percent: '0.000001', rounding: 'ceil' }, 1n, 1n], // the smallest percentage still costs a minor unit, rounded up
      [{ percent: '10', rounding: 'half-up', min: '1', max: '5' }, 500n, 100n], // 0.50 raised to the minimum 1.00
      [{ percent: '10', rounding: 'half-up', min: '1', max: '5' }, 100_000n, 500n], // 100.00 capped at 5.00
      [{ percent: '10', rounding: 'half-up', min: '1', max: '5' }, 3_000n, 300n], // within bounds
    ]
    for (const [input, base, expected] of cases) assert.equal(feeFor(rule(input), base), expected, `${JSON.stringify(input)} on ${base}`)
  })

  it('reads amounts at the currency scale', () => {
    assert.equal(feeFor(rule({ flat: '500', rounding: 'half-up' }, 'UGX'), 10n), 500n)
    assert.equal(feeFor(rule({ flat: '0.125', rounding: 'half-up' }, 'BHD'), 10n), 125n)
  })

  it('reports every problem of a rule at once and falls back to no fee', () => {
    const problems: string[] = []
    const parsed = parseFeeRule({ flat: '0.001', percent: '100', rounding: 'nearest' as 'floor', min: '5', max: '1' }, 'USD', 'fees.payee', problems)
    assert.equal(parsed, NO_FEE)
    assert.equal(problems.length, 4)
    assert.match(problems.join('\n'), /fees\.payee\.rounding/)
    assert.match(problems.join('\n'), /fees\.payee\.flat: "0\.001"/)
    assert.match(problems.join('\n'), /fees\.payee\.percent: "100"/)
    assert.match(problems.join('\n'), /max must not be below min/)
  })

  it('is monotonic in the base and never below the minimum nor above the maximum', () => {
    fc.assert(
      fc.property(
        fc.record({
          flat: fc.bigInt({ min: 0n, max: 10_000n }),
          percentHundredths: fc.integer({ min: 0, max: 9_999 }),
          rounding: fc.constantFrom('floor', 'ceil', 'half-even', 'half-up' as const),
          min: fc.bigInt({ min: 0n, max: 1_000n }),
          span: fc.option(fc.bigInt({ min: 0n, max: 100_000n })),
        }),
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.bigInt({ min: 0n, max: 10n ** 6n }),
        ({ flat, percentHundredths, rounding, min, span }, base, more) => {
          const r = {
            flatMinor: flat,
            percentNumerator: BigInt(percentHundredths),
            percentDenominator: 10_000n,
            rounding,
            minMinor: min,
            maxMinor: span === null ? null : min + span,
          }
          const fee = feeFor(r, base)
          assert.ok(fee >= min)
          if (r.maxMinor !== null) assert.ok(fee <= r.maxMinor)
          assert.ok(feeFor(r, base + more) >= fee)
        },
      ),
    )
  })
})
