// SPDX-License-Identifier: Apache-2.0
/**
 * ILP against the reference implementation: for random transactions and secrets, our packet, condition
 * and fulfilment are byte-for-byte those of `@mojaloop/sdk-standard-components`' IlpV4, each side decodes
 * and fulfils the other's packets, and nothing a peer can send makes the decoder or the fulfilment check
 * throw.
 */
import assert from 'node:assert/strict'
import { Buffer } from 'node:buffer'
import { describe, it } from 'node:test'
import sdk from '@mojaloop/sdk-standard-components'
import fc from 'fast-check'
import { serializeIlpPrepare } from 'ilp-packet'
import * as ilpPacketV1 from 'ilp-packet-v1'
import {
  aTransfersPostRequest,
  anIlpTransaction,
  correlationIdArb,
  dateTimeArb,
  ilpTransactionArb,
  moneyArb,
  partyArb,
  secretArb,
  TEST_ILP,
  TEST_ILP_SECRET,
  transactionTypeArb,
} from './fixtures.ts'
import {
  buildIlpPacket,
  buildIlpV1Packet,
  canonicalJson,
  conditionOf,
  decodeIlpPacket,
  decodeIlpV1Packet,
  deriveFulfilment,
  fulfilmentOfV1Packet,
  ilpAmountOf,
  ILP_ADDRESS,
  ilpV1AddressOf,
  ilpVersionOf,
  matchTransferToIlpPacket,
  transactionFromQuote,
  validateFulfilment,
  type IlpSecret,
  type IlpTransaction,
} from './ilp.ts'

interface SdkIlp {
  getResponseIlp(transaction: object): { fulfilment: string; condition: string; ilpPacket: string }
  getQuoteResponseIlp(quoteRequest: object, quoteResponse: object): { fulfilment: string; condition: string; ilpPacket: string }
  calculateFulfil(ilpPacket: string): string
  validateFulfil(fulfilment: string, condition: string): boolean
  calculateConditionFromFulfil(fulfilment: string): string
  getTransactionObject(ilpPacket: string): unknown
  decodeIlpPacket(ilpPacket: string): { amount: string; destination: string; expiresAt: Date; executionCondition: Buffer }
}

const silentLogger = { child: () => silentLogger, debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, isDebugEnabled: false }

function sdkIlp(secret: IlpSecret, version: 'v1' | 'v4' = 'v4'): SdkIlp {
  const { Ilp } = sdk as unknown as { Ilp: { ilpFactory(version: string, options: object): SdkIlp; ILP_VERSIONS: { v1: string; v4: string } } }
  return Ilp.ilpFactory(Ilp.ILP_VERSIONS[version], { secret: typeof secret === 'string' ? secret : Buffer.from(secret), logger: silentLogger })
}

/** What a transaction looks like after a JSON round trip: absent optional members stay absent. */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

function built(transaction: IlpTransaction, secret: IlpSecret = TEST_ILP_SECRET): { ilpPacket: string; condition: string; fulfilment: string } {
  const result = buildIlpPacket(transaction, secret)
  assert.ok(result.ok, `expected the transaction to build, got ${result.ok ? '' : result.status}`)
  return result.value
}

