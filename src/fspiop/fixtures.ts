// SPDX-License-Identifier: Apache-2.0
/**
 * Builders and fast-check arbitraries for FSPIOP bodies, for tests only (index.ts does not export them).
 * Builders give one valid body with overrides; arbitraries give many, every one valid against the v1.1
 * schema, so a property can compare Kivuko with Mojaloop's SDK over inputs that both must accept.
 */
import fc from 'fast-check'
import { assert } from '../core/assert.ts'
import { formatMinor } from '../core/money.ts'
import { buildIlpPacket, type IlpResponse, type IlpTransaction } from './ilp.ts'
import type { Party, QuotesPostRequest, TransactionType, TransfersPostRequest } from './types.ts'

export const aParty = (fspId: string, partyIdentifier: string): Party => ({
  partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier, fspId },
})

export const anIlpTransaction = (overrides: Partial<IlpTransaction> = {}): IlpTransaction => ({
  transactionId: 'a8323bc6-c228-4df2-ae82-e5a997baf898',
  quoteId: 'b51ec534-ee48-4575-b6a9-ead2955b8069',
  payee: aParty('payeefsp', '256700000001'),
  payer: aParty('payerfsp', '256700000002'),
  amount: { amount: '100.5', currency: 'USD' },
  transactionType: { scenario: 'TRANSFER', initiator: 'PAYER', initiatorType: 'CONSUMER' },
  expiration: '2030-01-01T00:00:00.000Z',
  ...overrides,
})

/** The secret the builders' packets are made with. */
export const TEST_ILP_SECRET = 'kivuko-test-secret'

/** Packet, condition and fulfilment for anIlpTransaction() under TEST_ILP_SECRET. */
export const TEST_ILP: IlpResponse = (() => {
  const built = buildIlpPacket(anIlpTransaction(), TEST_ILP_SECRET)
  assert(built.ok, 'the fixture transaction builds')
  return built.value
})()

export const aQuotesPostRequest = (overrides: Partial<QuotesPostRequest> = {}): QuotesPostRequest => ({
  quoteId: 'b51ec534-ee48-4575-b6a9-ead2955b8069',
  transactionId: 'a8323bc6-c228-4df2-ae82-e5a997baf898',
  payee: aParty('payeefsp', '256700000001'),
  payer: aParty('payerfsp', '256700000002'),
  amountType: 'RECEIVE',
  amount: { amount: '100.5', currency: 'USD' },
  transactionType: { scenario: 'TRANSFER', initiator: 'PAYER', initiatorType: 'CONSUMER' },
  ...overrides,
})

export const aTransfersPostRequest = (overrides: Partial<TransfersPostRequest> = {}): TransfersPostRequest => ({
  transferId: 'c7a3a5f0-3f4e-4b9c-9d1e-2a7c3b1e0f11',
  payerFsp: 'payerfsp',
  payeeFsp: 'payeefsp',
  amount: { amount: '100.5', currency: 'USD' },
  ilpPacket: TEST_ILP.ilpPacket,
  condition: TEST_ILP.condition,
  expiration: '2030-01-01T00:00:00.000Z',
  ...overrides,
})

// ---------------------------------------------------------------------------------------------------
// Arbitraries

/** FSPIOP CorrelationId: lowercase, versions 1–5, RFC 4122 variant. */
export const correlationIdArb = fc.uuid({ version: [1, 2, 3, 4, 5] })

/** Any Unicode text of 1..max code points, lone surrogates included: FspId, PartyIdentifier, Note… have no pattern. */
const textArb = (maxLength: number): fc.Arbitrary<string> => fc.string({ unit: 'binary', minLength: 1, maxLength })

const partyIdTypeArb = fc.constantFrom('MSISDN', 'EMAIL', 'PERSONAL_ID', 'BUSINESS', 'DEVICE', 'ACCOUNT_ID', 'IBAN', 'ALIAS')

