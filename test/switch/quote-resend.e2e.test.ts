// SPDX-License-Identifier: Apache-2.0
/**
 * A payer that resends its POST /quotes after the payee answered gets the payee's answer again exactly as it
 * was relayed the first time, over real HTTP: the same body bytes and the same headers, so the payee's
 * FSPIOP-Signature still verifies with the payee's key (Mojaloop SDK's validator), even though the switch
 * signs its own messages with the hub's key. The payee's error answer is resent the same way.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import sdk from '@mojaloop/sdk-standard-components'
import { adminCall, provisionParticipant } from '../../src/cli/provision.ts'
import { buildFspiopHeaders } from '../../src/fspiop/index.ts'
import { startSwitch, type SwitchProcess } from '../../src/http/switch/start-switch.ts'
import { FakeDfsp, type Received } from '../support/fake-dfsp.ts'
import { STORE_KINDS, type TestStore } from '../support/stores.ts'

const quiet = { child: () => quiet, debug() {}, error() {}, isDebugEnabled: false }
const silent = quiet as never
const pemOf = (key: { export(options: object): string | Buffer }, type: string): string => key.export({ type, format: 'pem' }) as string
const keyPair = () => generateKeyPairSync('rsa', { modulusLength: 2048 })

/** The headers Mojaloop's SDK sends and the canonical body text it signed. */
function signed(source: string, destination: string, method: 'POST' | 'PUT', url: string, body: Record<string, unknown>, signingKey: string) {
  const headers: Record<string, string> = buildFspiopHeaders({ resource: 'quotes', method, source, destination, nowMs: Date.now() })
  const options = { method, uri: url, headers, body }
  new sdk.Jws.signer({ signingKey, logger: silent }).sign(options)
  const sent: unknown = options.body
  return { headers, body: typeof sent === 'string' ? sent : JSON.stringify(sent) }
}

function quoteRequest(payer: string, payee: string): Record<string, unknown> {
  return {
    quoteId: randomUUID(),
    transactionId: randomUUID(),
    payer: { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: '256700000011', fspId: payer } },
    payee: { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: '256700000012', fspId: payee } },
    amountType: 'SEND',
    amount: { amount: '25', currency: 'USD' },
    transactionType: { scenario: 'TRANSFER', initiator: 'PAYER', initiatorType: 'CONSUMER' },
  }
}

/** The headers a relay must carry through unchanged. */
const CARRIED = ['fspiop-signature', 'date', 'fspiop-source', 'fspiop-destination', 'content-type', 'fspiop-uri', 'fspiop-http-method', 'traceparent']

