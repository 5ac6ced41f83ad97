// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AssertionFailed } from '../../../core/assert.ts'
import {
  ASCII_BINARY_BITMAP_VARIANT,
  ASCII_VARIANT,
  BINARY_VARIANT,
  Iso8583Codec,
  Iso8583Error,
  fieldNumber,
  SPEC_87,
  type FieldName,
  type Iso8583ErrorReason,
  type Iso8583Fields,
  type Iso8583Message,
  type Iso8583Spec,
} from './index.ts'

const ascii = new Iso8583Codec({ variant: ASCII_VARIANT })
const binary = new Iso8583Codec({ variant: BINARY_VARIANT })

/** The bytes after the MTI and the bitmaps, for a message holding only `fields`. */
function fieldBytes(codec: Iso8583Codec, fields: Iso8583Fields): Buffer {
  const packed = codec.pack({ mti: '0200', fields })
  const mtiBytes = codec.variant.mti === 'ascii' ? 4 : 2
  const bitmapBytes = codec.variant.bitmap === 'hex' ? 16 : 8
  const hasSecondary = (Object.keys(fields) as FieldName[]).some((name) => fieldNumber(name) > 64)
  return packed.subarray(mtiBytes + bitmapBytes * (hasSecondary ? 2 : 1))
}

function expectError(action: () => unknown, field: number, reason: Iso8583ErrorReason): Iso8583Error {
  try {
    action()
  } catch (error) {
    assert.ok(error instanceof Iso8583Error, `expected an Iso8583Error, got ${String(error)}`)
    assert.equal(error.reason, reason, error.message)
    assert.equal(error.field, field, error.message)
    return error
  }
  assert.fail(`expected ${reason} on field ${field}`)
}

const hex = (text: string): Buffer => Buffer.from(text.replaceAll(' ', ''), 'hex')
const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1')
const PIN_BLOCK = Uint8Array.from([0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef])

describe('ISO 8583 codec: field types, ASCII variant', () => {
  const rows: [string, Iso8583Fields, string][] = [
    ['n fixed', { processingCode: '010000' }, '010000'],
    ['n fixed, left-padded with zeros', { stan: '42' }, '000042'],
    ['n fixed, amount of 12 digits', { amountTransaction: '000000010000' }, '000000010000'],
    ['n LLVAR', { pan: '4761739001010119' }, '164761739001010119'],
    ['n LLVAR, empty', { acquiringInstitutionId: '' }, '00'],
    ['x+n fixed, digits left-padded after the sign', { amountTransactionFee: 'D100' }, 'D00000100'],
    ['an fixed, right-padded with spaces', { authId: 'AB1' }, 'AB1   '],
    ['an fixed, full width', { responseCode: '00' }, '00'],
    ['ans fixed, right-padded with spaces', { terminalId: 'ATM1' }, 'ATM1    '],
    ['ans LLLVAR', { additionalData: 'hello, world' }, '012hello, world'],
    ['ans LLVAR', { accountId1: '254712345678' }, '12254712345678'],
    ['z LLVAR with = separator', { track2: '4761=2712' }, '094761=2712'],
    ['z LLVAR with D separator, kept as sent', { track2: '4761D2712' }, '094761D2712'],
    ['ns LLVAR', { panExtended: '12-34' }, '0512-34'],
    ['b fixed, as hex characters', { pinData: PIN_BLOCK }, '0123456789ABCDEF'],
  ]
  for (const [label, fields, wire] of rows) {
    it(`${label}: packs to ${JSON.stringify(wire)}`, () => {
      assert.equal(fieldBytes(ascii, fields).toString('latin1'), wire)
    })
  }

  it('unpacks fixed fields at full width, padding included', () => {
    const message = ascii.unpack(ascii.pack({ mti: '0200', fields: { stan: '42', authId: 'AB1', amountTransactionFee: 'C7' } }))
    assert.deepEqual(message.fields, { stan: '000042', authId: 'AB1   ', amountTransactionFee: 'C00000007' })
  })

  it('accepts lower-case hex in bitmaps and binary fields', () => {
    const message = ascii.unpack(latin1('0200' + '0000000000001000' + '0123456789abcdef'))
    assert.deepEqual(message.fields, { pinData: PIN_BLOCK })
  })
})

