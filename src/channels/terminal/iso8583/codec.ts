// SPDX-License-Identifier: Apache-2.0
/**
 * ISO 8583 pack and unpack, driven by a field specification table (spec-87.ts) and a wire variant
 * (variants.ts).
 *
 * The codec is our own because no well-kept TypeScript ISO 8583 codec exists. The npm package
 * iso_8583 is JavaScript without types, returns failures as `{error}` objects instead of throwing,
 * always sends a secondary bitmap and is an order of magnitude slower (bench/iso8583.ts); we keep it
 * as a devDependency to prove interop against an independent implementation.
 *
 * Layout (reference §8.1): MTI, primary bitmap, secondary bitmap when bit 1 is set, then the data
 * elements in ascending order. Each field is compiled once into a plan (what to check, how many bytes,
 * how to pad), so packing is one pass over the present fields into a reusable scratch buffer and
 * unpacking is one pass over the bitmap with explicit bounds checks. Unpack treats its input as
 * hostile: anything malformed is an Iso8583Error naming the field, never a TypeError or RangeError.
 */
import { assert } from '../../../core/assert.ts'
import { CHARSET_TABLES, HEX_DIGITS, HEX_VALUES, SIGN_CREDIT, SIGN_DEBIT, TRACK_SEPARATOR, TRACK_SEPARATOR_D } from './charsets.ts'
import { Iso8583Error, MESSAGE_PART, type Iso8583ErrorReason } from './errors.ts'
import { LENGTH_HEADER_BYTES, writeLengthHeader, type LengthHeader } from './framing.ts'
import {
  fieldName,
  fieldSpec,
  findFieldNumber,
  SPEC_87,
  type FieldName,
  type FieldSpec,
  type Iso8583Fields,
  type Iso8583Message,
  type Iso8583Spec,
  type Padding,
} from './spec-87.ts'
import { ASCII_VARIANT, type WireVariant } from './variants.ts'

/** How a field's content is laid out in bytes, decided once per field and variant. */
const TEXT = 0 // one ASCII byte per character, checked against the charset table
const SIGNED_TEXT = 1 // x+n in ASCII: 'C' or 'D', then ASCII digits
const BCD_DIGITS = 2 // n in BCD: two digits per byte, an odd count left-padded with a 0 nibble
const BCD_TRACK = 3 // z in BCD: digits and separator nibble D, an odd count right-padded with an F nibble
const SIGNED_BCD = 4 // x+n in BCD: the sign as one ASCII byte, then BCD digits
const BYTES_RAW = 5 // b as the bytes themselves
const BYTES_HEX = 6 // b as two hexadecimal characters per byte
type ContentKind = 0 | 1 | 2 | 3 | 4 | 5 | 6

interface FieldPlan {
  readonly number: number
  readonly name: string
  readonly kind: ContentKind
  /** Charset table for the characters (digits only for the signed kinds); empty for bytes. */
  readonly table: Uint8Array
  readonly fixed: boolean
  /** Length prefix in bytes on the wire: 0 for fixed fields. */
  readonly prefixBytes: number
  /** 2 for LL, 3 for LLL, 0 for fixed. */
  readonly prefixDigits: number
  readonly maxLength: number
  readonly padding: Padding
  readonly isBytes: boolean
}

/** Bit 1 of the primary bitmap: a secondary bitmap (data elements 65–128) follows. */
const SECONDARY_BITMAP_PRESENT = 0x80000000
const FIELD_NUMBER_MAX = 128
const NO_TABLE = new Uint8Array(0)
const SPACE = 0x20
const ZERO = 0x30

/** Two-digit text of a BCD byte, or undefined when either nibble is above 9. */
const BCD_PAIRS: readonly (string | undefined)[] = Array.from({ length: 256 }, (_, byte) =>
  byte >> 4 <= 9 && (byte & 0x0f) <= 9 ? `${byte >> 4}${byte & 0x0f}` : undefined,
)
/** Track character of a nibble: digits, and D as the field separator '='. */
const TRACK_NIBBLES: readonly (string | undefined)[] = Array.from({ length: 16 }, (_, nibble) =>
  nibble <= 9 ? String(nibble) : nibble === 0x0d ? '=' : undefined,
)

