// SPDX-License-Identifier: Apache-2.0
/**
 * Fee rules: a flat part plus a percentage of a base amount, with a stated rounding, clamped to an
 * optional minimum and maximum. Pure: minor units in, minor units out; the percentage is an exact
 * fraction, never a float.
 *
 *   fee = clamp(flatMinor + mulDiv(baseMinor, percentNumerator, percentDenominator, rounding), minMinor, maxMinor)
 *
 * A DFSP has two rules: the payee rule prices what it charges for receiving (FSPIOP's payeeFspFee, quoted
 * to the payer), the payer rule what it charges its own customer for sending (kept by the payer DFSP and
 * never disclosed to the scheme: Mojaloop's non-disclosing fee model).
 */
import { assert } from '../core/assert.ts'
import { mulDiv, parseAmount, type Rounding } from '../core/money.ts'

export interface FeeRule {
  readonly flatMinor: bigint
  /** The percentage as an exact fraction of the base: 1.5 % is 15 / 1000. */
  readonly percentNumerator: bigint
  readonly percentDenominator: bigint
  /** How the percentage part is rounded to a minor unit. */
  readonly rounding: Rounding
  readonly minMinor: bigint
  /** Null: no maximum. */
  readonly maxMinor: bigint | null
}

/** A fee rule as configuration states it: decimal amounts of the DFSP's currency and a decimal percentage. */
export interface FeeRuleInput {
  /** A decimal amount, e.g. "0.5"; default "0". */
  readonly flat?: string
  /** A decimal percentage from 0 up to (not including) 100, e.g. "1.5" for 1.5 %; default "0". */
  readonly percent?: string
  /** Required: how the percentage part is rounded to a minor unit, e.g. 'half-up'. */
  readonly rounding: Rounding
  readonly min?: string
  readonly max?: string
}

export const NO_FEE: FeeRule = Object.freeze({
  flatMinor: 0n,
  percentNumerator: 0n,
  percentDenominator: 1n,
  rounding: 'half-up',
  minMinor: 0n,
  maxMinor: null,
})

/** The fee on `baseMinor` under `rule`. */
export function feeFor(rule: FeeRule, baseMinor: bigint): bigint {
  assert(baseMinor >= 0n, 'fees are computed on non-negative amounts')
  const percentMinor = rule.percentNumerator === 0n ? 0n : mulDiv(baseMinor, rule.percentNumerator, rule.percentDenominator, rule.rounding)
  const fee = rule.flatMinor + percentMinor
  if (fee < rule.minMinor) return rule.minMinor
  if (rule.maxMinor !== null && fee > rule.maxMinor) return rule.maxMinor
  return fee
}

const PERCENT = /^(0|[1-9][0-9]?)(?:\.([0-9]{1,6}))?$/
const ROUNDINGS: readonly Rounding[] = ['floor', 'ceil', 'half-even', 'half-up']

/**
 * Reads a rule from configuration; every problem is pushed to `problems` (named after `name`), and the
 * answer is then NO_FEE, so the caller can report all problems at once.
 */
export function parseFeeRule(input: FeeRuleInput, currency: string, name: string, problems: string[]): FeeRule {
  const before = problems.length
  const amount = (field: 'flat' | 'min' | 'max'): bigint | null => {
    const text = input[field]
    if (text === undefined) return null
    const parsed = parseAmount(text, currency, { grammar: 'decimal' })
    if (!parsed.ok) {
      problems.push(`${name}.${field}: "${text}" is not a valid ${currency} amount (${parsed.status})`)
      return null
    }
    return parsed.value
  }
  if (!ROUNDINGS.includes(input.rounding)) problems.push(`${name}.rounding must be one of ${ROUNDINGS.join(', ')}`)
  const flatMinor = amount('flat') ?? 0n
  const minMinor = amount('min') ?? 0n
  const maxMinor = amount('max')
  let percentNumerator = 0n
  let percentDenominator = 1n
  if (input.percent !== undefined) {
    const match = PERCENT.exec(input.percent)
    if (match === null) {
      problems.push(`${name}.percent: "${input.percent}" must be a decimal from 0 up to 100 (exclusive), at most 6 decimals`)
    } else {
      const fraction = match[2] ?? ''
      percentNumerator = BigInt(`${match[1] ?? '0'}${fraction}`)
      percentDenominator = 100n * 10n ** BigInt(fraction.length)
    }
  }
  if (maxMinor !== null && maxMinor < minMinor) problems.push(`${name}: max must not be below min`)
  if (problems.length > before) return NO_FEE
  return Object.freeze({ flatMinor, percentNumerator, percentDenominator, rounding: input.rounding, minMinor, maxMinor })
}
