// SPDX-License-Identifier: Apache-2.0
/**
 * Interop with an independent implementation, the npm package iso_8583 (used by mojaloop-adapter and
 * contrib-pos-demo). Its default wire format (README, "Packing"): a 2-byte binary length header, the
 * MTI in ASCII, a 16-byte binary bitmap (bit 1 always set, so the secondary bitmap is always sent) and
 * ASCII fields with ASCII LL/LLL prefixes; binary fields are hex text in its model and raw on the wire.
 * We configure ours the same way: ASCII_BINARY_BITMAP_VARIANT with the 'binary2' header. Its MAC
 * fields (64, 128) default to 4 bytes, against the standard's 8, so we give it the standard format.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  amountToFeeField,
  amountToField4,
  ASCII_BINARY_BITMAP_VARIANT,
  FIELD_NUMBERS,
  FrameDecoder,
  Iso8583Codec,
  MTI,
  NETWORK_MANAGEMENT_CODES,
  RESPONSE_CODES,
  responseMtiFor,
  type FieldName,
  type Iso8583Message,
} from './index.ts'
import { Iso8583Npm, npmResult, type Iso8583NpmFormat, type Iso8583NpmMessage } from './iso-8583-npm.ts'

const codec = new Iso8583Codec({ variant: ASCII_BINARY_BITMAP_VARIANT, lengthHeader: 'binary2' })
const mac = (label: string): Iso8583NpmFormat => ({ ContentType: 'b', Label: label, LenType: 'fixed', MaxLen: 16 })
const NPM_FORMATS = { 64: mac('Message authentication code (MAC)'), 128: mac('Message authentication code') }

/** Our message in iso_8583's model: field number → text, the MTI as field 0, bytes as hex. */
function toNpm(message: Iso8583Message): Iso8583NpmMessage {
  const npm: Iso8583NpmMessage = { 0: message.mti }
  for (const [name, value] of Object.entries(message.fields)) {
    if (value === undefined) continue
    npm[FIELD_NUMBERS[name as FieldName]] = typeof value === 'string' ? value : Buffer.from(value).toString('hex')
  }
  return npm
}

function packWithNpm(message: Iso8583NpmMessage): Buffer {
  const npm = new Iso8583Npm(message, NPM_FORMATS)
  assert.equal(npmResult(npm.validateMessage()), true, 'iso_8583 accepts the message')
  return npmResult(npm.getBufferMessage())
}

function unpackWithNpm(framed: Buffer): Iso8583NpmMessage {
  return npmResult(new Iso8583Npm(undefined, NPM_FORMATS).getIsoJSON(framed))
}

/** Through our FrameDecoder, as the TCP server will receive it. */
function unpackFramed(framed: Buffer): Iso8583Message {
  const decoder = new FrameDecoder()
  const [body, ...rest] = decoder.push(framed)
  assert.equal(rest.length, 0)
  assert.ok(body !== undefined, 'one whole message')
  return codec.unpack(body)
}

const msisdn = '254712345678'
const card = {
  transmissionDateTime: '0911131411',
  stan: '004711',
  localTime: '161411',
  localDate: '0911',
  rrn: '425516004711',
  terminalId: 'ATM00042',
  cardAcceptorId: 'KIVUKO-BANK-001',
  currencyCode: '404',
} as const

const authorizationRequest: Iso8583Message = {
  mti: MTI.authorizationRequest,
  fields: {
    pan: '4761739001010119',
    processingCode: '010000',
    amountTransaction: amountToField4(10_000n),
    ...card,
    merchantType: '6011',
    posEntryMode: '021',
    posConditionCode: '02',
    acquiringInstitutionId: '423935',
    cardAcceptorNameLocation: 'Kivuko Bank ATM 42, Moi Avenue, Nairobi'.padEnd(40, ' '),
    accountId1: msisdn,
  },
}

const authorizationResponse: Iso8583Message = {
  mti: responseMtiFor(authorizationRequest.mti),
  fields: {
    processingCode: '010000',
    amountTransaction: amountToField4(10_000n),
    ...card,
    amountTransactionProcessingFee: amountToFeeField(100n, 'D'),
    responseCode: RESPONSE_CODES.approved.code,
    additionalData: amountToField4(10_100n),
  },
}

