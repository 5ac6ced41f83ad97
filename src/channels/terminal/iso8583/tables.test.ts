// SPDX-License-Identifier: Apache-2.0
/** The data tables and small helpers: the 1987 spec, MTIs, response and processing codes, amounts. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  ACCOUNT_TYPES,
  amountToFeeField,
  amountToField4,
  describeMti,
  expectsResponse,
  feeFieldToAmount,
  field4ToAmount,
  FIELD_NAMES,
  FIELD_NUMBERS,
  fieldName,
  fieldNumber,
  fieldSpec,
  findFieldNumber,
  formatProcessingCode,
  ISO8583_ERROR_REASONS,
  Iso8583Error,
  MTI,
  networkManagementCodeName,
  parseMti,
  parseProcessingCode,
  RESPONSE_CODES,
  responseCodeName,
  responseMtiFor,
  SPEC_87,
  TRANSACTION_TYPES,
  type FieldName,
  type Iso8583ErrorReason,
  type Iso8583Spec,
} from './index.ts'

function expectReason(action: () => unknown, reason: Iso8583ErrorReason): void {
  assert.throws(action, (error: unknown) => error instanceof Iso8583Error && error.reason === reason)
}

describe('ISO 8583:1987 field table', () => {
  const table = SPEC_87 as Iso8583Spec

  it('defines all 128 fields, each with a unique name and a description', () => {
    const numbers = Object.keys(table).map(Number)
    assert.deepEqual(numbers, Array.from({ length: 128 }, (_, index) => index + 1))
    const names = numbers.map((number) => table[number]?.name)
    assert.equal(new Set(names).size, 128)
    for (const number of numbers) assert.ok((table[number]?.description.length ?? 0) > 0, `field ${number} is described`)
  })

  it('maps names to numbers and back for the 127 data elements', () => {
    assert.equal(Object.keys(FIELD_NUMBERS).length, 127)
    assert.equal(fieldNumber('pan'), 2)
    assert.equal(fieldName(37), 'rrn')
    assert.equal(fieldName(1), undefined)
    assert.equal(findFieldNumber('otp'), 62)
    assert.equal(findFieldNumber('toString'), undefined)
    assert.equal(findFieldNumber('secondaryBitmap'), undefined)
    for (const [name, number] of Object.entries(FIELD_NUMBERS)) assert.equal(FIELD_NAMES.get(number), name)
  })

  // Reference §8.3, exactly: [name, charset, prefix, maximum length].
  const REFERENCE: [FieldName, string, string, number][] = [
    ['pan', 'n', 'LL', 19],
    ['processingCode', 'n', 'fixed', 6],
    ['amountTransaction', 'n', 'fixed', 12],
    ['transmissionDateTime', 'n', 'fixed', 10],
    ['stan', 'n', 'fixed', 6],
    ['localTime', 'n', 'fixed', 6],
    ['localDate', 'n', 'fixed', 4],
    ['expiry', 'n', 'fixed', 4],
    ['merchantType', 'n', 'fixed', 4],
    ['posEntryMode', 'n', 'fixed', 3],
    ['posConditionCode', 'n', 'fixed', 2],
    ['posPinCaptureCode', 'n', 'fixed', 2],
    ['amountTransactionFee', 'x+n', 'fixed', 8],
    ['amountTransactionProcessingFee', 'x+n', 'fixed', 8],
    ['acquiringInstitutionId', 'n', 'LL', 11],
    ['forwardingInstitutionId', 'n', 'LL', 11],
    ['track2', 'z', 'LL', 37],
    ['rrn', 'an', 'fixed', 12],
    ['authId', 'an', 'fixed', 6],
    ['responseCode', 'an', 'fixed', 2],
    ['terminalId', 'ans', 'fixed', 8],
    ['cardAcceptorId', 'ans', 'fixed', 15],
    ['cardAcceptorNameLocation', 'ans', 'fixed', 40],
    ['additionalData', 'ans', 'LLL', 999],
    ['currencyCode', 'n', 'fixed', 3],
    ['pinData', 'b', 'fixed', 8],
    ['additionalAmounts', 'an', 'LLL', 120],
    ['mac', 'b', 'fixed', 8],
    ['networkManagementCode', 'n', 'fixed', 3],
    ['originalDataElements', 'n', 'fixed', 42],
    ['replacementAmounts', 'an', 'fixed', 42],
    ['accountId1', 'ans', 'LL', 28],
    ['accountId2', 'ans', 'LL', 28],
    ['mac2', 'b', 'fixed', 8],
  ]
  for (const [name, charset, prefix, maxLength] of REFERENCE) {
    it(`${name} is ${charset} ${prefix} ${maxLength}, as reference §8.3 says`, () => {
      const spec = fieldSpec(name)
      assert.deepEqual([spec.charset, spec.prefix, spec.maxLength], [charset, prefix, maxLength])
    })
  }

  it('pads fixed numbers with zeros and fixed text with spaces, and nothing else', () => {
    for (const spec of Object.values(table)) {
      const expected = spec.prefix !== 'fixed' || spec.charset === 'b' ? 'none' : spec.charset === 'n' || spec.charset === 'x+n' ? 'left0' : 'rightSpace'
      assert.equal(spec.padding, expected, spec.name)
    }
  })

  it('marks PAN, tracks, PIN data, security data, chip data and the OTP fields sensitive', () => {
    const sensitive = Object.values(table).filter((spec) => spec.sensitive !== undefined).map((spec) => [spec.name, spec.sensitive])
    assert.deepEqual(sensitive, [
      ['pan', 'pan'],
      ['panExtended', 'pan'],
      ['track2', 'secret'],
      ['track3', 'secret'],
      ['track1', 'secret'],
      ['pinData', 'secret'],
      ['securityControlInfo', 'secret'],
      ['iccData', 'secret'],
      ['otp', 'secret'],
      ['messageSecurityCode', 'secret'],
      ['accountId2', 'secret'],
    ])
  })

  it('describes every error reason', () => {
    for (const description of Object.values(ISO8583_ERROR_REASONS)) assert.ok(description.length > 0)
  })
})

describe('ISO 8583 MTIs', () => {
  const RESPONSES: [string, string][] = [
    ['0100', '0110'],
    ['0101', '0110'],
    ['0120', '0130'],
    ['0200', '0210'],
    ['0201', '0210'],
    ['0220', '0230'],
    ['0400', '0410'],
    ['0420', '0430'],
    ['0421', '0430'],
    ['0800', '0810'],
    ['1804', '1814'],
  ]
  for (const [request, response] of RESPONSES) {
    it(`answers ${request} with ${response}`, () => assert.equal(responseMtiFor(request), response))
  }

  it('has no response for responses and notifications', () => {
    for (const mti of ['0110', '0210', '0430', '0810', '0240']) expectReason(() => responseMtiFor(mti), 'bad_mti')
    assert.equal(expectsResponse('0200'), true)
    assert.equal(expectsResponse('0420'), true)
    assert.equal(expectsResponse('0210'), false)
  })

  it('rejects MTIs that are not four digits', () => {
    for (const mti of ['', '020', '02000', '02a0', ' 200']) expectReason(() => parseMti(mti), 'bad_mti')
  })

  it('splits and describes an MTI', () => {
    assert.deepEqual(parseMti('0421'), { version: '0', messageClass: '4', messageFunction: '2', origin: '1' })
    assert.equal(describeMti(MTI.reversalAdviceRepeat), 'ISO 8583:1987 reversal/chargeback advice from acquirer repeat')
    assert.equal(describeMti('0990'), 'ISO 8583:1987 unknown class 9 unknown function 9 from acquirer')
  })

  it('names the MTIs of our flows consistently with responseMtiFor', () => {
    assert.equal(responseMtiFor(MTI.authorizationRequest), MTI.authorizationResponse)
    assert.equal(responseMtiFor(MTI.financialRequest), MTI.financialResponse)
    assert.equal(responseMtiFor(MTI.reversalAdvice), MTI.reversalAdviceResponse)
    assert.equal(responseMtiFor(MTI.networkManagementRequest), MTI.networkManagementResponse)
  })
})

describe('ISO 8583 code tables', () => {
  it('lists the response codes of reference §8.5, each once', () => {
    const codes = Object.values(RESPONSE_CODES).map((entry) => entry.code)
    assert.deepEqual(codes, ['00', '01', '03', '05', '12', '13', '14', '15', '21', '30', '51', '54', '55', '56', '57', '58', '61', '65', '68', '75', '91', '92', '94', '96'])
    assert.equal(responseCodeName('51'), 'insufficientFunds')
    assert.equal(responseCodeName('N0'), undefined)
  })

  it('parses and formats processing codes (reference §8.4)', () => {
    assert.deepEqual(parseProcessingCode('010000'), { transactionType: 'cashWithdrawal', fromAccount: 'default', toAccount: 'default', code: '010000' })
    assert.deepEqual(parseProcessingCode('312000'), { transactionType: 'balanceInquiry', fromAccount: 'cheque', toAccount: 'default', code: '312000' })
    assert.equal(parseProcessingCode('990000').transactionType, undefined)
    assert.equal(formatProcessingCode('purchase'), '000000')
    assert.equal(formatProcessingCode('refund'), '200000')
    assert.equal(formatProcessingCode('cashWithdrawal', 'savings'), '011000')
    expectReason(() => parseProcessingCode('01000'), 'bad_charset')
    assert.equal(Object.keys(TRANSACTION_TYPES).length, 8)
    assert.equal(Object.keys(ACCOUNT_TYPES).length, 4)
  })

  it('names network management codes (reference §8.2)', () => {
    assert.equal(networkManagementCodeName('001'), 'signOn')
    assert.equal(networkManagementCodeName('002'), 'signOff')
    assert.equal(networkManagementCodeName('161'), 'keyChange')
    assert.equal(networkManagementCodeName('301'), 'echoTest')
    assert.equal(networkManagementCodeName('999'), undefined)
  })
})

describe('ISO 8583 amounts', () => {
  it('writes amountTransaction as 12 zero-padded digits of minor units and reads it back', () => {
    assert.equal(amountToField4(10_000n), '000000010000')
    assert.equal(amountToField4(0n), '000000000000')
    assert.equal(amountToField4(999_999_999_999n), '999999999999')
    assert.equal(field4ToAmount('000000010000'), 10_000n)
  })

  it('round-trips every amount that fits, exactly (property)', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 999_999_999_999n }), (amountMinor) => field4ToAmount(amountToField4(amountMinor)) === amountMinor))
  })

  it('refuses amounts that do not fit, and text that is not 12 digits', () => {
    expectReason(() => amountToField4(-1n), 'out_of_range')
    expectReason(() => amountToField4(1_000_000_000_000n), 'out_of_range')
    expectReason(() => amountToField4(100 as unknown as bigint), 'out_of_range')
    expectReason(() => field4ToAmount('10000'), 'bad_charset')
    expectReason(() => field4ToAmount('00000001000.'), 'bad_charset')
    expectReason(() => field4ToAmount('-00000001000'), 'bad_charset')
  })

  it('writes and reads x+n fee fields with their sign', () => {
    assert.equal(amountToFeeField(100n, 'D'), 'D00000100')
    assert.equal(amountToFeeField(5n, 'C', 'amountTransactionProcessingFee'), 'C00000005')
    assert.deepEqual(feeFieldToAmount('D00000100'), { sign: 'D', amountMinor: 100n })
    expectReason(() => amountToFeeField(100_000_000n, 'D'), 'out_of_range')
    expectReason(() => amountToFeeField(1n, 'X' as 'C'), 'out_of_range')
    expectReason(() => feeFieldToAmount('00000100'), 'bad_charset')
    expectReason(() => feeFieldToAmount('D0000100'), 'bad_charset')
  })
})
