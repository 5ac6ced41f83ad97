// SPDX-License-Identifier: Apache-2.0
/**
 * Amounts in ISO 8583 are digits of minor units with no decimal point (reference §8.3):
 * amountTransaction is 12 digits, `000000010000` = 100.00 in a 2-decimal currency. Fee fields are
 * x+n 8: a sign, C (credit) or D (debit), then 8 digits. Amounts go text ↔ bigint digit by digit;
 * a JS number never holds money.
 */
import { Iso8583Error } from './errors.ts'
import { FIELD_NUMBERS, fieldSpec, type FieldName } from './spec-87.ts'

const AMOUNT_DIGITS = fieldSpec('amountTransaction').maxLength
const FEE_DIGITS = fieldSpec('amountTransactionFee').maxLength

function amountError(name: FieldName, detail: string): Iso8583Error {
  return new Iso8583Error(FIELD_NUMBERS[name], name, 'out_of_range', detail)
}

function toDigits(amountMinor: bigint, digits: number, name: FieldName): string {
  if (typeof amountMinor !== 'bigint') throw amountError(name, 'amounts are bigint minor units')
  if (amountMinor < 0n) throw amountError(name, 'the field holds no negative amounts')
  const text = amountMinor.toString()
  if (text.length > digits) throw amountError(name, `the amount needs more than ${digits} digits`)
  return text.padStart(digits, '0')
}

function fromDigits(text: string, digits: number, name: FieldName): bigint {
  if (typeof text !== 'string' || text.length !== digits || !/^[0-9]+$/.test(text)) {
    throw new Iso8583Error(FIELD_NUMBERS[name], name, 'bad_charset', `the field holds exactly ${digits} digits`)
  }
  return BigInt(text)
}

/** Minor units → amountTransaction (field 4): 10000n → '000000010000'. */
export function amountToField4(amountMinor: bigint): string {
  return toDigits(amountMinor, AMOUNT_DIGITS, 'amountTransaction')
}

/** amountTransaction (field 4) → minor units: '000000010000' → 10000n. */
export function field4ToAmount(text: string): bigint {
  return fromDigits(text, AMOUNT_DIGITS, 'amountTransaction')
}

/** C: the amount is credited to the cardholder; D: it is debited (the usual case for fees). */
export type FeeSign = 'C' | 'D'

export interface SignedAmount {
  readonly sign: FeeSign
  readonly amountMinor: bigint
}

/** Minor units → an x+n 8 fee field such as amountTransactionFee: (100n, 'D') → 'D00000100'. */
export function amountToFeeField(amountMinor: bigint, sign: FeeSign, name: FieldName = 'amountTransactionFee'): string {
  if (sign !== 'C' && sign !== 'D') throw amountError(name, "the sign is 'C' or 'D'")
  return sign + toDigits(amountMinor, FEE_DIGITS, name)
}

/** An x+n 8 fee field → its sign and minor units: 'D00000100' → {sign: 'D', amountMinor: 100n}. */
export function feeFieldToAmount(text: string, name: FieldName = 'amountTransactionFee'): SignedAmount {
  const sign = typeof text === 'string' ? text[0] : undefined
  if (sign !== 'C' && sign !== 'D') {
    throw new Iso8583Error(FIELD_NUMBERS[name], name, 'bad_charset', "an x+n value starts with 'C' or 'D'")
  }
  return { sign, amountMinor: fromDigits(text.slice(1), FEE_DIGITS, name) }
}
