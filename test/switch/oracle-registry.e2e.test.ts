// SPDX-License-Identifier: Apache-2.0
/**
 * External oracles over real HTTP: the ALS-shaped registry on the admin API (register, list, filter, change,
 * remove, and its refusals), and the switch's account look-up going to the registered oracle instead of its
 * built-in table — GET /parties, GET/POST/DELETE /participants, the POST /participants batch and a quote
 * without a payee FSP — with the currency's own oracle preferred to the default, the built-in table used
 * for types without an oracle, and the oracle's failures answered with ALS's codes (1001, 3204, 3201).
 * The oracle is a small HTTP server in the test speaking Mojaloop's oracle API.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, beforeEach, describe, it } from 'node:test'
import { buildFspiopHeaders, type FspiopResource, type HttpMethod } from '../../src/fspiop/index.ts'
import { startSwitch, type SwitchProcess } from '../../src/http/switch/start-switch.ts'
import { provisionParticipant } from '../../src/cli/provision.ts'
import { FakeDfsp } from '../support/fake-dfsp.ts'
import { STORE_KINDS, type TestStore } from '../support/stores.ts'

interface OracleCall {
  readonly method: string
  /** Path and query, e.g. `/usd/participants/MSISDN/1?currency=USD`. */
  readonly url: string
  readonly headers: IncomingMessage['headers']
  readonly body: any
}

/**
 * Several oracles on one server, one per first path segment (`/usd`, `/default`…), each with its own
 * parties. `behaviour` makes one answer with a status of choice or not at all.
 */
class FakeOracle {
  readonly calls: OracleCall[] = []
  readonly parties = new Map<string, { fspId: string; currency?: string }>()
  readonly behaviour = new Map<string, number | 'silent'>()
  /** Party identifiers a batch registration refuses, with 3003. */
  readonly refuse = new Set<string>()
  url = ''
  #server: Server = createServer((request, response) => {
    let text = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => (text += chunk))
    request.on('end', () => {
      const call: OracleCall = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: text === '' ? undefined : JSON.parse(text) }
      this.calls.push(call)
      const url = new URL(call.url, 'http://oracle')
      const [, oracle, resource, type, id] = url.pathname.split('/').map(decodeURIComponent)
      const behaviour = this.behaviour.get(oracle ?? '')
      if (behaviour === 'silent') return
      if (typeof behaviour === 'number') return void response.writeHead(behaviour).end()
      if (resource !== 'participants') return void response.writeHead(404).end()
      const answer = (status: number, body?: unknown) => void response.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' }).end(body === undefined ? undefined : JSON.stringify(body))
      if (type === undefined && call.method === 'POST') {
        const partyList = (call.body.partyList as { partyIdType: string; partyIdentifier: string; fspId: string }[]).map((p) => {
          if (this.refuse.has(p.partyIdentifier)) return { partyId: p, errorInformation: { errorCode: '3003', errorDescription: 'Add Party information error - refused by the oracle' } }
          this.parties.set(`${oracle}/${p.partyIdType}/${p.partyIdentifier}`, { fspId: p.fspId, ...(call.body.currency === undefined ? {} : { currency: call.body.currency }) })
          return { partyId: p }
        })
        return answer(201, { partyList })
      }
      const key = `${oracle}/${type}/${id}`
      if (call.method === 'GET') {
        const found = this.parties.get(key)
        return answer(200, { partyList: found === undefined ? [] : [found] })
      }
      if (call.method === 'POST') {
        this.parties.set(key, { fspId: call.body.fspId, ...(call.body.currency === undefined ? {} : { currency: call.body.currency }) })
        return answer(201)
      }
      if (call.method === 'DELETE') {
        this.parties.delete(key)
        return answer(204)
      }
      answer(405)
    })
  })

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  callsTo(oracle: string): OracleCall[] {
    return this.calls.filter((c) => c.url.startsWith(`/${oracle}/`))
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}

