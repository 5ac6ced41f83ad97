// SPDX-License-Identifier: Apache-2.0
/**
 * Byte-level membership tables for the ISO 8583 character classes. One 256-entry table per class lets
 * the codec check and copy a character in the same step, which matters on the hot path.
 */
import type { Charset } from './spec-87.ts'

function table(accepts: (code: number) => boolean): Uint8Array {
  const entries = new Uint8Array(256)
  for (let code = 0; code < 256; code += 1) entries[code] = accepts(code) ? 1 : 0
  return entries
}

const isDigit = (code: number): boolean => code >= 0x30 && code <= 0x39
const isLetter = (code: number): boolean => (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)
const isPrintable = (code: number): boolean => code >= 0x20 && code <= 0x7e

/** Tables for the text classes; `b` has none because any byte is allowed. */
export const CHARSET_TABLES: Readonly<Record<Exclude<Charset, 'b'>, Uint8Array>> = {
  n: table(isDigit),
  // Space belongs here because the standard pads fixed `an` fields with it.
  an: table((code) => isDigit(code) || isLetter(code) || code === 0x20),
  ans: table(isPrintable),
  ns: table((code) => isPrintable(code) && !isLetter(code)),
  // Track data as terminals send it in ASCII: digits and the separator, written `=` or `D`.
  z: table((code) => isDigit(code) || code === 0x3d || code === 0x44),
  // The digits after the sign; the sign itself is checked on its own.
  'x+n': table(isDigit),
}

export const SIGN_CREDIT = 0x43 // 'C'
export const SIGN_DEBIT = 0x44 // 'D'
export const TRACK_SEPARATOR = 0x3d // '='
export const TRACK_SEPARATOR_D = 0x44 // 'D'

/** Hex digit value of an ASCII byte, or 255 when it is not a hex digit (both cases accepted). */
export const HEX_VALUES: Uint8Array = (() => {
  const values = new Uint8Array(256).fill(255)
  for (let digit = 0; digit < 10; digit += 1) values[0x30 + digit] = digit
  for (let digit = 0; digit < 6; digit += 1) {
    values[0x41 + digit] = 10 + digit
    values[0x61 + digit] = 10 + digit
  }
  return values
})()

/** Upper-case hex digits as ASCII bytes, the form we send. */
export const HEX_DIGITS: Uint8Array = new TextEncoder().encode('0123456789ABCDEF')
