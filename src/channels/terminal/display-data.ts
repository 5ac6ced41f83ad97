// SPDX-License-Identifier: Apache-2.0
/**
 * Kivuko's private display and receipt data in ISO 8583 field 63 (reservedPrivate63, ans..999):
 * `KEY=value` pairs separated by `;`, e.g. `AMOUNT=10000;FEE=150;TOTAL=10150;CURRENCY=KES;TRIES=3`.
 * Amounts are minor units in digits, as in field 4. The gateway writes it in 0110 (the quote to
 * confirm), in 0210 with response code 55 (tries left; ACTION=RESEND when it answers a resend) and in an
 * approved 0210 (the receipt); terminals show or print it. A terminal writes it in one request only: the
 * 0200 that asks for the code again, `ACTION=RESEND`. Field 62 is not used for this because it carries the OTP and is masked in logs.
 */

export type DisplayData = Readonly<Record<string, string>>

const KEY = /^[A-Z][A-Z0-9_]{0,31}$/
const FIELD_CHARS_MAX = 999

/** Keeps a value printable and free of the separators: anything else becomes a space. */
function clean(value: string): string {
  return value.replace(/[^\x20-\x7e]|[;=]/g, ' ')
}

export function encodeDisplayData(data: DisplayData): string {
  const text = Object.entries(data)
    .filter(([key]) => KEY.test(key))
    .map(([key, value]) => `${key}=${clean(value)}`)
    .join(';')
  return text.length <= FIELD_CHARS_MAX ? text : text.slice(0, FIELD_CHARS_MAX)
}

/** Reads field 63; pairs that are not `KEY=value` are skipped, a later key wins. */
export function decodeDisplayData(text: string | undefined): DisplayData {
  const data: Record<string, string> = {}
  if (text === undefined) return data
  for (const pair of text.split(';')) {
    const at = pair.indexOf('=')
    if (at <= 0) continue
    const key = pair.slice(0, at)
    if (KEY.test(key)) data[key] = pair.slice(at + 1)
  }
  return data
}
