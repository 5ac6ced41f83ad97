// SPDX-License-Identifier: Apache-2.0
/**
 * Money: bigint minor units inside, decimal strings on the wire. A JS number never holds an amount:
 * text goes digit by digit into a bigint and back.
 */
import currencyCodes from 'currency-codes'
import { assert } from './assert.ts'
import { fail, ok, type Result } from './result.ts'

export interface Currency {
  /** ISO 4217 alphabetic code, e.g. USD. */
  readonly code: string
  /** ISO 4217 numeric code as three digits, e.g. 840 (ISO 8583 field 49 carries it). */
  readonly numeric: string
  /** Minor-unit digits: 2 for USD, 0 for UGX, 3 for BHD. */
  readonly scale: number
}

export interface Money {
  readonly amountMinor: bigint
  readonly currency: string
}

/**
 * The largest amount one operation may carry, in minor units, unless the scheme sets its own per
 * currency. FSPIOP allows 18 integer digits plus 4 decimals, more than a signed 64-bit column holds;
 * 10^15 leaves room for over 9,000 maximal amounts in one ledger counter before its overflow status.
 */
export const DEFAULT_SCHEME_MAX_MINOR = 10n ** 15n

/** The largest value a stored counter may reach: PostgreSQL BIGINT and SQLite INTEGER are signed 64-bit. */
export const INT64_MAX = 2n ** 63n - 1n

/**
 * ISO 4217 gives the testing code XTS and the no-currency code XXX no minor unit; Mojaloop's schemes and
 * its SDK's ILP amounts treat both as 4 decimals, and Kivuko follows them so test packets interoperate.
 */
const SCALE_OVERRIDES: Readonly<Record<string, number>> = { XTS: 4, XXX: 4 }

const CURRENCIES: ReadonlyMap<string, Currency> = new Map(
  currencyCodes.data
    .filter((record) => Number.isInteger(record.digits))
    .map((record) => [record.code, Object.freeze({ code: record.code, numeric: record.number, scale: SCALE_OVERRIDES[record.code] ?? record.digits })]),
)
const CURRENCIES_BY_NUMERIC: ReadonlyMap<string, Currency> = new Map([...CURRENCIES.values()].map((c) => [c.numeric, c]))

export function findCurrency(code: string): Currency | undefined {
  return CURRENCIES.get(code)
}

export function findCurrencyByNumeric(numeric: string): Currency | undefined {
  return CURRENCIES_BY_NUMERIC.get(numeric)
}

export type AmountStatus =
  | 'amount_malformed' // not the grammar at all: sign, exponent, letters, leading zeros, trailing zeros on the FSPIOP grammar
  | 'currency_unknown' // not an ISO 4217 code with a defined minor unit
  | 'amount_scale_exceeded' // more decimals than the currency has
  | 'amount_exceeds_scheme_max' // above the scheme's maximum for the currency

/**
 * FSPIOP v1.1 Amount, exactly as api-snippets' pattern: no sign, no leading zeros, at most 18 integer
 * digits, at most 4 decimals, and no trailing zeros ("5.50" is invalid, "5.5" is valid).
 */
const FSPIOP_AMOUNT = /^(0|[1-9][0-9]{0,17})(?:\.([0-9]{0,3}[1-9]))?$/
/** Plain decimal for channel APIs (PoS, payouts, CSV batches), which send "10.50": trailing zeros allowed. */
const PLAIN_DECIMAL = /^(0|[1-9][0-9]{0,17})(?:\.([0-9]{1,4}))?$/

export interface ParseOptions {
  /** 'fspiop' is FSPIOP's strict grammar; 'decimal' also accepts trailing zeros, as channel APIs send them. */
  readonly grammar?: 'fspiop' | 'decimal'
  /** Scheme maximum in minor units; DEFAULT_SCHEME_MAX_MINOR unless the scheme configures its own. */
  readonly maxMinor?: bigint
}

/** Wire amount → minor units of its currency, or the status saying what is wrong with it. */
export function parseAmount(text: string, currencyCode: string, options: ParseOptions = {}): Result<bigint, AmountStatus> {
  const pattern = (options.grammar ?? 'fspiop') === 'fspiop' ? FSPIOP_AMOUNT : PLAIN_DECIMAL
  if (typeof text !== 'string') return fail('amount_malformed')
  const match = pattern.exec(text)
  if (match === null) return fail('amount_malformed')
  const currency = findCurrency(currencyCode)
  if (currency === undefined) return fail('currency_unknown')
  const whole = match[1] as string
  const fraction = (match[2] ?? '').replace(/0+$/, '')
  if (fraction.length > currency.scale) return fail('amount_scale_exceeded')
  const amountMinor = BigInt(whole + fraction.padEnd(currency.scale, '0'))
  if (amountMinor > (options.maxMinor ?? DEFAULT_SCHEME_MAX_MINOR)) return fail('amount_exceeds_scheme_max')
  return ok(amountMinor)
}

/** Minor units → FSPIOP's canonical text: no trailing zeros and no trailing dot. */
export function formatAmount(amountMinor: bigint, currencyCode: string): string {
  const currency = findCurrency(currencyCode)
  assert(currency !== undefined, `formatAmount: unknown currency ${currencyCode}`)
  return formatMinor(amountMinor, currency.scale)
}

export function formatMinor(amountMinor: bigint, scale: number): string {
  assert(amountMinor >= 0n, 'wire amounts are never negative')
  assert(Number.isInteger(scale) && scale >= 0 && scale <= 4, 'scale is 0 to 4')
  if (scale === 0) return amountMinor.toString()
  const digits = amountMinor.toString().padStart(scale + 1, '0')
  const whole = digits.slice(0, digits.length - scale)
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '')
  return fraction === '' ? whole : `${whole}.${fraction}`
}

/** Minor units → fixed-scale text ("10.50") for channels and receipts that show every minor digit. */
export function formatFixed(amountMinor: bigint, currencyCode: string): string {
  const currency = findCurrency(currencyCode)
  assert(currency !== undefined, `formatFixed: unknown currency ${currencyCode}`)
  assert(amountMinor >= 0n, 'wire amounts are never negative')
  if (currency.scale === 0) return amountMinor.toString()
  const digits = amountMinor.toString().padStart(currency.scale + 1, '0')
  return `${digits.slice(0, -currency.scale)}.${digits.slice(-currency.scale)}`
}

export type Rounding = 'floor' | 'ceil' | 'half-even' | 'half-up'

/** amount × numerator ÷ denominator. The rounding mode is required so every fee and split states it. */
export function mulDiv(amount: bigint, numerator: bigint, denominator: bigint, rounding: Rounding): bigint {
  assert(amount >= 0n && numerator >= 0n && denominator > 0n, 'mulDiv takes non-negative operands and a positive denominator')
  const product = amount * numerator
  const quotient = product / denominator
  const remainder = product % denominator
  if (remainder === 0n || rounding === 'floor') return quotient
  if (rounding === 'ceil') return quotient + 1n
  const twice = remainder * 2n
  if (twice !== denominator) return twice < denominator ? quotient : quotient + 1n
  if (rounding === 'half-up') return quotient + 1n
  return quotient % 2n === 0n ? quotient : quotient + 1n
}
