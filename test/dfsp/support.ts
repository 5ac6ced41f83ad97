// SPDX-License-Identifier: Apache-2.0
/**
 * What the DFSP suites share: a DFSP started on a real store with a fake switch, Mojaloop's own SDK as
 * the other side (MojaloopRequests to send, Ilp to build and check packets), and the check that every
 * message the DFSP sent is FSPIOP-valid.
 */
import type { KeyObject } from 'node:crypto'
import assert from 'node:assert/strict'
import { Buffer } from 'node:buffer'
import { randomUUID } from 'node:crypto'
import sdk from '@mojaloop/sdk-standard-components'
import pino from 'pino'
import type { Clock } from '../../src/core/clock.ts'
import type { DfspConfigInput } from '../../src/dfsp/index.ts'
import { validateFspiopBody, validateFspiopHeaders, type FspiopResource, type HttpMethod, type QuotesPostRequest, type TransfersPostRequest } from '../../src/fspiop/index.ts'
import { startDfsp, type DfspHandle, type DfspUrls } from '../../src/http/dfsp/index.ts'
import type { StoreKind, TestStore } from '../support/stores.ts'
import { FakeSwitch, type Recorded } from './fake-switch.ts'

export const BANK_SECRET = 'bank-ilp-secret-0123456789'
export const BANK_TOKEN = 'bank-token-0123456789'
/** The payee DFSP the tests play when the bank pays. */
export const PAYEE_SECRET = 'payeefsp-ilp-secret-0123456789'

export const silentLogger = pino({ level: 'silent' })

export const ALICE = '256700000001'

/** A payer FSP's POST /quotes to the bank for ALICE (RECEIVE 10 USD), with fresh ids. */
export const aQuoteRequest = (overrides: Partial<QuotesPostRequest> = {}): QuotesPostRequest => ({
  quoteId: randomUUID(),
  transactionId: randomUUID(),
  payee: { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: ALICE, fspId: 'bank' } },
  payer: { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: '256799999999', fspId: 'payerfsp' }, name: 'Pat Payer' },
  amountType: 'RECEIVE',
  amount: { amount: '10', currency: 'USD' },
  transactionType: { scenario: 'TRANSFER', initiator: 'PAYER', initiatorType: 'CONSUMER' },
  note: 'lunch',
  ...overrides,
})

/** The payer FSP's POST /transfers for a quote the bank answered: its amount, packet and condition, a minute to expire. */
export const aPrepareFor = (quote: QuotesPostRequest, quoted: { transferAmount: TransfersPostRequest['amount']; ilpPacket: string; condition: string }): TransfersPostRequest => ({
  transferId: quote.transactionId,
  payerFsp: 'payerfsp',
  payeeFsp: 'bank',
  amount: quoted.transferAmount,
  ilpPacket: quoted.ilpPacket,
  condition: quoted.condition,
  expiration: new Date(Date.now() + 60_000).toISOString(),
})
export const BOB = '256700000002'

/** bank: USD; payee fee 0.50 + 1 % half-up; payer fee 0.25 flat; Alice 100.00 (also ACCOUNT_ID ALICE-1), Bob 5.00. */
export function bankConfig(switchUrl: string, overrides: Partial<DfspConfigInput> = {}): DfspConfigInput {
  return {
    dfspId: 'bank',
    currency: 'USD',
    switchUrl,
    switchToken: BANK_TOKEN,
    ilpSecret: BANK_SECRET,
    fees: { payee: { flat: '0.5', percent: '1', rounding: 'half-up' }, payer: { flat: '0.25', rounding: 'half-up' } },
    customers: [
      { name: 'Alice Nakato', firstName: 'Alice', lastName: 'Nakato', dateOfBirth: '1990-04-12', msisdn: ALICE, accountId: 'ALICE-1', balance: '100' },
      { name: 'Bob Okello', msisdn: BOB, balance: '5' },
    ],
    oracleRegistration: 'manual',
    timeouts: { partyMs: 3_000, quoteMs: 3_000, transferMs: 3_000, participantMs: 3_000, httpMs: 3_000 },
    callbackAttemptsMax: 2,
    ...overrides,
  }
}

export interface Started {
  readonly testStore: TestStore
  readonly fake: FakeSwitch
  readonly handle: DfspHandle
  /** Mojaloop's SDK client towards the DFSP's FSPIOP API, speaking as `as`. */
  readonly mojaloop: (as: string) => SdkRequests
  close(): Promise<void>
}

export async function startBank(
  kind: StoreKind,
  overrides: Partial<DfspConfigInput> = {},
  options: {
    clock?: Clock
    beforeRegistration?: (urls: DfspUrls, fake: FakeSwitch) => Promise<void> | void
    signingKey?: KeyObject
    verificationKeyOf?: (fspId: string) => Promise<KeyObject | undefined>
  } = {},
): Promise<Started> {
  const testStore = await kind.open()
  const fake = await FakeSwitch.start()
  let handle: DfspHandle
  try {
    handle = await startDfsp(bankConfig(fake.url, overrides), testStore.store, {
      logger: silentLogger,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.beforeRegistration === undefined ? {} : { beforeRegistration: (urls) => options.beforeRegistration?.(urls, fake) }),
      ...(options.signingKey === undefined ? {} : { signingKey: options.signingKey }),
      ...(options.verificationKeyOf === undefined ? {} : { verificationKeyOf: options.verificationKeyOf }),
    })
  } catch (error) {
    await fake.close()
    await testStore.close()
    throw error
  }
  return {
    testStore,
    fake,
    handle,
    mojaloop: (as) => sdkRequests(handle.urls.fspiop, as),
    async close() {
      await handle.close()
      await fake.close()
      await testStore.close()
    },
  }
}

