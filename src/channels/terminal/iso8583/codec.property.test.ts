// SPDX-License-Identifier: Apache-2.0
/**
 * Property tests over the whole 1987 table: any valid message survives pack → unpack unchanged in
 * every wire variant, short fixed fields come back padded, and no input of any shape makes unpack throw
 * anything but an Iso8583Error (moov's fuzz idea: unpack → pack → unpack must also hold).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  ASCII_BINARY_BITMAP_VARIANT,
  ASCII_VARIANT,
  BINARY_VARIANT,
  FIELD_NAMES,
  FrameDecoder,
  Iso8583Codec,
  Iso8583Error,
  SPEC_87,
  type FieldSpec,
  type Iso8583Fields,
  type Iso8583Message,
  type Iso8583Spec,
} from './index.ts'

const VARIANTS = [ASCII_VARIANT, BINARY_VARIANT, ASCII_BINARY_BITMAP_VARIANT]
const codecs = VARIANTS.map((variant) => new Iso8583Codec({ variant }))

const charsOf = (from: number, to: number, keep: (code: number) => boolean = () => true): string[] =>
  Array.from({ length: to - from + 1 }, (_, index) => from + index)
    .filter(keep)
    .map((code) => String.fromCharCode(code))

const isLetter = (code: number): boolean => (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)
const DIGITS = charsOf(0x30, 0x39)
const CHARACTERS: Readonly<Record<Exclude<FieldSpec['charset'], 'b' | 'x+n'>, string[]>> = {
  n: DIGITS,
  an: [...DIGITS, ...charsOf(0x41, 0x5a), ...charsOf(0x61, 0x7a), ' '],
  ans: charsOf(0x20, 0x7e),
  ns: charsOf(0x20, 0x7e, (code) => !isLetter(code)),
  // '=' only: BCD turns the 'D' separator into '=' (see the table tests).
  z: [...DIGITS, '='],
}

const text = (characters: string[], minLength: number, maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...characters), minLength, maxLength })

/** A valid value for the field, at full width when the field is fixed (the canonical form unpack returns). */
function valueOf(spec: FieldSpec): fc.Arbitrary<string | Uint8Array> {
  const minLength = spec.prefix === 'fixed' ? spec.maxLength : 0
  switch (spec.charset) {
    case 'b':
      return fc.uint8Array({ minLength, maxLength: spec.maxLength })
    case 'x+n':
      return fc.tuple(fc.constantFrom('C', 'D'), text(DIGITS, minLength, spec.maxLength)).map(([sign, digits]) => sign + digits)
    default:
      return text(CHARACTERS[spec.charset], minLength, spec.maxLength)
  }
}

const dataFields = Object.entries(SPEC_87 as Iso8583Spec).filter(([, spec]) => spec.name !== 'secondaryBitmap')

/** Any subset of the 127 data elements, each with a valid value, and any four-digit MTI. */
const validMessage: fc.Arbitrary<Iso8583Message> = fc
  .tuple(
    text(DIGITS, 4, 4),
    fc.subarray(dataFields).chain((chosen) => fc.record(Object.fromEntries(chosen.map(([, spec]) => [spec.name, valueOf(spec)])), { noNullPrototype: true })),
  )
  .map(([mti, fields]) => ({ mti, fields: fields as Iso8583Fields }))

/** Unpack must either succeed or throw an Iso8583Error; when it succeeds, pack and unpack agree with it. */
function unpackSafely(codec: Iso8583Codec, bytes: Uint8Array): void {
  let message: Iso8583Message
  try {
    message = codec.unpack(bytes)
  } catch (error) {
    if (error instanceof Iso8583Error) return
    throw error
  }
  assert.deepEqual(codec.unpack(codec.pack(message)), message)
}