export interface Iso8583CodecOptions {
  /** Default ASCII_VARIANT. */
  readonly variant?: WireVariant
  /** Default SPEC_87. A dialect may change formats but keeps the 1987 names and which fields are bytes. */
  readonly spec?: Iso8583Spec
  /** Header written by packFrame; default 'binary2' (2-byte big-endian length). */
  readonly lengthHeader?: LengthHeader
}

export class Iso8583Codec {
  readonly variant: WireVariant
  readonly spec: Iso8583Spec
  readonly lengthHeader: LengthHeader
  readonly #plans: readonly (FieldPlan | undefined)[]
  readonly #plansByName: ReadonlyMap<string, FieldPlan>
  /** Packing writes here first, then copies out exactly the bytes used: one allocation per message. */
  readonly #scratch: Buffer
  /** Field values by number while packing; cleared after every pack. */
  readonly #slots: (string | Uint8Array | undefined)[] = new Array<string | Uint8Array | undefined>(FIELD_NUMBER_MAX + 1)
  /** Four 32-bit words: bits 1–32, 33–64 (primary bitmap), 65–96, 97–128 (secondary). */
  readonly #bitmap = new Uint32Array(4)

  constructor(options: Iso8583CodecOptions = {}) {
    this.variant = options.variant ?? ASCII_VARIANT
    this.spec = options.spec ?? SPEC_87
    this.lengthHeader = options.lengthHeader ?? 'binary2'
    const plans: (FieldPlan | undefined)[] = new Array<FieldPlan | undefined>(FIELD_NUMBER_MAX + 1).fill(undefined)
    const plansByName = new Map<string, FieldPlan>()
    let wireBytesMax = 4 + 32 + 4 // MTI, two hex bitmaps, the longest length header
    for (const [key, spec] of Object.entries(this.spec)) {
      const number = Number(key)
      assert(Number.isInteger(number) && number >= 1 && number <= FIELD_NUMBER_MAX, `field number ${key} is 1..128`)
      if (number === 1) {
        assert(spec.charset === 'b' && spec.prefix === 'fixed' && spec.maxLength === 8, 'field 1 is the 8-byte secondary bitmap')
        continue
      }
      const plan = compileField(number, spec, this.variant)
      assert(!plansByName.has(plan.name), `field name ${plan.name} is used once`)
      const standard = findFieldNumber(plan.name) === undefined ? undefined : fieldSpec(plan.name as FieldName)
      assert(
        standard === undefined || (standard.charset === 'b') === plan.isBytes,
        `${plan.name} keeps the 1987 choice between bytes and text, so the message types stay true`,
      )
      plans[number] = plan
      plansByName.set(plan.name, plan)
      wireBytesMax += plan.prefixBytes + contentBytes(plan.kind, plan.maxLength)
    }
    this.#plans = plans
    this.#plansByName = plansByName
    this.#scratch = Buffer.alloc(wireBytesMax)
  }