describe('ILP v4 against @mojaloop/sdk-standard-components', () => {
  it('builds the same packet, condition and fulfilment as the SDK', () => {
    fc.assert(
      fc.property(ilpTransactionArb, secretArb, (transaction, secret) => {
        assert.deepEqual(built(transaction, secret), sdkIlp(secret).getResponseIlp(transaction))
      }),
      { numRuns: 300 },
    )
  })

  it('builds the quote-response packet the SDK builds from a quote request and response', () => {
    const quoteArb = fc.record({
      quoteId: correlationIdArb,
      transactionId: correlationIdArb,
      transactionType: transactionTypeArb,
      payee: partyArb(),
      payer: partyArb(),
    })
    const responseArb = fc.record({ transferAmount: moneyArb, expiration: dateTimeArb, note: fc.string({ minLength: 1, maxLength: 20 }) }, { requiredKeys: ['transferAmount', 'expiration'] })
    fc.assert(
      fc.property(quoteArb, responseArb, secretArb, (quoteRequest, quoteResponse, secret) => {
        const ours = built(transactionFromQuote(quoteRequest, quoteResponse), secret)
        assert.deepEqual(ours, sdkIlp(secret).getQuoteResponseIlp(quoteRequest, quoteResponse))
      }),
      { numRuns: 200 },
    )
  })

  it('decodes the SDK’s packets to their transaction, and the SDK decodes ours', () => {
    fc.assert(
      fc.property(ilpTransactionArb, secretArb, (transaction, secret) => {
        const reference = sdkIlp(secret)
        const theirs = reference.getResponseIlp(transaction)
        const decoded = decodeIlpPacket(theirs.ilpPacket)
        assert.ok(decoded.ok)
        const raw = reference.decodeIlpPacket(theirs.ilpPacket)
        assert.deepEqual(decoded.value.transaction, asJson(transaction))
        assert.equal(decoded.value.amountMinor, BigInt(raw.amount))
        assert.equal(decoded.value.expiresAtMs, raw.expiresAt.getTime())
        assert.equal(decoded.value.destination, ILP_ADDRESS)
        assert.equal(decoded.value.condition, theirs.condition)

        const ours = built(transaction, secret)
        assert.deepEqual(reference.getTransactionObject(ours.ilpPacket), asJson(transaction))
      }),
      { numRuns: 200 },
    )
  })

  it('derives from a packet the fulfilment the SDK derives, both ways', () => {
    fc.assert(
      fc.property(ilpTransactionArb, secretArb, (transaction, secret) => {
        const reference = sdkIlp(secret)
        const theirs = reference.getResponseIlp(transaction)
        assert.deepEqual(deriveFulfilment(theirs.ilpPacket, secret), { ok: true, value: theirs.fulfilment })
        const ours = built(transaction, secret)
        assert.equal(reference.calculateFulfil(ours.ilpPacket), ours.fulfilment)
      }),
      { numRuns: 200 },
    )
  })

  it('agrees with the SDK on fulfilment ↔ condition', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (preimage, other) => {
        const reference = sdkIlp('any')
        const fulfilment = Buffer.from(preimage).toString('base64url')
        const condition = reference.calculateConditionFromFulfil(fulfilment)
        assert.deepEqual(conditionOf(fulfilment), { ok: true, value: condition })
        assert.equal(validateFulfilment(fulfilment, condition), 'valid')
        const wrong = Buffer.from(other).toString('base64url')
        const expected = reference.validateFulfil(wrong, condition) ? 'valid' : 'fulfilment_does_not_match_condition'
        assert.equal(validateFulfilment(wrong, condition), expected)
      }),
    )
  })

  it('reproduces the FSPIOP v1.1 specification’s fulfilment/condition example (§10)', () => {
    const fulfilment = 'mhPUT9ZAwd-BXLfeSd7-YPh46rBWRNBiTCSWjpku90s'
    const condition = 'fH9pAYDQbmoZLPbvv3CSW2RfjU4jvM4ApG_fqGnR7Xs'
    assert.deepEqual(conditionOf(fulfilment), { ok: true, value: condition })
    assert.equal(validateFulfilment(fulfilment, condition), 'valid')
  })

  it('gives a different fulfilment for another secret, which then fails the condition', () => {
    const { ilpPacket, condition } = TEST_ILP
    const other = deriveFulfilment(ilpPacket, 'another-secret')
    assert.ok(other.ok)
    assert.equal(validateFulfilment(other.value, condition), 'fulfilment_does_not_match_condition')
    assert.deepEqual(deriveFulfilment(ilpPacket, TEST_ILP_SECRET), { ok: true, value: TEST_ILP.fulfilment })
  })
})

describe('canonicalJson', () => {
  it('is safe-stable-stringify on JSON data', async () => {
    const { default: stableStringify } = (await import('safe-stable-stringify')) as unknown as { default: (value: unknown) => string }
    fc.assert(fc.property(fc.jsonValue(), (value) => assert.equal(canonicalJson(value), stableStringify(value))), { numRuns: 500 })
    assert.equal(canonicalJson({ b: 1, a: undefined, c: [undefined, 2] }), '{"b":1,"c":[null,2]}')
  })
})