describe('ISO 8583 codec: field types, binary (BCD) variant', () => {
  const rows: [string, Iso8583Fields, string][] = [
    ['n fixed', { processingCode: '010000' }, '01 00 00'],
    ['n fixed, left-padded with zeros', { stan: '42' }, '00 00 42'],
    ['n fixed of odd length, a leading 0 nibble', { posEntryMode: '051' }, '00 51'],
    ['n LLVAR, even digits', { pan: '4761739001010119' }, '16 47 61 73 90 01 01 01 19'],
    ['n LLVAR, odd digits left-padded', { pan: '476173900101011' }, '15 04 76 17 39 00 10 10 11'],
    ['x+n fixed, ASCII sign then BCD', { amountTransactionFee: 'D100' }, '44 00 00 01 00'],
    ['z LLVAR, separator as nibble D, odd count right-padded with F', { track2: '4761=2712' }, '09 47 61 d2 71 2f'],
    ['z LLVAR, D separator packs the same', { track2: '4761D2712' }, '09 47 61 d2 71 2f'],
    ['ans LLLVAR, BCD prefix in 2 bytes, text in ASCII', { additionalData: 'hello' }, '00 05 68 65 6c 6c 6f'],
    ['an fixed, text in ASCII', { authId: 'AB1' }, '41 42 31 20 20 20'],
    ['b fixed, raw', { pinData: PIN_BLOCK }, '01 23 45 67 89 ab cd ef'],
  ]
  for (const [label, fields, wire] of rows) {
    it(`${label}: packs to ${wire}`, () => {
      assert.equal(fieldBytes(binary, fields).toString('hex'), wire.replaceAll(' ', ''))
    })
  }

  it('unpacks the track separator nibble as =', () => {
    const message = binary.unpack(binary.pack({ mti: '0200', fields: { track2: '4761D2712' } }))
    assert.equal(message.fields.track2, '4761=2712')
  })

  it('packs the MTI as two BCD bytes', () => {
    assert.equal(binary.pack({ mti: '0420', fields: {} }).subarray(0, 2).toString('hex'), '0420')
  })
})

describe('ISO 8583 codec: bitmaps', () => {
  it('sets one bit per field in the primary bitmap (ASCII)', () => {
    assert.equal(ascii.pack({ mti: '0200', fields: { stan: '000042' } }).toString('latin1'), '0200' + '0020000000000000' + '000042')
  })

  it('sends the secondary bitmap, and sets bit 1, only when a field above 64 is present', () => {
    const packed = ascii.pack({ mti: '0800', fields: { networkManagementCode: '301' } })
    assert.equal(packed.toString('latin1'), '0800' + '8000000000000000' + '0400000000000000' + '301')
  })

  it('maps field 128 to the last bit of the secondary bitmap (binary)', () => {
    const packed = binary.pack({ mti: '0200', fields: { mac2: PIN_BLOCK } })
    assert.equal(packed.toString('hex'), '0200' + '8000000000000000' + '0000000000000001' + '0123456789abcdef')
  })

  it('reads a secondary bitmap that is present but empty, as iso_8583 always sends one', () => {
    const message = ascii.unpack(latin1('0200' + 'C000000000000000' + '0000000000000000' + '06123456'))
    assert.deepEqual(message, { mti: '0200', fields: { pan: '123456' } })
  })

  it('writes fields in ascending order whatever the order of the object', () => {
    const forwards = ascii.pack({ mti: '0200', fields: { pan: '1234', stan: '000001', networkManagementCode: '001' } })
    const backwards = ascii.pack({ mti: '0200', fields: { networkManagementCode: '001', stan: '000001', pan: '1234' } })
    assert.deepEqual(forwards, backwards)
  })
})