const financialRequest: Iso8583Message = {
  mti: MTI.financialRequest,
  fields: {
    pan: '4761739001010119',
    processingCode: '010000',
    amountTransaction: amountToField4(10_000n),
    ...card,
    track2: '4761739001010119=27122011758928889',
    additionalData: 'QUOTE=0d3f2a9c-8e41-4f6b-9a57-1c2b3d4e5f60',
    pinData: Uint8Array.from([0x74, 0x34, 0xf6, 0x78, 0x13, 0xba, 0xe5, 0x45]),
    otp: '482913',
    mac: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]),
    accountId1: msisdn,
  },
}

const financialResponse: Iso8583Message = {
  mti: responseMtiFor(financialRequest.mti),
  fields: {
    processingCode: '010000',
    amountTransaction: amountToField4(10_000n),
    ...card,
    authId: 'A1B2C3',
    responseCode: RESPONSE_CODES.insufficientFunds.code,
  },
}

const reversalAdvice: Iso8583Message = {
  mti: MTI.reversalAdvice,
  fields: {
    processingCode: '010000',
    amountTransaction: amountToField4(10_000n),
    ...card,
    responseCode: RESPONSE_CODES.responseReceivedTooLate.code,
    // Original MTI, STAN, transmission date and time, acquirer and forwarder ids (11 digits each).
    originalDataElements: '0200' + '004711' + '0911131411' + '00000423935' + '00000000000',
    replacementAmounts: amountToField4(5_000n) + amountToField4(0n) + 'C00000000' + 'C00000000',
  },
}

const networkManagementRequest: Iso8583Message = {
  mti: MTI.networkManagementRequest,
  fields: { transmissionDateTime: card.transmissionDateTime, stan: card.stan, networkManagementCode: NETWORK_MANAGEMENT_CODES.echoTest.code },
}

const networkManagementResponse: Iso8583Message = {
  mti: responseMtiFor(networkManagementRequest.mti),
  fields: { ...networkManagementRequest.fields, responseCode: RESPONSE_CODES.approved.code },
}

const MESSAGES = [
  authorizationRequest,
  authorizationResponse,
  financialRequest,
  financialResponse,
  reversalAdvice,
  networkManagementRequest,
  networkManagementResponse,
]

describe('ISO 8583 interop with the npm package iso_8583', () => {
  it('converts our model to theirs by field number, bytes as hex', () => {
    // Written out by hand once, so the converter the other tests use is itself checked.
    assert.deepEqual(toNpm(financialRequest), {
      0: '0200',
      2: '4761739001010119',
      3: '010000',
      4: '000000010000',
      7: '0911131411',
      11: '004711',
      12: '161411',
      13: '0911',
      35: '4761739001010119=27122011758928889',
      37: '425516004711',
      41: 'ATM00042',
      42: 'KIVUKO-BANK-001',
      48: 'QUOTE=0d3f2a9c-8e41-4f6b-9a57-1c2b3d4e5f60',
      49: '404',
      52: '7434f67813bae545',
      62: '482913',
      64: '0102030405060708',
      102: '254712345678',
    })
  })

  for (const message of MESSAGES) {
    it(`${message.mti}: what iso_8583 packs, we unpack`, () => {
      assert.deepEqual(unpackFramed(packWithNpm(toNpm(message))), message)
    })

    it(`${message.mti}: what we pack, iso_8583 unpacks`, () => {
      assert.deepEqual(unpackWithNpm(codec.packFrame(message)), toNpm(message))
    })
  }

  it('produces the same bytes as iso_8583 when the message needs a secondary bitmap anyway', () => {
    // iso_8583 always sends the secondary bitmap; with a field above 64 we send it too.
    for (const message of [reversalAdvice, networkManagementRequest, networkManagementResponse]) {
      assert.deepEqual(codec.packFrame(message), packWithNpm(toNpm(message)), message.mti)
    }
  })

  it('sends only the primary bitmap when no field above 64 is present, which iso_8583 reads', () => {
    const framed = codec.packFrame(financialResponse)
    assert.equal((framed[2 + 4] as number) & 0x80, 0, 'bit 1 clear')
    assert.equal(framed.byteLength, packWithNpm(toNpm(financialResponse)).byteLength - 8)
  })
})