for (const kind of STORE_KINDS) {
  describe(`resent quote answers keep the payee's signature on ${kind.name}`, { skip: kind.skip }, () => {
    let opened: TestStore
    let hub: SwitchProcess
    const payer = new FakeDfsp('quotepayer')
    const payee = new FakeDfsp('quotepayee')
    const other = new FakeDfsp('quoteother')
    const tokens = new Map<string, string>()
    const hubKey = keyPair()
    const payerKey = keyPair()
    const payeeKey = keyPair()
    const payeeValidator = () => new sdk.Jws.validator({ validationKeys: { [payee.name]: pemOf(payeeKey.publicKey, 'spki') }, logger: silent })

    const send = async (fsp: string, method: 'POST' | 'PUT', path: string, message: { headers: Record<string, string>; body: string }) => {
      const response = await fetch(`${hub.fspiopUrl}${path}`, { method, headers: { ...message.headers, authorization: `Bearer ${tokens.get(fsp)}` }, body: message.body })
      const text = await response.text()
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) }
    }

    /** The payer asks for a quote, signed, and the payee receives it. */
    const askQuote = async () => {
      const body = quoteRequest(payer.name, payee.name)
      const request = signed(payer.name, payee.name, 'POST', `${hub.fspiopUrl}/quotes`, body, pemOf(payerKey.privateKey, 'pkcs1'))
      assert.equal((await send(payer.name, 'POST', '/quotes', request)).status, 202)
      await payee.next((r) => r.method === 'POST' && r.body?.quoteId === body.quoteId)
      return { quoteId: body.quoteId as string, request }
    }

    before(async () => {
      opened = await kind.open()
      await Promise.all([payer.start(), payee.start(), other.start()])
      hub = await startSwitch({ store: opened.store, fspiopPort: 0, adminPort: 0, signingKey: hubKey.privateKey, outbox: { pollIntervalMs: 50 } })
      for (const dfsp of [payer, payee, other]) {
        tokens.set(dfsp.name, await provisionParticipant(hub.adminUrl, { name: dfsp.name, currency: 'USD', fspiopUrl: dfsp.url, netDebitCap: '1000', liquidity: '1000' }))
      }
      for (const [dfsp, key] of [
        [payer, payerKey],
        [payee, payeeKey],
      ] as const) {
        assert.equal((await adminCall(hub.adminUrl, 'PUT', `/participants/${dfsp.name}/jwsKey`, { publicKey: pemOf(key.publicKey, 'spki') })).status, 200)
      }
    })
    after(async () => {
      await hub?.close()
      await Promise.all([payer.close(), payee.close(), other.close()])
      await opened?.close()
    })

    it("resends the payee's signed PUT /quotes byte for byte, headers included, and it verifies with the payee's key", async () => {
      const { quoteId, request } = await askQuote()
      const answer = {
        transferAmount: { amount: '25', currency: 'USD' },
        expiration: new Date(Date.now() + 60_000).toISOString(),
        ilpPacket: 'AYIBgQAAAAAAAASwNGxldmVsb25lLmRmc3AxLm1lci45T2RTOF81MDdqUUZERmZlakgyOVc4bXFmNEpLMHlGTFGCAUBQU0svMS4wCk5vbmNl',
        condition: 'f5sqb7tBTWPd5Y8BDFdMm9BJR_MNI4isf8p8n4D5pHA',
      }
      const put = signed(payee.name, payer.name, 'PUT', `${hub.fspiopUrl}/quotes/${quoteId}`, answer, pemOf(payeeKey.privateKey, 'pkcs1'))
      put.headers.traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
      assert.equal((await send(payee.name, 'PUT', `/quotes/${quoteId}`, put)).status, 200)
      const first = await payer.next((r) => r.method === 'PUT' && r.path === `/quotes/${quoteId}`)
      assert.equal(first.rawBody, put.body)
      assert.equal(payeeValidator().validate({ headers: first.headers as Record<string, string>, body: first.body }), true)

      // Later, so that a Date built afresh would differ from the payee's.
      await new Promise((resolve) => setTimeout(resolve, 1_100))
      assert.equal((await send(payer.name, 'POST', '/quotes', request)).status, 202)
      const again: Received = await payer.next((r) => r.method === 'PUT' && r.path === `/quotes/${quoteId}`)
      assert.equal(again.rawBody, put.body, 'the body bytes are the ones the payee signed')
      for (const name of CARRIED) assert.equal(again.headers[name], first.headers[name], `${name} as relayed the first time`)
      assert.equal(again.headers['fspiop-signature'], put.headers['fspiop-signature'])
      assert.equal(again.headers['fspiop-source'], payee.name)
      assert.equal(payeeValidator().validate({ headers: again.headers as Record<string, string>, body: again.body }), true)
    })

    it("resends the payee's signed PUT /quotes/{ID}/error the same way", async () => {
      const { quoteId, request } = await askQuote()
      const refusal = { errorInformation: { errorCode: '5101', errorDescription: 'Payee rejected quote' } }
      const put = signed(payee.name, payer.name, 'PUT', `${hub.fspiopUrl}/quotes/${quoteId}/error`, refusal, pemOf(payeeKey.privateKey, 'pkcs1'))
      assert.equal((await send(payee.name, 'PUT', `/quotes/${quoteId}/error`, put)).status, 200)
      const first = await payer.next((r) => r.method === 'PUT' && r.path === `/quotes/${quoteId}/error`)

      assert.equal((await send(payer.name, 'POST', '/quotes', request)).status, 202)
      const again = await payer.next((r) => r.method === 'PUT' && r.path === `/quotes/${quoteId}/error`)
      assert.equal(again.rawBody, put.body)
      for (const name of CARRIED) assert.equal(again.headers[name], first.headers[name], name)
      assert.equal(payeeValidator().validate({ headers: again.headers as Record<string, string>, body: again.body }), true)
    })

    it('answers a resend made before the payee answered with nothing, then relays the answer once', async () => {
      const { quoteId, request } = await askQuote()
      assert.equal((await send(payer.name, 'POST', '/quotes', request)).status, 202)
      await new Promise((resolve) => setTimeout(resolve, 300))
      assert.equal(payer.received.filter((r) => r.path.startsWith(`/quotes/${quoteId}`)).length, 0)

      const answer = { transferAmount: { amount: '25', currency: 'USD' }, expiration: new Date(Date.now() + 60_000).toISOString(), ilpPacket: 'AYIBgQAAAAAAAASw', condition: 'f5sqb7tBTWPd5Y8BDFdMm9BJR_MNI4isf8p8n4D5pHA' }
      const put = signed(payee.name, payer.name, 'PUT', `${hub.fspiopUrl}/quotes/${quoteId}`, answer, pemOf(payeeKey.privateKey, 'pkcs1'))
      assert.equal((await send(payee.name, 'PUT', `/quotes/${quoteId}`, put)).status, 200)
      const relayed = await payer.next((r) => r.method === 'PUT' && r.path === `/quotes/${quoteId}`)
      assert.equal(relayed.rawBody, put.body)
      await new Promise((resolve) => setTimeout(resolve, 300))
      assert.equal(payer.received.filter((r) => r.path.startsWith(`/quotes/${quoteId}`)).length, 1)
    })

    it("never gives the payee's answer to another participant sending the same body: 3106 instead", async () => {
      const { quoteId } = await askQuote()
      const answer = { transferAmount: { amount: '25', currency: 'USD' }, expiration: new Date(Date.now() + 60_000).toISOString(), ilpPacket: 'AYIBgQAAAAAAAASw', condition: 'f5sqb7tBTWPd5Y8BDFdMm9BJR_MNI4isf8p8n4D5pHA' }
      const put = signed(payee.name, payer.name, 'PUT', `${hub.fspiopUrl}/quotes/${quoteId}`, answer, pemOf(payeeKey.privateKey, 'pkcs1'))
      assert.equal((await send(payee.name, 'PUT', `/quotes/${quoteId}`, put)).status, 200)
      await payer.next((r) => r.method === 'PUT' && r.path === `/quotes/${quoteId}`)

      // The other participant has no key registered, so its unsigned copy of the payer's request is accepted at the edge.
      const copy = (payee.received.find((r) => r.method === 'POST' && r.body?.quoteId === quoteId) as Received).body
      const headers = buildFspiopHeaders({ resource: 'quotes', method: 'POST', source: other.name, destination: payee.name, nowMs: Date.now() })
      assert.equal((await send(other.name, 'POST', '/quotes', { headers, body: JSON.stringify(copy) })).status, 202)
      const refused = await other.next((r) => r.path === `/quotes/${quoteId}/error`)
      assert.equal(refused.body.errorInformation.errorCode, '3106')
      assert.equal(refused.headers['fspiop-source'], hub.hub.hubName)
      assert.equal(other.received.some((r) => r.method === 'PUT' && r.path === `/quotes/${quoteId}`), false)
    })
  })
}
