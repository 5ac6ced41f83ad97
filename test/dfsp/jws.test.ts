// SPDX-License-Identifier: Apache-2.0
/**
 * FSPIOP-Signature at the DFSP: with peers' keys it takes only what their sources signed (Mojaloop's SDK
 * signing, through its MojaloopRequests), answers anything else with 3105, and leaves PUT /parties alone as
 * the SDK does; with a key of its own it signs its callbacks so that the SDK's verification takes them.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { afterEach, describe, it } from 'node:test'
import sdk from '@mojaloop/sdk-standard-components'
import { buildFspiopHeaders } from '../../src/fspiop/index.ts'
import { STORE_KINDS, type StoreKind } from '../support/stores.ts'
import { ALICE, aQuoteRequest, quiet, startBank, sdkRequests, type Started } from './support.ts'

const pair = (): { privateKey: KeyObject; publicKey: KeyObject; privatePem: string } => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { privateKey, publicKey, privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }
}

const [sqlite] = STORE_KINDS as [StoreKind]

describe('DFSP with JWS keys: verifies what it receives, signs what it sends', () => {
  const payerfsp = pair()
  const bank = pair()
  const stranger = pair()
  let started: Started
  afterEach(async () => {
    await started.handle.dfsp.idle()
    await started.close()
  })

  const post = (body: unknown, headers: Record<string, string>): Promise<Response> =>
    fetch(`${started.handle.urls.fspiop}/quotes`, { method: 'POST', headers, body: JSON.stringify(body) })

  it('takes a signed quote request, answers it signed, and refuses unsigned or wrongly signed ones with 3105', async () => {
    started = await startBank(sqlite, {}, {
      signingKey: bank.privateKey,
      verificationKeyOf: async (fspId) => (fspId === 'payerfsp' ? payerfsp.publicKey : undefined),
    })
    const signed = aQuoteRequest()
    await sdkRequests(started.handle.urls.fspiop, 'payerfsp', payerfsp.privatePem).postQuotes(signed, 'bank')
    const answer = await started.fake.nextAt('PUT', `/quotes/${signed.quoteId}`)
    // The SDK's own validator, as an SDK payer with JWS on runs it, takes the bank's signature.
    const { Jws } = sdk as unknown as { Jws: { validator: new (config: object) => { validate(request: object): boolean } } }
    const validator = new Jws.validator({ validationKeys: { bank: bank.publicKey.export({ type: 'spki', format: 'pem' }) }, logger: quiet })
    assert.equal(validator.validate({ headers: answer.headers, body: answer.body, data: answer.body }), true)

    const headers = buildFspiopHeaders({ resource: 'quotes', method: 'POST', source: 'payerfsp', destination: 'bank', nowMs: Date.now() })
    const unsigned = await post(aQuoteRequest(), headers)
    assert.equal(unsigned.status, 400)
    assert.equal(((await unsigned.json()) as { errorInformation: { errorCode: string } }).errorInformation.errorCode, '3105')

    // Signed, but with a key that is not payerfsp's.
    const forged = aQuoteRequest()
    await assert.rejects(sdkRequests(started.handle.urls.fspiop, 'payerfsp', stranger.privatePem).postQuotes(forged, 'bank'))
    // Signed by its own key, but from an FSP whose key the bank does not know.
    await assert.rejects(sdkRequests(started.handle.urls.fspiop, 'otherfsp', stranger.privatePem).postQuotes(aQuoteRequest(), 'bank'))
    await started.handle.dfsp.idle()
    assert.equal(started.fake.received.filter((r) => r.method === 'PUT' && r.path.startsWith('/quotes/')).length, 1, 'only the signed quote was answered')
  })

  it('takes PUT /parties unsigned, as the SDK sends it by default', async () => {
    started = await startBank(sqlite, {}, { verificationKeyOf: async () => undefined })
    const headers = buildFspiopHeaders({ resource: 'parties', method: 'PUT', source: 'payerfsp', destination: 'bank', nowMs: Date.now() })
    const party = { party: { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: ALICE, fspId: 'payerfsp' }, name: 'Someone' } }
    const response = await fetch(`${started.handle.urls.fspiop}/parties/MSISDN/${ALICE}`, { method: 'PUT', headers, body: JSON.stringify(party) })
    assert.equal(response.status, 200)
  })
})