  /** Packs a message into its wire bytes, without a length header. */
  pack(message: Iso8583Message): Buffer {
    const end = this.#packInto(message, 0)
    return Buffer.from(this.#scratch.subarray(0, end))
  }

  /** Packs a message and prepends the codec's length header, ready to write to the socket. */
  packFrame(message: Iso8583Message): Buffer {
    const headerBytes = LENGTH_HEADER_BYTES[this.lengthHeader]
    const end = this.#packInto(message, headerBytes)
    writeLengthHeader(this.#scratch, 0, end - headerBytes, this.lengthHeader)
    return Buffer.from(this.#scratch.subarray(0, end))
  }

  /** Unpacks one whole message (its length header already removed). Throws only Iso8583Error. */
  unpack(bytes: Uint8Array): Iso8583Message {
    if (!(bytes instanceof Uint8Array)) {
      throw new Iso8583Error(MESSAGE_PART.message, 'message', 'bad_type', 'a message is a Uint8Array or Buffer')
    }
    const source = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const end = source.byteLength
    // One latin1 view of the whole message: text fields become cheap slices of it instead of one
    // native Buffer.toString call each, which profiling showed to be a quarter of unpack's time.
    const text = source.toString('latin1', 0, end)
    let offset = 0
    let mti: string
    if (this.variant.mti === 'ascii') {
      if (end < 4) throw partError(MESSAGE_PART.mti, 'mti', 'truncated', 'the message ends inside the MTI', 0)
      for (let index = 0; index < 4; index += 1) {
        const code = source[index] as number
        if (code < ZERO || code > ZERO + 9) throw partError(MESSAGE_PART.mti, 'mti', 'bad_mti', 'the MTI holds a non-digit', index)
      }
      mti = text.slice(0, 4)
      offset = 4
    } else {
      if (end < 2) throw partError(MESSAGE_PART.mti, 'mti', 'truncated', 'the message ends inside the MTI', 0)
      const high = BCD_PAIRS[source[0] as number]
      const low = BCD_PAIRS[source[1] as number]
      if (high === undefined || low === undefined) throw partError(MESSAGE_PART.mti, 'mti', 'bad_mti', 'the BCD MTI holds a nibble above 9', 0)
      mti = high + low
      offset = 2
    }

    const bitmap = this.#bitmap
    offset = this.#readBitmap(source, offset, end, 0)
    const secondary = ((bitmap[0] as number) & SECONDARY_BITMAP_PRESENT) !== 0
    if (secondary) offset = this.#readBitmap(source, offset, end, 2)
    else {
      bitmap[2] = 0
      bitmap[3] = 0
    }

    const fields: Record<string, string | Uint8Array> = {}
    const words = secondary ? 4 : 2
    for (let wordIndex = 0; wordIndex < words; wordIndex += 1) {
      // Bit 1 is the secondary bitmap itself, already read above.
      let word = wordIndex === 0 ? (bitmap[0] as number) & ~SECONDARY_BITMAP_PRESENT : (bitmap[wordIndex] as number)
      while (word !== 0) {
        const lead = Math.clz32(word)
        word &= ~(SECONDARY_BITMAP_PRESENT >>> lead)
        const number = wordIndex * 32 + lead + 1
        const plan = this.#plans[number]
        if (plan === undefined) {
          const name = fieldName(number) ?? `field${number}`
          throw partError(number, name, 'unknown_field', 'the bitmap names a field the specification does not define', offset)
        }
        offset = this.#unpackField(plan, source, text, offset, end, fields)
      }
    }
    if (offset !== end) {
      throw partError(MESSAGE_PART.message, 'message', 'trailing_bytes', `${end - offset} bytes follow the last field`, offset)
    }
    return { mti, fields: fields as Iso8583Fields }
  }

  #packInto(message: Iso8583Message, start: number): number {
    const out = this.#scratch
    const slots = this.#slots
    const bitmap = this.#bitmap
    bitmap.fill(0)
    try {
      const fields = message.fields as Readonly<Record<string, string | Uint8Array | undefined>>
      for (const name in fields) {
        const value = fields[name]
        if (value === undefined) continue
        const plan = this.#plansByName.get(name)
        if (plan === undefined) {
          throw partError(findFieldNumber(name) ?? MESSAGE_PART.message, name, 'unknown_field', 'the specification has no field of this name')
        }
        slots[plan.number] = value
        const index = plan.number - 1
        bitmap[index >>> 5] = (bitmap[index >>> 5] as number) | (SECONDARY_BITMAP_PRESENT >>> (index & 31))
      }
      const secondary = bitmap[2] !== 0 || bitmap[3] !== 0
      if (secondary) bitmap[0] = (bitmap[0] as number) | SECONDARY_BITMAP_PRESENT

      let offset = this.#writeMti(message.mti, out, start)
      offset = this.#writeBitmap(out, offset, 0)
      if (secondary) offset = this.#writeBitmap(out, offset, 2)
      const last = secondary ? FIELD_NUMBER_MAX : 64
      for (let number = 2; number <= last; number += 1) {
        const value = slots[number]
        if (value !== undefined) offset = packField(this.#plans[number] as FieldPlan, value, out, offset, this.variant)
      }
      return offset
    } finally {
      slots.fill(undefined)
    }
  }

  #writeMti(mti: unknown, out: Buffer, offset: number): number {
    if (typeof mti !== 'string' || mti.length !== 4) throw partError(MESSAGE_PART.mti, 'mti', 'bad_mti', 'the MTI is four decimal digits')
    for (let index = 0; index < 4; index += 1) {
      const code = mti.charCodeAt(index)
      if (code < ZERO || code > ZERO + 9) throw partError(MESSAGE_PART.mti, 'mti', 'bad_mti', 'the MTI is four decimal digits')
    }
    if (this.variant.mti === 'ascii') {
      for (let index = 0; index < 4; index += 1) out[offset + index] = mti.charCodeAt(index)
      return offset + 4
    }
    out[offset] = ((mti.charCodeAt(0) - ZERO) << 4) | (mti.charCodeAt(1) - ZERO)
    out[offset + 1] = ((mti.charCodeAt(2) - ZERO) << 4) | (mti.charCodeAt(3) - ZERO)
    return offset + 2
  }

  /** Writes bitmap words `first` and `first + 1` (one 64-bit bitmap). */
  #writeBitmap(out: Buffer, offset: number, first: number): number {
    const bitmap = this.#bitmap
    if (this.variant.bitmap === 'binary') {
      out.writeUInt32BE(bitmap[first] as number, offset)
      out.writeUInt32BE(bitmap[first + 1] as number, offset + 4)
      return offset + 8
    }
    for (let word = first; word < first + 2; word += 1) {
      const value = bitmap[word] as number
      for (let shift = 28; shift >= 0; shift -= 4) {
        out[offset] = HEX_DIGITS[(value >>> shift) & 0x0f] as number
        offset += 1
      }
    }
    return offset
  }

  /** Reads one 64-bit bitmap into words `first` and `first + 1`. */
  #readBitmap(source: Buffer, offset: number, end: number, first: number): number {
    const bitmap = this.#bitmap
    const partName = first === 0 ? 'bitmap' : 'secondaryBitmap'
    if (this.variant.bitmap === 'binary') {
      if (end - offset < 8) throw partError(MESSAGE_PART.bitmap, partName, 'truncated', 'the message ends inside a bitmap', offset)
      bitmap[first] = source.readUInt32BE(offset)
      bitmap[first + 1] = source.readUInt32BE(offset + 4)
      return offset + 8
    }
    if (end - offset < 16) throw partError(MESSAGE_PART.bitmap, partName, 'truncated', 'the message ends inside a bitmap', offset)
    for (let word = first; word < first + 2; word += 1) {
      let value = 0
      for (let index = 0; index < 8; index += 1) {
        const nibble = HEX_VALUES[source[offset] as number] as number
        if (nibble > 15) throw partError(MESSAGE_PART.bitmap, partName, 'bad_bitmap', 'the bitmap holds a non-hexadecimal character', offset)
        value = (value << 4) | nibble
        offset += 1
      }
      bitmap[word] = value >>> 0
    }
    return offset
  }