describe('ILP amounts', () => {
  const amount = (text: string, currency: string) => ilpAmountOf({ amount: text, currency } as IlpTransaction['amount'])

  it('scales by the currency’s minor units, as the SDK does', () => {
    assert.deepEqual(amount('99', 'USD'), { ok: true, value: 9900n })
    assert.deepEqual(amount('1.5', 'USD'), { ok: true, value: 150n })
    assert.deepEqual(amount('1200', 'UGX'), { ok: true, value: 1200n })
    assert.deepEqual(amount('0.001', 'BHD'), { ok: true, value: 1n })
    assert.deepEqual(amount('1.2345', 'XTS'), { ok: true, value: 12345n }) // Mojaloop gives XTS four decimals
    assert.deepEqual(amount('0', 'USD'), { ok: true, value: 0n })
  })

  it('refuses what cannot be an ILP amount', () => {
    assert.deepEqual(amount('1.5', 'UGX'), { ok: false, status: 'amount_scale_exceeded' })
    assert.deepEqual(amount('10.50', 'USD'), { ok: false, status: 'amount_malformed' })
    assert.deepEqual(amount('-1', 'USD'), { ok: false, status: 'amount_malformed' })
    assert.deepEqual(amount('1e3', 'USD'), { ok: false, status: 'amount_malformed' })
    assert.deepEqual(amount('10', 'ZZZ'), { ok: false, status: 'currency_unknown' })
    assert.deepEqual(amount('10', 'constructor'), { ok: false, status: 'currency_unknown' })
    assert.deepEqual(amount('10', '__proto__'), { ok: false, status: 'currency_unknown' })
    assert.deepEqual(amount('999999999999999999.9999', 'XTS'), { ok: false, status: 'amount_exceeds_ilp_maximum' })
    assert.deepEqual(amount('184467440737095516.15', 'USD'), { ok: true, value: 2n ** 64n - 1n })
    assert.deepEqual(amount('184467440737095516.16', 'USD'), { ok: false, status: 'amount_exceeds_ilp_maximum' })
  })

  it('refuses to build a packet for a bad amount or expiration, without throwing', () => {
    assert.deepEqual(buildIlpPacket(anIlpTransaction({ amount: { amount: '1.234', currency: 'USD' } }), TEST_ILP_SECRET), { ok: false, status: 'amount_scale_exceeded' })
    assert.deepEqual(buildIlpPacket(anIlpTransaction({ expiration: 'tomorrow' }), TEST_ILP_SECRET), { ok: false, status: 'expiration_invalid' })
    assert.deepEqual(buildIlpPacket(anIlpTransaction({ expiration: '2030-01-01T00:00:00Z' }), TEST_ILP_SECRET), { ok: false, status: 'expiration_invalid' })
    assert.deepEqual(buildIlpPacket(anIlpTransaction({ expiration: '1000-01-01T00:30:00.000+01:00' }), TEST_ILP_SECRET), { ok: false, status: 'expiration_invalid' })
  })
})