describe('ISO 8583 codec: packing errors name the field', () => {
  const rows: [string, Iso8583Message, number, Iso8583ErrorReason][] = [
    ['MTI of three digits', { mti: '200', fields: {} }, 0, 'bad_mti'],
    ['MTI with a letter', { mti: '02A0', fields: {} }, 0, 'bad_mti'],
    ['PAN of 20 digits', { mti: '0200', fields: { pan: '12345678901234567890' } }, 2, 'too_long'],
    ['STAN of 7 digits', { mti: '0200', fields: { stan: '1234567' } }, 11, 'too_long'],
    ['STAN with letters', { mti: '0200', fields: { stan: '12ab' } }, 11, 'bad_charset'],
    ['terminal id beyond ASCII', { mti: '0200', fields: { terminalId: 'ATMé' } }, 41, 'bad_charset'],
    ['terminal id beyond latin1', { mti: '0200', fields: { terminalId: 'ATM€' } }, 41, 'bad_charset'],
    ['RRN with punctuation (an)', { mti: '0200', fields: { rrn: '1234-5678' } }, 37, 'bad_charset'],
    ['fee without a sign', { mti: '0200', fields: { amountTransactionFee: '100' } }, 28, 'bad_charset'],
    ['fee of 9 digits', { mti: '0200', fields: { amountTransactionFee: 'D123456789' } }, 28, 'too_long'],
    ['PIN block of 7 bytes', { mti: '0200', fields: { pinData: PIN_BLOCK.subarray(1) } }, 52, 'bad_length'],
    ['PIN block of 9 bytes', { mti: '0200', fields: { pinData: new Uint8Array(9) } }, 52, 'too_long'],
    ['PIN block as text', { mti: '0200', fields: { pinData: '0123456789ABCDEF' as unknown as Uint8Array } }, 52, 'bad_type'],
    ['STAN as bytes', { mti: '0200', fields: { stan: new Uint8Array(6) as unknown as string } }, 11, 'bad_type'],
    ['track 2 with a letter', { mti: '0200', fields: { track2: '4761X2712' } }, 35, 'bad_charset'],
    ['a name no field has', { mti: '0200', fields: { cardNumber: '1234' } as unknown as Iso8583Fields }, -1, 'unknown_field'],
    ['a name inherited by every object', { mti: '0200', fields: JSON.parse('{"toString": "1234"}') as Iso8583Fields }, -1, 'unknown_field'],
  ]
  for (const [label, message, field, reason] of rows) {
    it(`${label} → ${reason} (ASCII and binary)`, () => {
      expectError(() => ascii.pack(message), field, reason)
      expectError(() => binary.pack(message), field, reason)
    })
  }

  it('never quotes the value, which may be a PAN or an OTP', () => {
    const error = expectError(() => ascii.pack({ mti: '0200', fields: { pan: '4761739001010119X' } }), 2, 'bad_charset')
    assert.equal(error.fieldName, 'pan')
    assert.ok(!error.message.includes('4761739001010119'), error.message)
  })

  it('is an Error with a name, a field, a field name and a reason', () => {
    const error = expectError(() => ascii.pack({ mti: '0200', fields: { stan: 'x' } }), 11, 'bad_charset')
    assert.ok(error instanceof Error)
    assert.equal(error.name, 'Iso8583Error')
    assert.equal(error.fieldName, 'stan')
    assert.match(error.message, /stan \(field 11\): bad_charset/)
  })

  it('leaves the codec usable after a failed pack', () => {
    expectError(() => ascii.pack({ mti: '0200', fields: { pan: '1234', stan: 'bad' } }), 11, 'bad_charset')
    assert.equal(ascii.pack({ mti: '0200', fields: { processingCode: '000000' } }).toString('latin1'), '0200' + '2000000000000000' + '000000')
  })
})