/** Every message the DFSP sent: FSPIOP headers right, from the DFSP, with its token, and a schema-valid body. */
export function assertAllFspiopValid(received: readonly Recorded[], source = 'bank', token = BANK_TOKEN): void {
  for (const r of received) {
    const what = `${r.method} ${r.path}`
    const resource = r.path.split('/')[1] as FspiopResource
    const headers = validateFspiopHeaders(r.headers as Record<string, string | undefined>, { method: r.method as HttpMethod, resource, supportedVersions: ['1.1'] })
    assert.ok(headers.ok, `${what}: ${headers.ok ? '' : headers.error.message}`)
    assert.equal(headers.value.source, source, what)
    assert.equal(r.headers.authorization, `Bearer ${token}`, what)
    if (r.method === 'GET') assert.equal(r.body, undefined, what)
    else {
      const body = validateFspiopBody(r.method as HttpMethod, r.path, r.body)
      assert.ok(body.ok, `${what}: ${body.ok ? '' : body.error.message}`)
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Mojaloop's SDK

export interface SdkRequests {
  getParties(type: string, id: string, subId: string | undefined, destination: string | undefined): Promise<unknown>
  putParties(type: string, id: string, subId: string | undefined, body: object, destination: string): Promise<unknown>
  putPartiesError(type: string, id: string, subId: string | undefined, error: object, destination: string): Promise<unknown>
  putParticipants(type: string, id: string, subId: string | undefined, body: object, destination: string): Promise<unknown>
  postQuotes(body: object, destination: string): Promise<unknown>
  putQuotes(quoteId: string, body: object, destination: string): Promise<unknown>
  putQuotesError(quoteId: string, error: object, destination: string): Promise<unknown>
  postTransfers(body: object, destination: string): Promise<unknown>
  putTransfers(transferId: string, body: object, destination: string): Promise<unknown>
  putTransfersError(transferId: string, error: object, destination: string): Promise<unknown>
  patchTransfers(transferId: string, body: object, destination: string): Promise<unknown>
}

export interface SdkIlp {
  getResponseIlp(transaction: object): { fulfilment: string; condition: string; ilpPacket: string }
  getQuoteResponseIlp(quoteRequest: object, quoteResponse: object): { fulfilment: string; condition: string; ilpPacket: string }
  calculateFulfil(ilpPacket: string): string
  validateFulfil(fulfilment: string, condition: string): boolean
  getTransactionObject(ilpPacket: string): any
}

/** A logger that says nothing, in the shape the SDK calls (push/child and level methods). */
export const quiet: any = new Proxy(
  {},
  {
    get: (_target, name) => (typeof name === 'string' && name.startsWith('is') ? false : name === 'push' || name === 'child' ? () => quiet : () => undefined),
  },
)

/** The SDK's MojaloopRequests as FSP `as`; with a PEM private key it signs as the SDK does with JWS on. */
export function sdkRequests(dfspFspiopUrl: string, as: string, jwsSigningKey?: string): SdkRequests {
  const { MojaloopRequests } = sdk as unknown as { MojaloopRequests: new (config: object) => SdkRequests }
  const signing = jwsSigningKey === undefined ? { jwsSign: false } : { jwsSign: true, jwsSignPutParties: true, jwsSigningKey }
  return new MojaloopRequests({ logger: quiet, dfspId: as, tls: { enabled: false }, ...signing, peerEndpoint: new URL(dfspFspiopUrl).host })
}

/** The SDK's Ilp: v4 (FSPIOP 2.0 deployments, and Kivuko's payee), or v1 (Mojaloop v1.x, the SDK's default). */
export function sdkIlp(secret: string, version: 'v1' | 'v4' = 'v4'): SdkIlp {
  const { Ilp } = sdk as unknown as { Ilp: { ilpFactory(version: string, options: object): SdkIlp; ILP_VERSIONS: { v1: string; v4: string } } }
  return Ilp.ilpFactory(Ilp.ILP_VERSIONS[version], { secret: Buffer.from(secret), logger: quiet })
}

// ---------------------------------------------------------------------------------------------------
// The DFSP's own API

export async function api(handle: DfspHandle, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${handle.urls.api}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  })
  const text = await response.text()
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) }
}

export async function balanceOf(handle: DfspHandle, msisdn: string): Promise<{ available: string; reserved: string; posted: string; incoming: string }> {
  const { status, body } = await api(handle, 'GET', `/customers/${msisdn}/balance`)
  assert.equal(status, 200)
  return { available: body.available, reserved: body.reserved, posted: body.posted, incoming: body.incoming }
}

/** Waits until `check` passes (background work after a 200/202 takes a moment). */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await check()
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
}