  #unpackField(
    plan: FieldPlan,
    source: Buffer,
    text: string,
    offset: number,
    end: number,
    fields: Record<string, string | Uint8Array>,
  ): number {
    let units = plan.maxLength
    if (!plan.fixed) {
      if (end - offset < plan.prefixBytes) throw fieldError(plan, 'truncated', 'the message ends inside the length prefix', offset)
      units = readPrefix(plan, source, offset, this.variant)
      if (units > plan.maxLength) throw fieldError(plan, 'too_long', `declared length ${units} exceeds ${plan.maxLength}`, offset)
      offset += plan.prefixBytes
    }
    const size = contentBytes(plan.kind, units)
    if (end - offset < size) throw fieldError(plan, 'truncated', `the message ends inside the field (${size} bytes expected)`, offset)
    fields[plan.name] = readContent(plan, source, text, offset, units, size)
    return offset + size
  }
}

function compileField(number: number, spec: FieldSpec, variant: WireVariant): FieldPlan {
  assert(spec.maxLength >= 1, `field ${number} has a positive maximum length`)
  assert(spec.prefix !== 'LL' || spec.maxLength <= 99, `field ${number}: an LL prefix counts to 99`)
  assert(spec.prefix !== 'LLL' || spec.maxLength <= 999, `field ${number}: an LLL prefix counts to 999`)
  const bcd = variant.digits === 'bcd'
  let kind: ContentKind
  switch (spec.charset) {
    case 'n':
      kind = bcd ? BCD_DIGITS : TEXT
      break
    case 'z':
      kind = bcd ? BCD_TRACK : TEXT
      break
    case 'x+n':
      kind = bcd ? SIGNED_BCD : SIGNED_TEXT
      break
    case 'b':
      kind = variant.bytes === 'raw' ? BYTES_RAW : BYTES_HEX
      break
    default:
      kind = TEXT
  }
  const isBytes = spec.charset === 'b'
  assert(!(isBytes || spec.charset === 'z') || spec.padding === 'none', `field ${number}: bytes and track data are never padded`)
  assert(spec.prefix === 'fixed' || spec.padding === 'none', `field ${number}: only fixed-length fields are padded`)
  assert(kind !== BCD_DIGITS || spec.padding !== 'rightSpace', `field ${number}: digits pad with zeros`)
  const fixed = spec.prefix === 'fixed'
  const prefixDigits = spec.prefix === 'LL' ? 2 : spec.prefix === 'LLL' ? 3 : 0
  const prefixBytes = variant.lengthPrefix === 'ascii' ? prefixDigits : Math.ceil(prefixDigits / 2)
  return {
    number,
    name: spec.name,
    kind,
    table: isBytes ? NO_TABLE : CHARSET_TABLES[spec.charset],
    fixed,
    prefixBytes,
    prefixDigits,
    maxLength: spec.maxLength,
    padding: spec.padding,
    isBytes,
  }
}