for (const kind of STORE_KINDS) {
  describe(`external oracles on ${kind.name}`, { skip: kind.skip }, () => {
    let opened: TestStore
    let hub: SwitchProcess
    const oracle = new FakeOracle()
    const payer = new FakeDfsp('orapayer')
    const payee = new FakeDfsp('orapayee')
    const tokens = new Map<string, string>()
    let unreachableUrl = ''

    /** The admin API as Mojaloop's ALS admin collections call it: FSPIOP content type and a Date. */
    const admin = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
      const response = await fetch(`${hub.adminUrl}${path}`, {
        method,
        headers: {
          accept: 'application/vnd.interoperability.participants+json;version=1',
          date: new Date().toUTCString(),
          ...(body === undefined ? {} : { 'content-type': 'application/vnd.interoperability.participants+json;version=1.0' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const text = await response.text()
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) }
    }

    const send = async (fsp: string, method: HttpMethod, resource: FspiopResource, path: string, body?: unknown, destination?: string): Promise<number> => {
      const headers = { ...buildFspiopHeaders({ resource, method, source: fsp, nowMs: Date.now(), ...(destination === undefined ? {} : { destination }) }), authorization: `Bearer ${tokens.get(fsp)}` }
      const response = await fetch(`${hub.fspiopUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
      await response.text()
      return response.status
    }

    const register = async (info: Record<string, unknown>): Promise<number> => {
      const answer = await admin('POST', '/oracles', info)
      assert.equal(answer.status, 201, JSON.stringify(answer.body))
      return answer.body.oracleId as number
    }

    const removeAll = async () => {
      for (const o of (await admin('GET', '/oracles')).body) assert.equal((await admin('DELETE', `/oracles/${o.oracleId}`)).status, 204)
    }

    /** The error callback `fsp` gets for `path`, and its code. */
    const errorCode = async (fsp: FakeDfsp, path: string): Promise<string> => (await fsp.next((r) => r.method === 'PUT' && r.path === `${path}/error`)).body.errorInformation.errorCode

    before(async () => {
      opened = await kind.open()
      await Promise.all([oracle.start(), payer.start(), payee.start()])
      const closed = createServer()
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
      unreachableUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/oracle`
      await new Promise<void>((resolve) => closed.close(() => resolve()))
      hub = await startSwitch({ store: opened.store, fspiopPort: 0, adminPort: 0, oracleTimeoutMs: 500, outbox: { pollIntervalMs: 50 } })
      for (const dfsp of [payer, payee]) {
        tokens.set(dfsp.name, await provisionParticipant(hub.adminUrl, { name: dfsp.name, currency: 'USD', fspiopUrl: dfsp.url, netDebitCap: '1000', liquidity: '1000' }))
      }
    })
    after(async () => {
      await hub?.close()
      await Promise.all([oracle.close(), payer.close(), payee.close()])
      await opened?.close()
    })
    beforeEach(async () => {
      await removeAll()
      oracle.behaviour.clear()
    })

    it('registers, lists, filters, changes and removes oracles in the shapes of the ALS admin API', async () => {
      const created = await admin('POST', '/oracles', { oracleIdType: 'MSISDN', endpoint: { value: `${oracle.url}/usd`, endpointType: 'URL' }, currency: 'USD', isDefault: true })
      assert.equal(created.status, 201)
      assert.deepEqual(created.body, { oracleId: created.body.oracleId, oracleIdType: 'MSISDN', endpoint: { value: `${oracle.url}/usd`, endpointType: 'URL' }, currency: 'USD', isDefault: true })
      const business = await register({ oracleIdType: 'BUSINESS', endpoint: { value: `${oracle.url}/business`, endpointType: 'URL' } })

      const all = await admin('GET', '/oracles')
      assert.equal(all.status, 200)
      assert.deepEqual(all.body, [created.body, { oracleId: business, oracleIdType: 'BUSINESS', endpoint: { value: `${oracle.url}/business`, endpointType: 'URL' }, isDefault: false }])
      assert.deepEqual((await admin('GET', '/oracles?type=MSISDN&currency=USD')).body, [created.body])
      assert.deepEqual((await admin('GET', '/oracles?currency=USD')).body, [created.body])
      assert.deepEqual((await admin('GET', '/oracles?type=BUSINESS')).body.map((o: { oracleId: number }) => o.oracleId), [business])
      assert.deepEqual((await admin('GET', '/oracles?type=ALIAS')).body, [])

      // PUT: type and endpoint required; currency and isDefault left out keep their values.
      const changed = await admin('PUT', `/oracles/${created.body.oracleId}`, { oracleIdType: 'MSISDN', endpoint: { value: `${oracle.url}/moved`, endpointType: 'URL' } })
      assert.equal(changed.status, 204)
      assert.deepEqual((await admin('GET', '/oracles?type=MSISDN')).body, [{ ...created.body, endpoint: { value: `${oracle.url}/moved`, endpointType: 'URL' } }])
      assert.equal((await admin('PUT', `/oracles/${created.body.oracleId}`, { oracleIdType: 'MSISDN', endpoint: { value: `${oracle.url}/moved`, endpointType: 'URL' }, isDefault: false })).status, 204)
      assert.equal((await admin('GET', '/oracles?type=MSISDN')).body[0].isDefault, false)

      assert.equal((await admin('DELETE', `/oracles/${business}`)).status, 204)
      assert.equal((await admin('DELETE', `/oracles/${business}`)).status, 204, 'removing an unknown id is not an error, as in ALS')
      assert.deepEqual((await admin('GET', '/oracles')).body.map((o: { oracleId: number }) => o.oracleId), [created.body.oracleId])
    })

    it('documents the oracle routes in the admin OpenAPI', async () => {
      const spec = (await admin('GET', '/documentation/json')).body
      assert.deepEqual(Object.keys(spec.paths['/oracles']).sort(), ['get', 'post'])
      assert.deepEqual(Object.keys(spec.paths['/oracles/{id}']).sort(), ['delete', 'put'])
      assert.match(spec.paths['/oracles'].post.summary, /Registers an external oracle/)
      assert.deepEqual(spec.paths['/oracles'].post.requestBody.content['application/json'].schema.required, ['oracleIdType', 'endpoint'])
    })

    it('refuses a second oracle for the same type and currency with 2001, as the hub setup expects', async () => {
      const info = { oracleIdType: 'MSISDN', endpoint: { value: `${oracle.url}/usd`, endpointType: 'URL' }, currency: 'USD', isDefault: true }
      const first = await register(info)
      const again = await admin('POST', '/oracles', { ...info, endpoint: { value: `${oracle.url}/other`, endpointType: 'URL' } })
      assert.equal(again.status, 500)
      assert.equal(again.body.errorInformation.errorCode, '2001')
      assert.match(again.body.errorInformation.errorDescription, /already exists/)
      // Another currency, or none, is another oracle; moving one onto an existing pair is refused the same way.
      await register({ ...info, currency: 'TZS' })
      const general = await register({ oracleIdType: 'MSISDN', endpoint: { value: `${oracle.url}/default`, endpointType: 'URL' } })
      const clash = await admin('PUT', `/oracles/${general}`, info)
      assert.equal(clash.body.errorInformation.errorCode, '2001')
      assert.equal((await admin('GET', '/oracles?type=MSISDN')).body.length, 3)
      // Two at once: one is registered, the other refused the same way.
      const alias = { oracleIdType: 'ALIAS', endpoint: { value: `${oracle.url}/alias`, endpointType: 'URL' } }
      const raced = await Promise.all([admin('POST', '/oracles', alias), admin('POST', '/oracles', alias)])
      assert.deepEqual(raced.map((r) => r.status).sort(), [201, 500])
      assert.equal(raced.find((r) => r.status === 500)?.body.errorInformation.errorCode, '2001')
      assert.equal((await admin('GET', '/oracles?type=MSISDN&currency=USD')).body[0].oracleId, first)
    })

    it('answers bad input with a clear error and stores nothing', async () => {
      const good = { oracleIdType: 'MSISDN', endpoint: { value: `${oracle.url}/usd`, endpointType: 'URL' } }
      const refusals: [unknown, RegExp][] = [
        [{ ...good, oracleIdType: 'PHONE' }, /oracleIdType must be equal to one of the allowed values/],
        [{ ...good, endpoint: { value: `${oracle.url}/usd`, endpointType: 'EMAIL' } }, /endpointType must be equal to one of the allowed values/],
        [{ oracleIdType: 'MSISDN' }, /must have required property 'endpoint'/],
        [{ ...good, endpoint: { value: 'als-oracle/oracle', endpointType: 'URL' } }, /endpoint.value must be an http or https URL/],
        [{ ...good, endpoint: { value: 'ftp://oracle.example/oracle', endpointType: 'URL' } }, /endpoint.value must be an http or https URL/],
        [{ ...good, currency: 'usd' }, /currency must match pattern/],
        [{ ...good, currency: 'ABC' }, /currency ABC is not an ISO 4217 currency code/],
      ]
      for (const [body, reason] of refusals) {
        const answer = await admin('POST', '/oracles', body)
        assert.equal(answer.status, 400, JSON.stringify(body))
        assert.match(answer.body.errorInformation.errorCode, /^31\d\d$/)
        assert.match(answer.body.errorInformation.errorDescription, reason)
      }
      const malformed = await fetch(`${hub.adminUrl}/oracles`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"oracleIdType":' })
      assert.equal(malformed.status, 400)
      assert.equal((await admin('GET', '/oracles?type=PHONE')).status, 400)
      assert.equal((await admin('PUT', '/oracles/abc', good)).status, 400)
      assert.equal((await admin('DELETE', '/oracles/0')).status, 400)
      const unknown = await admin('PUT', '/oracles/999999', good)
      assert.equal(unknown.status, 400)
      assert.deepEqual(unknown.body.errorInformation, { errorCode: '3003', errorDescription: 'Add Party information error - Oracle not found' })
      assert.deepEqual((await admin('GET', '/oracles')).body, [])
    })

    it('routes GET /parties through the oracle registered for the type, not the built-in table', async () => {
      // The built-in table says the payer owns the number; the oracle says the payee does, and wins.
      assert.equal(await send(payer.name, 'POST', 'participants', '/participants/MSISDN/256711000001', { fspId: payer.name, currency: 'USD' }), 202)
      await payer.next((r) => r.method === 'PUT' && r.path === '/participants/MSISDN/256711000001')
      await register({ oracleIdType: 'MSISDN', endpoint: { value: `${oracle.url}/default`, endpointType: 'URL' }, isDefault: true })
      oracle.parties.set('default/MSISDN/256711000001', { fspId: payee.name, currency: 'USD' })

      const before = oracle.calls.length
      assert.equal(await send(payer.name, 'GET', 'parties', '/parties/MSISDN/256711000001'), 202)
      const forwarded = await payee.next((r) => r.method === 'GET' && r.path === '/parties/MSISDN/256711000001')
      assert.equal(forwarded.headers['fspiop-source'], payer.name)
      assert.equal(forwarded.headers['fspiop-destination'], payee.name)
      const asked = oracle.calls.slice(before)
      assert.equal(asked.length, 1)
      assert.equal(asked[0]?.method, 'GET')
      assert.equal(asked[0]?.url, '/default/participants/MSISDN/256711000001')
      assert.equal(asked[0]?.headers['fspiop-source'], payer.name)
      assert.match(String(asked[0]?.headers['content-type']), /^application\/vnd\.interoperability\.participants\+json/)

      // With a sub-id, the oracle is asked with partySubIdOrType, as ALS does.
      oracle.parties.set('default/MSISDN/256711000002', { fspId: payee.name })
      assert.equal(await send(payer.name, 'GET', 'parties', '/parties/MSISDN/256711000002/wallet'), 202)
      await payee.next((r) => r.method === 'GET' && r.path === '/parties/MSISDN/256711000002/wallet')
      assert.equal(oracle.calls.at(-1)?.url, '/default/participants/MSISDN/256711000002?partySubIdOrType=wallet')
    })

    it('registers, finds and removes parties with /participants through the oracle', async () => {
      await register({ oracleIdType: 'MSISDN', endpoint: { value: `${oracle.url}/usd`, endpointType: 'URL' }, currency: 'USD', isDefault: true })
      assert.equal(await send(payee.name, 'POST', 'participants', '/participants/MSISDN/256711000010', { fspId: payee.name, currency: 'USD' }), 202)
      const registered = await payee.next((r) => r.method === 'PUT' && r.path === '/participants/MSISDN/256711000010')
      assert.deepEqual(registered.body, { fspId: payee.name, currency: 'USD' })
      const post = oracle.callsTo('usd').find((c) => c.method === 'POST')
      assert.equal(post?.url, '/usd/participants/MSISDN/256711000010')
      assert.deepEqual(post?.body, { fspId: payee.name, currency: 'USD' })

      assert.equal(await send(payer.name, 'GET', 'participants', '/participants/MSISDN/256711000010?currency=USD'), 202)
      const found = await payer.next((r) => r.method === 'PUT' && r.path === '/participants/MSISDN/256711000010')
      assert.deepEqual(found.body, { fspId: payee.name })
      assert.equal(oracle.calls.at(-1)?.url, '/usd/participants/MSISDN/256711000010?currency=USD')

      // Another FSP may not register or remove the payee's party; the oracle is not asked to.
      assert.equal(await send(payer.name, 'POST', 'participants', '/participants/MSISDN/256711000010', { fspId: payee.name, currency: 'USD' }), 202)
      assert.equal(await errorCode(payer, '/participants/MSISDN/256711000010'), '4300')
      assert.equal(await send(payer.name, 'DELETE', 'participants', '/participants/MSISDN/256711000010?currency=USD'), 202)
      assert.equal(await errorCode(payer, '/participants/MSISDN/256711000010'), '4300')
      assert.equal(oracle.callsTo('usd').filter((c) => c.method === 'DELETE').length, 0)

      assert.equal(await send(payee.name, 'DELETE', 'participants', '/participants/MSISDN/256711000010?currency=USD'), 202)
      const removed = await payee.next((r) => r.method === 'PUT' && r.path === '/participants/MSISDN/256711000010')
      assert.deepEqual(removed.body, {})
      assert.equal(oracle.callsTo('usd').filter((c) => c.method === 'DELETE').at(-1)?.url, '/usd/participants/MSISDN/256711000010?currency=USD')
      assert.equal(oracle.parties.has('usd/MSISDN/256711000010'), false)

      // Gone from the oracle: a look-up is now 3204.
      assert.equal(await send(payer.name, 'GET', 'participants', '/participants/MSISDN/256711000010'), 202)
      assert.equal(await errorCode(payer, '/participants/MSISDN/256711000010'), '3204')
    })

    it("prefers the currency's own oracle, then the type's default", async () => {
      await register({ oracleIdType: 'MSISDN', endpoint: { value: `${oracle.url}/usd`, endpointType: 'URL' }, currency: 'USD' })
      await register({ oracleIdType: 'MSISDN', endpoint: { value: `${oracle.url}/default`, endpointType: 'URL' }, isDefault: true })
      oracle.parties.set('usd/MSISDN/256711000020', { fspId: payee.name, currency: 'USD' })
      oracle.parties.set('default/MSISDN/256711000020', { fspId: payer.name })

      assert.equal(await send(payer.name, 'GET', 'participants', '/participants/MSISDN/256711000020?currency=USD'), 202)
      assert.equal((await payer.next((r) => r.method === 'PUT' && r.path === '/participants/MSISDN/256711000020')).body.fspId, payee.name)
      assert.equal(await send(payer.name, 'GET', 'participants', '/participants/MSISDN/256711000020?currency=TZS'), 202)
      assert.equal((await payer.next((r) => r.method === 'PUT' && r.path === '/participants/MSISDN/256711000020')).body.fspId, payer.name)
      // GET /parties names no currency: the default answers.
      assert.equal(await send(payee.name, 'GET', 'parties', '/parties/MSISDN/256711000020'), 202)
      await payer.next((r) => r.method === 'GET' && r.path === '/parties/MSISDN/256711000020')
      assert.equal(oracle.calls.at(-1)?.url, '/default/participants/MSISDN/256711000020')
    })

    it('uses the built-in table for types without an oracle, and again once the oracle is removed', async () => {
      const id = await register({ oracleIdType: 'MSISDN', endpoint: { value: `${oracle.url}/default`, endpointType: 'URL' }, isDefault: true })
      const before = oracle.calls.length
      assert.equal(await send(payee.name, 'POST', 'participants', '/participants/ACCOUNT_ID/ACC-3001', { fspId: payee.name, currency: 'USD' }), 202)
      await payee.next((r) => r.method === 'PUT' && r.path === '/participants/ACCOUNT_ID/ACC-3001')
      assert.equal(await send(payer.name, 'GET', 'parties', '/parties/ACCOUNT_ID/ACC-3001'), 202)
      await payee.next((r) => r.method === 'GET' && r.path === '/parties/ACCOUNT_ID/ACC-3001')
      assert.equal(oracle.calls.length, before, 'the oracle is not asked about other types')

      assert.equal(await send(payee.name, 'POST', 'participants', '/participants/MSISDN/256711000030', { fspId: payee.name }), 202)
      await payee.next((r) => r.method === 'PUT' && r.path === '/participants/MSISDN/256711000030')
      assert.ok(oracle.parties.has('default/MSISDN/256711000030'))
      assert.equal((await admin('DELETE', `/oracles/${id}`)).status, 204)
      // Back on the built-in table, which never heard of that number.
      assert.equal(await send(payer.name, 'GET', 'parties', '/parties/MSISDN/256711000030'), 202)
      assert.equal(await errorCode(payer, '/parties/MSISDN/256711000030'), '3204')
      assert.equal(oracle.calls.length, before + 1)
    })

    it('splits a POST /participants batch between the oracle and the built-in table, in one answer', async () => {
      await register({ oracleIdType: 'MSISDN', endpoint: { value: `${oracle.url}/usd`, endpointType: 'URL' }, currency: 'USD' })
      oracle.refuse.add('256711000042')
      const requestId = randomUUID()
      const partyList = [
        { partyIdType: 'MSISDN', partyIdentifier: '256711000041' },
        { partyIdType: 'ACCOUNT_ID', partyIdentifier: 'ACC-4001' },
        { partyIdType: 'MSISDN', partyIdentifier: '256711000042' },
        { partyIdType: 'MSISDN', partyIdentifier: '256711000043', fspId: payer.name },
      ]
      assert.equal(await send(payee.name, 'POST', 'participants', '/participants', { requestId, partyList, currency: 'USD' }), 202)
      const answer = await payee.next((r) => r.method === 'PUT' && r.path === `/participants/${requestId}`)
      assert.deepEqual(
        answer.body.partyList.map((p: { partyId: { partyIdentifier: string; fspId?: string }; errorInformation?: { errorCode: string } }) => [p.partyId.partyIdentifier, p.partyId.fspId ?? p.errorInformation?.errorCode]),
        [
          ['256711000041', payee.name],
          ['ACC-4001', payee.name],
          ['256711000042', '3003'],
          ['256711000043', '4300'],
        ],
      )
      const batch = oracle.callsTo('usd').find((c) => c.url === '/usd/participants')
      assert.deepEqual(batch?.body, {
        requestId,
        partyList: [
          { partyIdType: 'MSISDN', partyIdentifier: '256711000041', fspId: payee.name },
          { partyIdType: 'MSISDN', partyIdentifier: '256711000042', fspId: payee.name },
        ],
        currency: 'USD',
      })
      assert.equal(await send(payer.name, 'GET', 'parties', '/parties/ACCOUNT_ID/ACC-4001'), 202)
      await payee.next((r) => r.method === 'GET' && r.path === '/parties/ACCOUNT_ID/ACC-4001')
    })

    it('finds the payee FSP of a quote that names none through the oracle', async () => {
      await register({ oracleIdType: 'MSISDN', endpoint: { value: `${oracle.url}/usd`, endpointType: 'URL' }, currency: 'USD' })
      oracle.parties.set('usd/MSISDN/256711000050', { fspId: payee.name, currency: 'USD' })
      const quote = {
        quoteId: randomUUID(),
        transactionId: randomUUID(),
        payee: { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: '256711000050' } },
        payer: { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: '256711000051', fspId: payer.name } },
        amountType: 'SEND',
        amount: { amount: '10', currency: 'USD' },
        transactionType: { scenario: 'TRANSFER', initiator: 'PAYER', initiatorType: 'CONSUMER' },
      }
      assert.equal(await send(payer.name, 'POST', 'quotes', '/quotes', quote), 202)
      const forwarded = await payee.next((r) => r.method === 'POST' && r.path === '/quotes' && r.body.quoteId === quote.quoteId)
      assert.equal(forwarded.headers['fspiop-destination'], payee.name)
      assert.equal(oracle.calls.at(-1)?.url, '/usd/participants/MSISDN/256711000050?currency=USD')

      const unknown = { ...quote, quoteId: randomUUID(), payee: { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: '256711000059' } } }
      assert.equal(await send(payer.name, 'POST', 'quotes', '/quotes', unknown), 202)
      assert.equal(await errorCode(payer, `/quotes/${unknown.quoteId}`), '3204')
    })

    const failures: [string, (id: string) => Promise<string>, string][] = [
      ['answers HTTP 500', async () => (oracle.behaviour.set('default', 500), `${oracle.url}/default`), '1001'],
      ['cannot be reached', async () => unreachableUrl, '1001'],
      ['does not answer in time', async () => (oracle.behaviour.set('default', 'silent'), `${oracle.url}/default`), '1001'],
      ['answers 400 (ALS: party not found)', async () => (oracle.behaviour.set('default', 400), `${oracle.url}/default`), '3204'],
      ['answers 404 (ALS: no destination FSP)', async () => (oracle.behaviour.set('default', 404), `${oracle.url}/default`), '3201'],
      ['knows no FSP for the party', async () => `${oracle.url}/default`, '3204'],
      [
        'names an FSP that is not a participant',
        async (id) => {
          oracle.parties.set(`default/MSISDN/${id}`, { fspId: 'nosuchfsp' })
          return `${oracle.url}/default`
        },
        '3201',
      ],
    ]
    for (const [name, arrange, code] of failures) {
      it(`answers ${code} when the oracle ${name}, to /parties and /participants alike`, async () => {
        const id = `2567119${String(failures.findIndex((f) => f[0] === name)).padStart(5, '0')}`
        await register({ oracleIdType: 'MSISDN', endpoint: { value: await arrange(id), endpointType: 'URL' }, isDefault: true })
        assert.equal(await send(payer.name, 'GET', 'parties', `/parties/MSISDN/${id}`), 202, 'answered at once, whatever the oracle does')
        assert.equal(await errorCode(payer, `/parties/MSISDN/${id}`), code)
        if (code === '3201' && name.startsWith('names')) return
        assert.equal(await send(payer.name, 'GET', 'participants', `/participants/MSISDN/${id}`), 202)
        assert.equal(await errorCode(payer, `/participants/MSISDN/${id}`), code)
        assert.equal(await send(payer.name, 'POST', 'participants', `/participants/MSISDN/${id}`, { fspId: payer.name }), 202)
        if (code === '3204' && name.startsWith('knows')) {
          // An oracle that knows nothing still takes registrations.
          await payer.next((r) => r.method === 'PUT' && r.path === `/participants/MSISDN/${id}`)
          return
        }
        assert.equal(await errorCode(payer, `/participants/MSISDN/${id}`), code)
      })
    }

    it('drain(), which close() runs before the outbox stops, waits for a look-up still waiting on the oracle', async () => {
      await register({ oracleIdType: 'MSISDN', endpoint: { value: `${oracle.url}/default`, endpointType: 'URL' }, isDefault: true })
      oracle.behaviour.set('default', 'silent')
      assert.equal(await send(payer.name, 'GET', 'participants', '/participants/MSISDN/256711000090'), 202)
      const started = Date.now()
      await hub.hub.drain()
      const waitedMs = Date.now() - started
      assert.ok(waitedMs >= 300 && waitedMs < 2_000, `waited for the oracle's 500 ms deadline: ${waitedMs} ms`)
      assert.equal(await errorCode(payer, '/participants/MSISDN/256711000090'), '1001')
    })
  })
}