describe('validateFulfilment and conditionOf on bad input', () => {
  const { fulfilment, condition } = TEST_ILP

  it('accepts only 43 canonical base64url characters encoding 32 bytes', () => {
    assert.equal(validateFulfilment(fulfilment, condition), 'valid')
    assert.equal(validateFulfilment(`${fulfilment}=`, condition), 'fulfilment_malformed')
    assert.equal(validateFulfilment(fulfilment.slice(0, 42), condition), 'fulfilment_malformed')
    assert.equal(validateFulfilment(`${fulfilment}A`, condition), 'fulfilment_malformed')
    assert.equal(validateFulfilment(Buffer.from(fulfilment, 'base64url').toString('base64'), condition), 'fulfilment_malformed') // padded standard base64
    assert.equal(validateFulfilment(fulfilment.replace(/^./, '+'), condition), 'fulfilment_malformed')
    assert.equal(validateFulfilment(Buffer.alloc(31).toString('base64url').padEnd(43, 'A'), condition), 'fulfilment_does_not_match_condition')
    assert.equal(validateFulfilment(fulfilment, `${condition.slice(0, 42)}*`), 'condition_malformed')
    assert.equal(validateFulfilment(undefined, condition), 'fulfilment_malformed')
    assert.equal(validateFulfilment(fulfilment, 42), 'condition_malformed')
  })

  it('rejects a non-canonical last character, which Node would decode to the same bytes', () => {
    // 43 characters carry 258 bits; the last character's two spare bits must be zero.
    const last = fulfilment.at(-1) ?? 'A'
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const sibling = alphabet[(alphabet.indexOf(last) & ~3) | ((alphabet.indexOf(last) + 1) & 3)] ?? 'A'
    const twin = fulfilment.slice(0, 42) + sibling
    assert.deepEqual(Buffer.from(twin, 'base64url'), Buffer.from(fulfilment, 'base64url'))
    assert.equal(validateFulfilment(twin, condition), 'fulfilment_malformed')
    assert.deepEqual(conditionOf(twin), { ok: false, status: 'fulfilment_malformed' })
  })

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (a, b) => {
        const status = validateFulfilment(a, b)
        assert.ok(['valid', 'fulfilment_malformed', 'condition_malformed', 'fulfilment_does_not_match_condition'].includes(status))
        conditionOf(a)
      }),
    )
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_=+/-]{40,46}$/), (text) => {
        validateFulfilment(text, condition)
        conditionOf(text)
      }),
    )
  })
})

describe('decodeIlpPacket on bad input', () => {
  const bytes = Buffer.from(TEST_ILP.ilpPacket, 'base64url')
  const packet = (buffer: Buffer): string => buffer.toString('base64url')

  it('accepts the canonical packet, with or without padding', () => {
    assert.ok(decodeIlpPacket(TEST_ILP.ilpPacket).ok)
    const padded = bytes.toString('base64')
    if (padded.endsWith('=')) assert.ok(decodeIlpPacket(padded.replaceAll('+', '-').replaceAll('/', '_')).ok)
  })

  it('refuses text that is not base64url, and packets that are not one canonical ILP Prepare', () => {
    const malformed = { ok: false, status: 'packet_malformed' }
    assert.deepEqual(decodeIlpPacket(''), malformed)
    assert.deepEqual(decodeIlpPacket('not base64!'), malformed)
    assert.deepEqual(decodeIlpPacket(`${TEST_ILP.ilpPacket.slice(0, 8)}+/${TEST_ILP.ilpPacket.slice(10)}`), malformed) // standard base64 alphabet
    assert.deepEqual(decodeIlpPacket(packet(bytes.subarray(0, bytes.length - 1))), malformed) // truncated
    assert.deepEqual(decodeIlpPacket(packet(Buffer.concat([bytes, Buffer.from([0])]))), malformed) // trailing byte
    assert.deepEqual(decodeIlpPacket(packet(Buffer.concat([Buffer.from([13]), bytes.subarray(1)]))), malformed) // ILP Fulfill type
    assert.deepEqual(decodeIlpPacket(`${TEST_ILP.ilpPacket}===`), malformed)
    assert.deepEqual(decodeIlpPacket('A'.repeat(32_769)), malformed)
    assert.deepEqual(decodeIlpPacket(42), malformed)
  })

  const prepareWith = (data: Buffer): string =>
    serializeIlpPrepare({ amount: '10050', expiresAt: new Date(Date.UTC(2030, 0, 1)), executionCondition: Buffer.alloc(32, 7), destination: ILP_ADDRESS, data }).toString('base64url')

  it('reads raw JSON data too, as FSPIOP’s example and older simulators wrote it', () => {
    const transaction = anIlpTransaction()
    const decoded = decodeIlpPacket(prepareWith(Buffer.from(JSON.stringify(transaction))))
    assert.ok(decoded.ok)
    assert.deepEqual(decoded.value.transaction, asJson(transaction))
  })

  it('says which layer is wrong: data, or the transaction inside it', () => {
    assert.deepEqual(decodeIlpPacket(prepareWith(Buffer.from('not json'))), { ok: false, status: 'data_malformed' })
    assert.deepEqual(decodeIlpPacket(prepareWith(Buffer.from(Buffer.from('{"a":').toString('base64url')))), { ok: false, status: 'data_malformed' })
    assert.deepEqual(decodeIlpPacket(prepareWith(Buffer.from([0xff, 0xfe, 0x7b]))), { ok: false, status: 'data_malformed' }) // not UTF-8
    const withoutPayer = { ...anIlpTransaction(), payer: undefined }
    assert.deepEqual(decodeIlpPacket(prepareWith(Buffer.from(Buffer.from(JSON.stringify(withoutPayer)).toString('base64url')))), { ok: false, status: 'transaction_malformed' })
    const badExpiration = { ...anIlpTransaction(), expiration: 'soon' }
    assert.deepEqual(decodeIlpPacket(prepareWith(Buffer.from(JSON.stringify(badExpiration)))), { ok: false, status: 'transaction_malformed' })
    assert.deepEqual(decodeIlpPacket(prepareWith(Buffer.from('[]'))), { ok: false, status: 'transaction_malformed' })
  })

  it('never throws on random text, random bytes, or a valid packet with bytes flipped', () => {
    fc.assert(fc.property(fc.string(), (text) => void decodeIlpPacket(text)), { numRuns: 300 })
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (random) => void decodeIlpPacket(packet(Buffer.from(random)))), { numRuns: 300 })
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, flip) => {
        const mutated = Buffer.from(bytes)
        mutated[index] = (mutated[index] ?? 0) ^ flip
        const decoded = decodeIlpPacket(packet(mutated))
        if (decoded.ok) assert.notDeepEqual(decoded.value, (decodeIlpPacket(TEST_ILP.ilpPacket) as { value: unknown }).value)
      }),
      { numRuns: 500 },
    )
    fc.assert(fc.property(fc.anything(), (value) => void decodeIlpPacket(value)))
    fc.assert(fc.property(fc.string(), secretArb, (text, secret) => void deriveFulfilment(text, secret)), { numRuns: 100 })
  })
})