/** Bytes on the wire for `units` characters, digits or bytes of content. */
function contentBytes(kind: ContentKind, units: number): number {
  switch (kind) {
    case TEXT:
    case BYTES_RAW:
      return units
    case SIGNED_TEXT:
      return 1 + units
    case BCD_DIGITS:
    case BCD_TRACK:
      return (units + 1) >>> 1
    case SIGNED_BCD:
      return 1 + ((units + 1) >>> 1)
    case BYTES_HEX:
      return units * 2
  }
}

function partError(field: number, name: string, reason: Iso8583ErrorReason, detail: string, offset?: number): Iso8583Error {
  return new Iso8583Error(field, name, reason, detail, offset)
}

function fieldError(plan: FieldPlan, reason: Iso8583ErrorReason, detail: string, offset?: number): Iso8583Error {
  return new Iso8583Error(plan.number, plan.name, reason, detail, offset)
}

function packField(plan: FieldPlan, value: string | Uint8Array, out: Buffer, offset: number, variant: WireVariant): number {
  let units: number
  if (plan.isBytes) {
    if (!(value instanceof Uint8Array)) throw fieldError(plan, 'bad_type', 'the field holds bytes (a Uint8Array)')
    units = value.byteLength
  } else {
    if (typeof value !== 'string') throw fieldError(plan, 'bad_type', 'the field holds text (a string)')
    units = value.length
    if (plan.kind === SIGNED_TEXT || plan.kind === SIGNED_BCD) {
      const sign = value.charCodeAt(0)
      if (sign !== SIGN_CREDIT && sign !== SIGN_DEBIT) throw fieldError(plan, 'bad_charset', "an x+n value starts with 'C' or 'D'")
      units -= 1
    }
  }
  if (units > plan.maxLength) throw fieldError(plan, 'too_long', `${units} exceeds the maximum of ${plan.maxLength}`)
  let padCount = 0
  if (plan.fixed) {
    padCount = plan.maxLength - units
    if (padCount > 0 && plan.padding === 'none') {
      throw fieldError(plan, 'bad_length', `the field is exactly ${plan.maxLength} long and ${units} were given`)
    }
  } else {
    offset = writePrefix(units, plan, out, offset, variant)
  }

  switch (plan.kind) {
    case TEXT:
      return writeText(plan, value as string, 0, padCount, out, offset)
    case SIGNED_TEXT:
      out[offset] = (value as string).charCodeAt(0)
      return writeText(plan, value as string, 1, padCount, out, offset + 1)
    case BCD_DIGITS:
      return writeBcdDigits(plan, value as string, 0, padCount, out, offset)
    case SIGNED_BCD:
      out[offset] = (value as string).charCodeAt(0)
      return writeBcdDigits(plan, value as string, 1, padCount, out, offset + 1)
    case BCD_TRACK:
      return writeBcdTrack(plan, value as string, out, offset)
    case BYTES_RAW:
      out.set(value as Uint8Array, offset)
      return offset + units
    case BYTES_HEX: {
      const bytes = value as Uint8Array
      for (let index = 0; index < units; index += 1) {
        const byte = bytes[index] as number
        out[offset] = HEX_DIGITS[byte >>> 4] as number
        out[offset + 1] = HEX_DIGITS[byte & 0x0f] as number
        offset += 2
      }
      return offset
    }
  }
}

