// SPDX-License-Identifier: Apache-2.0
/**
 * FSPIOP-Signature at the switch over real HTTP: a participant that registered its key through the admin
 * API must sign (3105 otherwise); signatures made by Mojaloop's SDK verify, are relayed unchanged and still
 * verify at the destination with the SDK's own validator; the switch signs what it writes itself with the
 * hub's key; participants without a key are not asked to sign.
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

/** Headers for a request from `fsp`, and the SDK-signed body when a key is given. */
function request(fsp: string, destination: string, url: string, method: string, body: Record<string, unknown>, signingKey?: string) {
  const headers: Record<string, string> = buildFspiopHeaders({ resource: 'quotes', method: method as 'POST', source: fsp, destination, nowMs: Date.now() })
  const options = { method, uri: url, headers, body }
  // The SDK's signer replaces the body with the text it signed (canonical JSON).
  if (signingKey !== undefined) new sdk.Jws.signer({ signingKey, logger: silent }).sign(options)
  const sent: unknown = options.body
  return { headers, body: typeof sent === 'string' ? sent : JSON.stringify(sent) }
}

function quoteBody(payer: string, payee: string): Record<string, unknown> {
  return {
    quoteId: randomUUID(),
    transactionId: randomUUID(),
    payer: { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: '256700000001', fspId: payer } },
    payee: { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: '256700000002', fspId: payee } },
    amountType: 'SEND',
    amount: { amount: '10', currency: 'USD' },
    transactionType: { scenario: 'TRANSFER', initiator: 'PAYER', initiatorType: 'CONSUMER' },
  }
}