describe('ISO 8583 codec: unpacking errors name the field', () => {
  const rows: [string, Iso8583Codec, Buffer, number, Iso8583ErrorReason][] = [
    ['empty input', ascii, latin1(''), 0, 'truncated'],
    ['MTI cut short', ascii, latin1('02'), 0, 'truncated'],
    ['MTI with a letter', ascii, latin1('02X0' + '0000000000000000'), 0, 'bad_mti'],
    ['bitmap cut short', ascii, latin1('0200' + '00200000'), 1, 'truncated'],
    ['bitmap not hex', ascii, latin1('0200' + '002000000000000G'), 1, 'bad_bitmap'],
    ['secondary bitmap missing', ascii, latin1('0200' + '8000000000000000'), 1, 'truncated'],
    ['fixed field cut short', ascii, latin1('0200' + '0020000000000000' + '0000'), 11, 'truncated'],
    ['fixed field with a letter', ascii, latin1('0200' + '0020000000000000' + '00004X'), 11, 'bad_charset'],
    ['LL prefix with a letter', ascii, latin1('0200' + '4000000000000000' + '1X'), 2, 'bad_length_prefix'],
    ['LL prefix cut short', ascii, latin1('0200' + '4000000000000000' + '1'), 2, 'truncated'],
    ['LL length above the maximum', ascii, latin1('0200' + '4000000000000000' + '20' + '1'.repeat(20)), 2, 'too_long'],
    ['LL value cut short', ascii, latin1('0200' + '4000000000000000' + '16' + '1234'), 2, 'truncated'],
    ['bytes after the last field', ascii, latin1('0200' + '0020000000000000' + '000042' + 'ZZ'), -1, 'trailing_bytes'],
    ['x+n without a sign', ascii, latin1('0200' + '0000001000000000' + 'X00000100'), 28, 'bad_charset'],
    ['binary field as bad hex', ascii, latin1('0200' + '0000000000001000' + '0123456789ABCDEG'), 52, 'bad_charset'],
    ['BCD MTI with a nibble above 9', binary, hex('02a0' + '0000000000000000'), 0, 'bad_mti'],
    ['BCD MTI cut short', binary, hex('02'), 0, 'truncated'],
    ['binary bitmap cut short', binary, hex('0200' + '00200000'), 1, 'truncated'],
    ['BCD digit above 9', binary, hex('0200' + '0020000000000000' + '00004f'), 11, 'bad_charset'],
    ['BCD odd-length first digit above 9', binary, hex('0200' + '0000040000000000' + '0f51'), 22, 'bad_charset'],
    ['BCD LL prefix above 99', binary, hex('0200' + '4000000000000000' + 'a0'), 2, 'bad_length_prefix'],
    ['BCD LLL prefix cut short', binary, hex('0200' + '0000000000010000' + '00'), 48, 'truncated'],
    ['BCD track nibble neither digit nor separator', binary, hex('0200' + '0000000020000000' + '02' + 'a1'), 35, 'bad_charset'],
  ]
  for (const [label, codec, bytes, field, reason] of rows) {
    it(`${label} → ${reason} (${codec.variant.name})`, () => {
      expectError(() => codec.unpack(bytes), field, reason)
    })
  }

  it('rejects input that is not bytes', () => {
    expectError(() => ascii.unpack('0200' as unknown as Uint8Array), -1, 'bad_type')
  })

  it('reports a bit for a field the specification lacks as unknown_field', () => {
    const { 52: _pinData, ...withoutPinData } = SPEC_87
    const dialect = new Iso8583Codec({ spec: withoutPinData })
    const error = expectError(() => dialect.unpack(latin1('0200' + '0000000000001000' + '0123456789ABCDEF')), 52, 'unknown_field')
    assert.equal(error.fieldName, 'pinData')
    expectError(() => dialect.pack({ mti: '0200', fields: { pinData: PIN_BLOCK } }), 52, 'unknown_field')
  })
})