function writePrefix(units: number, plan: FieldPlan, out: Buffer, offset: number, variant: WireVariant): number {
  if (variant.lengthPrefix === 'ascii') {
    if (plan.prefixDigits === 3) {
      out[offset] = ZERO + Math.floor(units / 100)
      offset += 1
    }
    out[offset] = ZERO + (Math.floor(units / 10) % 10)
    out[offset + 1] = ZERO + (units % 10)
    return offset + 2
  }
  if (plan.prefixDigits === 3) {
    out[offset] = Math.floor(units / 100)
    offset += 1
  }
  out[offset] = ((Math.floor(units / 10) % 10) << 4) | (units % 10)
  return offset + 1
}

/** Copies `value` from `from` as ASCII, checking each character, with the field's padding around it. */
function writeText(plan: FieldPlan, value: string, from: number, padCount: number, out: Buffer, offset: number): number {
  if (padCount > 0 && plan.padding === 'left0') {
    out.fill(ZERO, offset, offset + padCount)
    offset += padCount
  }
  const table = plan.table
  for (let index = from; index < value.length; index += 1) {
    const code = value.charCodeAt(index)
    if (table[code] !== 1) throw fieldError(plan, 'bad_charset', `character ${index + 1} is outside the field's charset`)
    out[offset] = code
    offset += 1
  }
  if (padCount > 0 && plan.padding === 'rightSpace') {
    out.fill(SPACE, offset, offset + padCount)
    offset += padCount
  }
  return offset
}

/** Packs the digits of `value` from `from`, after `padCount` zeros, two to a byte; an odd total gets a leading 0 nibble. */
function writeBcdDigits(plan: FieldPlan, value: string, from: number, padCount: number, out: Buffer, offset: number): number {
  const digits = value.length - from
  const total = digits + padCount
  const lead = padCount + (total & 1) // zero nibbles before the first digit
  const nibbles = total + (total & 1)
  for (let nibble = 0; nibble < nibbles; nibble += 2) {
    out[offset] = (bcdDigit(plan, value, from, nibble - lead) << 4) | bcdDigit(plan, value, from, nibble + 1 - lead)
    offset += 1
  }
  return offset
}

function bcdDigit(plan: FieldPlan, value: string, from: number, index: number): number {
  if (index < 0) return 0
  const digit = value.charCodeAt(from + index) - ZERO
  if (digit < 0 || digit > 9) throw fieldError(plan, 'bad_charset', `character ${from + index + 1} is not a digit`)
  return digit
}

/** Packs track data two characters to a byte, the separator as nibble D; an odd count ends with an F nibble. */
function writeBcdTrack(plan: FieldPlan, value: string, out: Buffer, offset: number): number {
  for (let index = 0; index < value.length; index += 2) {
    const high = trackNibble(plan, value, index)
    const low = index + 1 < value.length ? trackNibble(plan, value, index + 1) : 0x0f
    out[offset] = (high << 4) | low
    offset += 1
  }
  return offset
}

function trackNibble(plan: FieldPlan, value: string, index: number): number {
  const code = value.charCodeAt(index)
  if (code === TRACK_SEPARATOR || code === TRACK_SEPARATOR_D) return 0x0d
  const digit = code - ZERO
  if (digit < 0 || digit > 9) throw fieldError(plan, 'bad_charset', `character ${index + 1} is not track data`)
  return digit
}