for (const kind of STORE_KINDS) {
  describe(`FSPIOP-Signature at the switch on ${kind.name}`, { skip: kind.skip }, () => {
    let opened: TestStore
    let hub: SwitchProcess
    const payer = new FakeDfsp('signerfsp')
    const payee = new FakeDfsp('plainfsp')
    const tokens = new Map<string, string>()
    const hubKey = keyPair()
    const payerKey = keyPair()

    const post = async (fsp: string, path: string, signed: { headers: Record<string, string>; body: string }) => {
      const response = await fetch(`${hub.fspiopUrl}${path}`, { method: path.startsWith('/quotes/') ? 'PUT' : 'POST', headers: { ...signed.headers, authorization: `Bearer ${tokens.get(fsp)}` }, body: signed.body })
      const text = await response.text()
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) }
    }

    before(async () => {
      opened = await kind.open()
      await Promise.all([payer.start(), payee.start()])
      hub = await startSwitch({ store: opened.store, fspiopPort: 0, adminPort: 0, signingKey: hubKey.privateKey, outbox: { pollIntervalMs: 50 } })
      for (const dfsp of [payer, payee]) {
        tokens.set(dfsp.name, await provisionParticipant(hub.adminUrl, { name: dfsp.name, currency: 'USD', fspiopUrl: dfsp.url, netDebitCap: '1000', liquidity: '1000' }))
      }
    })
    after(async () => {
      await hub?.close()
      await Promise.all([payer.close(), payee.close()])
      await opened?.close()
    })

    it('registers, shows and refuses keys through the admin API', async () => {
      const registered = await adminCall(hub.adminUrl, 'PUT', `/participants/${payer.name}/jwsKey`, { publicKey: pemOf(payerKey.publicKey, 'spki') })
      assert.equal(registered.status, 200)
      assert.equal((await adminCall(hub.adminUrl, 'GET', `/participants/${payer.name}/jwsKey`)).body.publicKey, pemOf(payerKey.publicKey, 'spki'))
      await assert.rejects(adminCall(hub.adminUrl, 'GET', `/participants/${payee.name}/jwsKey`), /404 .*"3200".*no JWS key registered/)
      await assert.rejects(adminCall(hub.adminUrl, 'PUT', `/participants/${payee.name}/jwsKey`, { publicKey: 'not a key' }), /400 .*not a PEM/)
      const short = generateKeyPairSync('rsa', { modulusLength: 1024 })
      await assert.rejects(adminCall(hub.adminUrl, 'PUT', `/participants/${payee.name}/jwsKey`, { publicKey: pemOf(short.publicKey, 'spki') }), /400 .*1024 bits/)
      await assert.rejects(adminCall(hub.adminUrl, 'PUT', '/participants/nobody/jwsKey', { publicKey: pemOf(payerKey.publicKey, 'spki') }), /404/)
    })

    it("relays an SDK-signed quote unchanged, and the SDK's validator accepts it at the payee", async () => {
      const body = quoteBody(payer.name, payee.name)
      const signed = request(payer.name, payee.name, `${hub.fspiopUrl}/quotes`, 'POST', body, pemOf(payerKey.privateKey, 'pkcs1'))
      assert.equal((await post(payer.name, '/quotes', signed)).status, 202)
      const relayed = await payee.next((r) => r.method === 'POST' && r.body?.quoteId === body.quoteId)
      assert.equal(relayed.headers['fspiop-signature'], signed.headers['fspiop-signature'])
      assert.equal(relayed.rawBody, signed.body)
      const validator = new sdk.Jws.validator({ validationKeys: { [payer.name]: pemOf(payerKey.publicKey, 'spki') }, logger: silent })
      assert.equal(validator.validate({ headers: relayed.headers as Record<string, string>, body: relayed.body }), true)
    })

    const refusals: ReadonlyArray<[string, () => { headers: Record<string, string>; body: string }, RegExp]> = [
      ['an unsigned request', () => request(payer.name, payee.name, '', 'POST', quoteBody(payer.name, payee.name)), /FSPIOP-Signature is required/],
      [
        'a body changed after signing',
        () => {
          const signed = request(payer.name, payee.name, `${hub.fspiopUrl}/quotes`, 'POST', quoteBody(payer.name, payee.name), pemOf(payerKey.privateKey, 'pkcs1'))
          return { ...signed, body: signed.body.replace('"10"', '"1000"') }
        },
        /does not verify/,
      ],
      ['a signature with another key', () => request(payer.name, payee.name, `${hub.fspiopUrl}/quotes`, 'POST', quoteBody(payer.name, payee.name), pemOf(keyPair().privateKey, 'pkcs1')), /does not verify/],
      [
        'a signature for another destination',
        () => {
          const signed = request(payer.name, 'otherfsp', `${hub.fspiopUrl}/quotes`, 'POST', quoteBody(payer.name, payee.name), pemOf(payerKey.privateKey, 'pkcs1'))
          return { ...signed, headers: { ...signed.headers, 'fspiop-destination': payee.name } }
        },
        /FSPIOP-Destination/,
      ],
    ]
    for (const [name, make, reason] of refusals) {
      it(`answers ${name} from a participant with a key with 3105, relaying nothing`, async () => {
        const before = payee.received.length
        const answer = await post(payer.name, '/quotes', make())
        assert.equal(answer.status, 400)
        assert.equal(answer.body.errorInformation.errorCode, '3105')
        assert.match(answer.body.errorInformation.errorDescription, reason)
        await new Promise((resolve) => setTimeout(resolve, 150))
        assert.equal(payee.received.length, before)
      })
    }

    it('does not ask a participant without a key to sign', async () => {
      const body = { ...quoteBody(payee.name, payer.name) }
      const plain = request(payee.name, payer.name, '', 'POST', body)
      assert.equal((await post(payee.name, '/quotes', plain)).status, 202)
      await payer.next((r) => r.method === 'POST' && r.body?.quoteId === body.quoteId)
    })

    it("signs its own messages with the hub's key, as the SDK's validator checks them", async () => {
      const transferId = randomUUID()
      const headers = buildFspiopHeaders({ resource: 'transfers', method: 'GET', source: payee.name, nowMs: Date.now() })
      const response = await fetch(`${hub.fspiopUrl}/transfers/${transferId}`, { headers: { ...headers, authorization: `Bearer ${tokens.get(payee.name)}` } })
      assert.equal(response.status, 202)
      const error: Received = await payee.next((r) => r.method === 'PUT' && r.path.endsWith(`/transfers/${transferId}/error`))
      assert.equal(error.body.errorInformation.errorCode, '3208')
      assert.equal(error.headers['fspiop-source'], hub.hub.hubName)
      const validator = new sdk.Jws.validator({ validationKeys: { [hub.hub.hubName]: pemOf(hubKey.publicKey, 'spki') }, logger: silent })
      assert.equal(validator.validate({ headers: error.headers as Record<string, string>, body: error.body }), true)
    })

    it('takes unsigned requests again once the key is removed', async () => {
      assert.equal((await adminCall(hub.adminUrl, 'DELETE', `/participants/${payer.name}/jwsKey`)).status, 204)
      const body = quoteBody(payer.name, payee.name)
      assert.equal((await post(payer.name, '/quotes', request(payer.name, payee.name, '', 'POST', body))).status, 202)
      await payee.next((r) => r.method === 'POST' && r.body?.quoteId === body.quoteId)
    })
  })
}
