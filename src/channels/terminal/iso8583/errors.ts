// SPDX-License-Identifier: Apache-2.0
/**
 * The one error the ISO 8583 codec throws. Every way a message can be malformed, on the way in or out,
 * is an Iso8583Error naming the data element, so the TCP gateway can answer any bad input with a
 * format-error response (response code 30) instead of crashing. Messages never quote a field's value:
 * the value may be a PAN, a PIN block or an OTP.
 */

export const ISO8583_ERROR_REASONS = {
  too_long: 'the value or its declared length exceeds the maximum length of the field',
  bad_length: 'the value has the wrong length for a fixed-length field that cannot be padded',
  bad_charset: 'the value holds a character or nibble the field format does not allow',
  bad_type: 'the value has the wrong JavaScript type for the field (string versus bytes)',
  truncated: 'the message ends inside this element',
  bad_length_prefix: 'the LL or LLL length prefix is not made of decimal digits',
  unknown_field: 'the bitmap or the message names a data element the field specification does not define',
  bad_mti: 'the message type indicator is not four decimal digits, or has no response',
  bad_bitmap: 'the bitmap is not valid hexadecimal, or is missing',
  trailing_bytes: 'bytes remain after the last data element the bitmap announces',
  bad_length_header: 'the TCP length header is not a number, or announces an absurd message length',
  out_of_range: 'an amount does not fit the field (negative, or more digits than the field holds)',
} as const satisfies Record<string, string>

export type Iso8583ErrorReason = keyof typeof ISO8583_ERROR_REASONS

/** Field numbers for the parts of a message that are not data elements. */
export const MESSAGE_PART = {
  /** The message as a whole: the length header, or bytes after the last element. */
  message: -1,
  /** The message type indicator; ISO 8583 tooling conventionally calls it field 0. */
  mti: 0,
  /** The bitmaps; data element 1 is the secondary bitmap. */
  bitmap: 1,
} as const

export class Iso8583Error extends Error {
  /** Data element number (2–128), 0 for the MTI, 1 for a bitmap, -1 for the message as a whole. */
  readonly field: number
  /** The element's human name from the spec table ('pan', 'stan'…), or 'mti', 'bitmap', 'message'. */
  readonly fieldName: string
  readonly reason: Iso8583ErrorReason
  /** Byte offset in the message where decoding failed, when decoding. */
  readonly offset: number | undefined

  constructor(field: number, fieldName: string, reason: Iso8583ErrorReason, detail: string, offset?: number) {
    super(`ISO 8583 ${fieldName} (field ${field}): ${reason}: ${detail}${offset === undefined ? '' : ` at byte ${offset}`}`)
    this.name = 'Iso8583Error'
    this.field = field
    this.fieldName = fieldName
    this.reason = reason
    this.offset = offset
  }
}