describe('matchTransferToIlpPacket', () => {
  const decoded = decodeIlpPacket(TEST_ILP.ilpPacket)
  assert.ok(decoded.ok)
  const check = (overrides: Parameters<typeof aTransfersPostRequest>[0]) => matchTransferToIlpPacket(aTransfersPostRequest(overrides), decoded.value)

  it('matches the transfer the payee quoted', () => {
    assert.equal(check({}), 'matches')
  })

  it('names the first thing that differs, in the SDK’s order, then the packet’s own amount and condition', () => {
    assert.equal(check({ payerFsp: 'otherfsp' }), 'payer_fsp_mismatch')
    assert.equal(check({ payeeFsp: 'otherfsp', payerFsp: 'otherfsp' }), 'payer_fsp_mismatch')
    assert.equal(check({ payeeFsp: 'otherfsp' }), 'payee_fsp_mismatch')
    assert.equal(check({ amount: { amount: '100.5', currency: 'EUR' } }), 'currency_mismatch')
    assert.equal(check({ amount: { amount: '100.6', currency: 'USD' } }), 'amount_mismatch')
    assert.equal(check({ condition: 'A'.repeat(43) }), 'condition_mismatch')
  })

  it('catches a packet whose ILP amount disagrees with its own transaction', () => {
    const transaction = anIlpTransaction()
    const data = Buffer.from(Buffer.from(canonicalJson(transaction)).toString('base64url'))
    const forged = serializeIlpPrepare({ amount: '1', expiresAt: new Date(Date.UTC(2030, 0, 1)), executionCondition: Buffer.from(TEST_ILP.condition, 'base64url'), destination: ILP_ADDRESS, data }).toString('base64url')
    const forgedDecoded = decodeIlpPacket(forged)
    assert.ok(forgedDecoded.ok)
    assert.equal(matchTransferToIlpPacket(aTransfersPostRequest({ ilpPacket: forged }), forgedDecoded.value), 'amount_mismatch')
  })
})