describe('ISO 8583 codec: round trips (property)', () => {
  for (const codec of codecs) {
    it(`unpack(pack(m)) equals m for any valid message, ${codec.variant.name} variant`, () => {
      fc.assert(
        fc.property(validMessage, (message) => {
          assert.deepEqual(codec.unpack(codec.pack(message)), message)
        }),
        { numRuns: 300 },
      )
    })
  }

  it('every field of the table round-trips at its maximum length in every variant', () => {
    for (const [, spec] of dataFields) {
      const longest = spec.charset === 'b' ? new Uint8Array(spec.maxLength).fill(0xa5) : (spec.charset === 'x+n' ? 'C' : '') + '9'.repeat(spec.maxLength)
      const message: Iso8583Message = { mti: '0200', fields: { [spec.name]: longest } as Iso8583Fields }
      for (const codec of codecs) assert.deepEqual(codec.unpack(codec.pack(message)), message, `${spec.name} in ${codec.variant.name}`)
    }
  })

  it('short values in fixed fields come back padded: numbers with leading zeros, text with trailing spaces', () => {
    const fixedText = dataFields.filter(([, spec]) => spec.prefix === 'fixed' && spec.charset !== 'b')
    const shortField = fc.constantFrom(...fixedText).chain(([, spec]) =>
      fc.tuple(fc.constant(spec), spec.charset === 'x+n' ? text(DIGITS, 0, spec.maxLength - 1) : text(CHARACTERS[spec.charset as 'n'], 0, spec.maxLength - 1)),
    )
    fc.assert(
      fc.property(shortField, fc.constantFrom(...codecs), ([spec, value], codec) => {
        const sign = spec.charset === 'x+n' ? 'D' : ''
        const message: Iso8583Message = { mti: '0200', fields: { [spec.name]: sign + value } as Iso8583Fields }
        const padded = spec.padding === 'left0' ? sign + value.padStart(spec.maxLength, '0') : value.padEnd(spec.maxLength, ' ')
        assert.deepEqual(codec.unpack(codec.pack(message)).fields, { [spec.name]: padded })
      }),
      { numRuns: 300 },
    )
  })
})

describe('ISO 8583 codec: fuzzing (property)', () => {
  for (const codec of codecs) {
    it(`random bytes only ever raise Iso8583Error, ${codec.variant.name} variant`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => unpackSafely(codec, bytes)),
        { numRuns: 1000 },
      )
    })

    it(`a valid MTI and bitmap followed by random bytes only ever raise Iso8583Error, ${codec.variant.name} variant`, () => {
      const header = fc.tuple(validMessage, fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ maxLength: 300 }))
      fc.assert(
        fc.property(header, ([message, bitmap, tail]) => {
          // The MTI of a real message, a random bitmap of the variant's width, then noise.
          const mtiBytes = codec.pack({ mti: message.mti, fields: {} }).subarray(0, codec.variant.mti === 'ascii' ? 4 : 2)
          const bitmapBytes = codec.variant.bitmap === 'hex' ? Buffer.from(Buffer.from(bitmap).toString('hex').toUpperCase(), 'latin1') : bitmap
          unpackSafely(codec, Buffer.concat([mtiBytes, bitmapBytes, tail]))
        }),
        { numRuns: 1000 },
      )
    })

    it(`mutated valid messages only ever raise Iso8583Error, ${codec.variant.name} variant`, () => {
      const mutation = fc.oneof(
        fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
        fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), byte: fc.constant(0) }),
        fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
        fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), byte: fc.constant(0) }),
      )
      fc.assert(
        fc.property(validMessage, fc.array(mutation, { minLength: 1, maxLength: 4 }), (message, mutations) => {
          let bytes: Buffer = codec.pack(message)
          for (const { kind, at, byte } of mutations) {
            const index = bytes.byteLength === 0 ? 0 : at % bytes.byteLength
            if (kind === 'flip' && bytes.byteLength > 0) bytes[index] = byte
            if (kind === 'truncate') bytes = bytes.subarray(0, index)
            if (kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, index), Buffer.of(byte), bytes.subarray(index)])
            if (kind === 'delete') bytes = Buffer.concat([bytes.subarray(0, index), bytes.subarray(index + 1)])
          }
          unpackSafely(codec, bytes)
        }),
        { numRuns: 500 },
      )
    })
  }

  it('the frame decoder only ever raises Iso8583Error on any stream', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), fc.constantFrom('binary2' as const, 'ascii4' as const), (chunks, header) => {
        const decoder = new FrameDecoder({ header })
        for (const chunk of chunks) {
          try {
            decoder.push(chunk)
          } catch (error) {
            assert.ok(error instanceof Iso8583Error, String(error))
            return
          }
        }
      }),
      { numRuns: 1000 },
    )
  })

  it('names every field the bitmap may announce, so unknown_field needs a dialect table', () => {
    for (let number = 2; number <= 128; number += 1) assert.ok(FIELD_NAMES.has(number), `field ${number} has a name`)
  })
})
