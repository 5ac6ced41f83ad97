// SPDX-License-Identifier: Apache-2.0
/**
 * Wire variants: how the same field specification is laid out in bytes. ISO 8583 leaves this to each
 * link ("dialect"), so a variant is a small record of independent choices rather than a fixed mode.
 */

export interface WireVariant {
  readonly name: string
  /** The MTI as 4 ASCII digits, or as 2 bytes of BCD. */
  readonly mti: 'ascii' | 'bcd'
  /** Each bitmap as 16 hexadecimal characters, or as 8 raw bytes. */
  readonly bitmap: 'hex' | 'binary'
  /** Digits of `n`, `z` and `x+n` fields: one ASCII byte each, or packed two to a byte (BCD). */
  readonly digits: 'ascii' | 'bcd'
  /** LL and LLL prefixes: 2 or 3 ASCII digits, or BCD in 1 or 2 bytes. */
  readonly lengthPrefix: 'ascii' | 'bcd'
  /** `b` fields: raw bytes, or two hexadecimal characters per byte. */
  readonly bytes: 'raw' | 'hex'
}

/** Everything printable: MTI, bitmaps, lengths, digits and binary fields all travel as ASCII text. */
export const ASCII_VARIANT: WireVariant = Object.freeze({
  name: 'ascii',
  mti: 'ascii',
  bitmap: 'hex',
  digits: 'ascii',
  lengthPrefix: 'ascii',
  bytes: 'hex',
})

/** Compact: BCD MTI, digits and length prefixes, raw bitmaps and raw binary fields; text stays ASCII. */
export const BINARY_VARIANT: WireVariant = Object.freeze({
  name: 'binary',
  mti: 'bcd',
  bitmap: 'binary',
  digits: 'bcd',
  lengthPrefix: 'bcd',
  bytes: 'raw',
})

/**
 * ASCII fields with raw bitmaps and raw binary fields. The npm package iso_8583 (used by
 * mojaloop-adapter and contrib-pos-demo) and many Postilion-style links send this.
 */
export const ASCII_BINARY_BITMAP_VARIANT: WireVariant = Object.freeze({
  name: 'ascii-binary-bitmap',
  mti: 'ascii',
  bitmap: 'binary',
  digits: 'ascii',
  lengthPrefix: 'ascii',
  bytes: 'raw',
})