describe('ILP v1 (Mojaloop v1.x) against @mojaloop/sdk-standard-components', () => {
  it('builds the same packet, condition and fulfilment as the SDK’s IlpV1', () => {
    fc.assert(
      fc.property(ilpTransactionArb, secretArb, (transaction, secret) => {
        const ours = buildIlpV1Packet(transaction, secret)
        assert.ok(ours.ok)
        assert.deepEqual(ours.value, sdkIlp(secret, 'v1').getResponseIlp(transaction))
      }),
      { numRuns: 300 },
    )
  })

  it('decodes the SDK’s v1 packets to their amount, address and transaction, and fulfils them as the SDK does', () => {
    fc.assert(
      fc.property(ilpTransactionArb, secretArb, (transaction, secret) => {
        const reference = sdkIlp(secret, 'v1')
        const theirs = reference.getResponseIlp(transaction)
        assert.equal(ilpVersionOf(theirs.ilpPacket), 1)
        const decoded = decodeIlpV1Packet(theirs.ilpPacket)
        assert.ok(decoded.ok, decoded.ok ? '' : decoded.status)
        const amount = ilpAmountOf(transaction.amount)
        assert.ok(amount.ok)
        assert.equal(decoded.value.amountMinor, amount.value)
        // The wire holds each char of the address as one byte, as ilp-packet writes it.
        assert.equal(decoded.value.account, Buffer.from(ilpV1AddressOf(transaction.payee), 'latin1').toString('latin1'))
        assert.deepEqual(decoded.value.transaction, asJson(transaction))
        assert.equal(fulfilmentOfV1Packet(theirs.ilpPacket, secret), theirs.fulfilment)
        assert.equal(fulfilmentOfV1Packet(theirs.ilpPacket, secret), reference.calculateFulfil(theirs.ilpPacket))
        assert.equal(validateFulfilment(theirs.fulfilment, theirs.condition), 'valid')
      }),
      { numRuns: 200 },
    )
  })

  it('tells the versions apart, and neither decoder takes the other’s packet', () => {
    const transaction = anIlpTransaction()
    const v4 = built(transaction)
    const v1 = buildIlpV1Packet(transaction, TEST_ILP_SECRET)
    assert.ok(v1.ok)
    assert.equal(ilpVersionOf(v4.ilpPacket), 4)
    assert.equal(ilpVersionOf(v1.value.ilpPacket), 1)
    assert.equal(ilpVersionOf('AAAA'), undefined)
    assert.equal(ilpVersionOf(42), undefined)
    assert.deepEqual(decodeIlpV1Packet(v4.ilpPacket), { ok: false, status: 'packet_malformed' })
    assert.deepEqual(decodeIlpPacket(v1.value.ilpPacket), { ok: false, status: 'packet_malformed' })
  })

  it('refuses a v1 packet with bytes after it, bad data, or that is not base64url, and never throws', () => {
    const v1 = buildIlpV1Packet(anIlpTransaction(), TEST_ILP_SECRET)
    assert.ok(v1.ok)
    const bytes = Buffer.from(v1.value.ilpPacket, 'base64url')
    assert.deepEqual(decodeIlpV1Packet(Buffer.concat([bytes, Buffer.from([0])]).toString('base64url')), { ok: false, status: 'packet_malformed' })
    assert.deepEqual(decodeIlpV1Packet(`${v1.value.ilpPacket}*`), { ok: false, status: 'packet_malformed' })
    assert.deepEqual(decodeIlpV1Packet(''), { ok: false, status: 'packet_malformed' })
    assert.deepEqual(decodeIlpV1Packet(null), { ok: false, status: 'packet_malformed' })
    // A well-formed ILP Payment whose data is no transaction.
    const { serializeIlpPayment } = ilpPacketV1
    const notATransaction = serializeIlpPayment({ amount: '100', account: 'g.payee.msisdn.1', data: Buffer.from(Buffer.from('{"a":1}').toString('base64url')) })
    assert.deepEqual(decodeIlpV1Packet(notATransaction.toString('base64url')), { ok: false, status: 'transaction_malformed' })
    const notJson = serializeIlpPayment({ amount: '100', account: 'g.payee.msisdn.1', data: Buffer.from([0xff, 0xfe]) })
    assert.deepEqual(decodeIlpV1Packet(notJson.toString('base64url')), { ok: false, status: 'data_malformed' })
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (random) => {
        const packet = Buffer.concat([Buffer.from([1]), Buffer.from(random)]).toString('base64url')
        const decoded = decodeIlpV1Packet(packet)
        assert.equal(typeof decoded.ok, 'boolean')
      }),
      { numRuns: 500 },
    )
  })
})