export const partyArb = (fspIdArb: fc.Arbitrary<string> = textArb(32)): fc.Arbitrary<Party> =>
  fc.record(
    {
      partyIdInfo: fc.record(
        { partyIdType: partyIdTypeArb, partyIdentifier: textArb(128), partySubIdOrType: textArb(128), fspId: fspIdArb },
        { requiredKeys: ['partyIdType', 'partyIdentifier', 'fspId'] },
      ),
      merchantClassificationCode: fc.stringMatching(/^\d{1,4}$/),
      name: textArb(128),
    },
    { requiredKeys: ['partyIdInfo'] },
  )

export const transactionTypeArb: fc.Arbitrary<TransactionType> = fc.record(
  {
    scenario: fc.constantFrom('DEPOSIT', 'WITHDRAWAL', 'TRANSFER', 'PAYMENT', 'REFUND'),
    subScenario: fc.stringMatching(/^[A-Z_]{1,32}$/),
    initiator: fc.constantFrom('PAYER', 'PAYEE'),
    initiatorType: fc.constantFrom('CONSUMER', 'AGENT', 'BUSINESS', 'DEVICE'),
    refundInfo: fc.record({ originalTransactionId: correlationIdArb, refundReason: textArb(128) }, { requiredKeys: ['originalTransactionId'] }),
    balanceOfPayments: fc.stringMatching(/^[1-9]\d{2}$/),
  },
  { requiredKeys: ['scenario', 'initiator', 'initiatorType'] },
)

/**
 * v1.1 currencies covering scales 0, 2 and 3, where the SDK's table and ISO agree, and 4: XTS and XXX,
 * which Mojaloop scales by 4 where ISO says 0 (no currency with four decimals is in the v1.1 enumeration).
 */
const CURRENCY_SCALES = { USD: 2, EUR: 2, TZS: 2, KES: 2, XOF: 0, UGX: 0, JPY: 0, BHD: 3, KWD: 3, XTS: 4, XXX: 4 } as const
type TestCurrency = keyof typeof CURRENCY_SCALES

/** FSPIOP Money with at most 18 integer digits, at the currency's scale, in canonical form. */
export const moneyArb: fc.Arbitrary<{ amount: string; currency: TestCurrency }> = fc
  .record({ currency: fc.constantFrom(...(Object.keys(CURRENCY_SCALES) as TestCurrency[])), amountMinor: fc.bigInt({ min: 0n, max: 10n ** 18n - 1n }) })
  .map(({ currency, amountMinor }) => ({ amount: formatMinor(amountMinor, CURRENCY_SCALES[currency]), currency }))

/** FSPIOP DateTime, with `Z` or an offset, between 2000 and 2100. */
export const dateTimeArb: fc.Arbitrary<string> = fc
  .record({
    ms: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
    offsetMinutes: fc.oneof(fc.constant(0), fc.integer({ min: -(19 * 60 + 59), max: 19 * 60 + 59 })),
    zulu: fc.boolean(),
  })
  .map(({ ms, offsetMinutes, zulu }) => {
    if (zulu) return new Date(ms).toISOString()
    const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23)
    const sign = offsetMinutes < 0 ? '-' : '+'
    const hours = String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, '0')
    const minutes = String(Math.abs(offsetMinutes) % 60).padStart(2, '0')
    return `${local}${sign}${hours}:${minutes}`
  })

export const extensionListArb = fc.record({
  extension: fc.array(fc.record({ key: textArb(32), value: textArb(128) }), { minLength: 1, maxLength: 3 }),
})

export const ilpTransactionArb: fc.Arbitrary<IlpTransaction> = fc.record(
  {
    transactionId: correlationIdArb,
    quoteId: correlationIdArb,
    payee: partyArb(),
    payer: partyArb(),
    amount: moneyArb,
    transactionType: transactionTypeArb,
    expiration: dateTimeArb,
    note: textArb(128),
    extensionList: extensionListArb,
  },
  { requiredKeys: ['transactionId', 'quoteId', 'payee', 'payer', 'amount', 'transactionType', 'expiration'] },
)

/** A payee's secret: any non-empty text, or raw bytes. */
export const secretArb: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }),
  fc.uint8Array({ minLength: 1, maxLength: 64 }),
)