function readPrefix(plan: FieldPlan, source: Buffer, offset: number, variant: WireVariant): number {
  let units = 0
  if (variant.lengthPrefix === 'ascii') {
    for (let index = 0; index < plan.prefixDigits; index += 1) {
      const digit = (source[offset + index] as number) - ZERO
      if (digit < 0 || digit > 9) throw fieldError(plan, 'bad_length_prefix', 'the length prefix holds a non-digit', offset)
      units = units * 10 + digit
    }
    return units
  }
  for (let index = 0; index < plan.prefixBytes; index += 1) {
    const byte = source[offset + index] as number
    if (byte >> 4 > 9 || (byte & 0x0f) > 9) throw fieldError(plan, 'bad_length_prefix', 'the BCD length prefix holds a nibble above 9', offset)
    units = units * 100 + (byte >> 4) * 10 + (byte & 0x0f)
  }
  return units
}

/** Decodes one field's content; `text` is the whole message as latin1, for slicing text fields out of it. */
function readContent(plan: FieldPlan, source: Buffer, text: string, offset: number, units: number, size: number): string | Uint8Array {
  switch (plan.kind) {
    case TEXT:
      checkText(plan, source, offset, offset + size)
      return text.slice(offset, offset + size)
    case SIGNED_TEXT:
      checkSign(plan, source, offset)
      checkText(plan, source, offset + 1, offset + size)
      return text.slice(offset, offset + size)
    case BCD_DIGITS:
      return readBcdDigits(plan, source, offset, units)
    case SIGNED_BCD:
      checkSign(plan, source, offset)
      return String.fromCharCode(source[offset] as number) + readBcdDigits(plan, source, offset + 1, units)
    case BCD_TRACK:
      return readBcdTrack(plan, source, offset, units)
    case BYTES_RAW: {
      const bytes = new Uint8Array(size)
      bytes.set(source.subarray(offset, offset + size))
      return bytes
    }
    case BYTES_HEX: {
      const bytes = new Uint8Array(units)
      for (let index = 0; index < units; index += 1) {
        const high = HEX_VALUES[source[offset] as number] as number
        const low = HEX_VALUES[source[offset + 1] as number] as number
        if (high > 15 || low > 15) throw fieldError(plan, 'bad_charset', 'binary data holds a non-hexadecimal character', offset)
        bytes[index] = (high << 4) | low
        offset += 2
      }
      return bytes
    }
  }
}

function checkText(plan: FieldPlan, source: Buffer, from: number, to: number): void {
  const table = plan.table
  for (let offset = from; offset < to; offset += 1) {
    if (table[source[offset] as number] !== 1) throw fieldError(plan, 'bad_charset', 'a byte is outside the field charset', offset)
  }
}

function checkSign(plan: FieldPlan, source: Buffer, offset: number): void {
  const sign = source[offset]
  if (sign !== SIGN_CREDIT && sign !== SIGN_DEBIT) throw fieldError(plan, 'bad_charset', "an x+n value starts with 'C' or 'D'", offset)
}

/** Unpacks `digits` BCD digits; an odd count skips the leading pad nibble. */
function readBcdDigits(plan: FieldPlan, source: Buffer, offset: number, digits: number): string {
  let text = ''
  let index = offset
  const end = offset + ((digits + 1) >>> 1)
  if ((digits & 1) === 1) {
    const low = (source[index] as number) & 0x0f
    if (low > 9) throw fieldError(plan, 'bad_charset', 'a BCD nibble is above 9', index)
    text = String.fromCharCode(ZERO + low)
    index += 1
  }
  for (; index < end; index += 1) {
    const pair = BCD_PAIRS[source[index] as number]
    if (pair === undefined) throw fieldError(plan, 'bad_charset', 'a BCD nibble is above 9', index)
    text += pair
  }
  return text
}

/** Unpacks `count` track characters; an odd count ignores the trailing pad nibble. */
function readBcdTrack(plan: FieldPlan, source: Buffer, offset: number, count: number): string {
  let text = ''
  for (let index = 0; index < count; index += 1) {
    const byte = source[offset + (index >>> 1)] as number
    const character = TRACK_NIBBLES[(index & 1) === 0 ? byte >>> 4 : byte & 0x0f]
    if (character === undefined) throw fieldError(plan, 'bad_charset', 'a track nibble is neither a digit nor the separator', offset + (index >>> 1))
    text += character
  }
  return text
}