describe('ISO 8583 codec: messages', () => {
  const financialRequest: Iso8583Message = {
    mti: '0200',
    fields: {
      pan: '4761739001010119',
      processingCode: '010000',
      amountTransaction: '000000010000',
      stan: '004711',
      track2: '4761739001010119=27122011758928889',
      rrn: '425516004711',
      terminalId: 'ATM00042',
      currencyCode: '404',
      pinData: PIN_BLOCK,
      otp: '482913',
      accountId1: '254712345678',
      mac2: PIN_BLOCK,
    },
  }

  for (const variant of [ASCII_VARIANT, BINARY_VARIANT, ASCII_BINARY_BITMAP_VARIANT]) {
    it(`round-trips a 0200 in the ${variant.name} variant`, () => {
      const codec = new Iso8583Codec({ variant })
      assert.deepEqual(codec.unpack(codec.pack(financialRequest)), financialRequest)
    })
  }

  it('skips fields whose value is undefined', () => {
    assert.deepEqual(ascii.pack({ mti: '0200', fields: { stan: '000001', pan: undefined } }), ascii.pack({ mti: '0200', fields: { stan: '000001' } }))
  })

  it('returns binary fields as plain Uint8Arrays that do not share the input buffer', () => {
    const packed = binary.pack({ mti: '0200', fields: { pinData: PIN_BLOCK } })
    const pinData = binary.unpack(packed).fields.pinData as Uint8Array
    assert.equal(Object.getPrototypeOf(pinData), Uint8Array.prototype)
    packed.fill(0)
    assert.deepEqual(pinData, PIN_BLOCK)
  })

  it('unpacks a Uint8Array that is not a Buffer, at an offset in a larger buffer', () => {
    const packed = ascii.pack(financialRequest)
    const larger = new Uint8Array(packed.byteLength + 10)
    larger.set(packed, 5)
    assert.deepEqual(ascii.unpack(larger.subarray(5, 5 + packed.byteLength)), financialRequest)
  })

  it('packFrame prepends the 2-byte big-endian length by default, or 4 ASCII digits', () => {
    const body = ascii.pack(financialRequest)
    const framed = ascii.packFrame(financialRequest)
    assert.equal(framed.readUInt16BE(0), body.byteLength)
    assert.deepEqual(framed.subarray(2), body)
    const asciiHeader = new Iso8583Codec({ lengthHeader: 'ascii4' }).packFrame(financialRequest)
    assert.equal(asciiHeader.subarray(0, 4).toString('latin1'), String(body.byteLength).padStart(4, '0'))
    assert.deepEqual(asciiHeader.subarray(4), body)
  })

  it('takes a dialect table that changes formats', () => {
    const dialect: Iso8583Spec = { ...SPEC_87, 48: { ...SPEC_87[48], prefix: 'LL', maxLength: 20 } }
    const codec = new Iso8583Codec({ spec: dialect })
    assert.equal(codec.pack({ mti: '0200', fields: { additionalData: 'abc' } }).toString('latin1'), '0200' + '0000000000010000' + '03abc')
    expectError(() => codec.pack({ mti: '0200', fields: { additionalData: 'x'.repeat(21) } }), 48, 'too_long')
  })

  it('refuses a dialect table that turns text into bytes, since the message types would lie', () => {
    const dialect: Iso8583Spec = { ...SPEC_87, 48: { ...SPEC_87[52], name: 'additionalData' } }
    assert.throws(() => new Iso8583Codec({ spec: dialect }), AssertionFailed)
  })

  it('refuses a table whose LL field could need three digits', () => {
    const dialect: Iso8583Spec = { ...SPEC_87, 2: { ...SPEC_87[2], maxLength: 100 } }
    assert.throws(() => new Iso8583Codec({ spec: dialect }), AssertionFailed)
  })
})
