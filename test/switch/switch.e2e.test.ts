// SPDX-License-Identifier: Apache-2.0
/**
 * The switch end to end over real HTTP on loopback, with recording DFSP stand-ins: provisioning through the
 * admin API, look-up, quote, transfer with positions, and the error paths with their FSPIOP codes. Every
 * callback the switch sends is checked against the FSPIOP v1.1 schemas.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { buildFspiopHeaders, validateFspiopBody, type FspiopResource, type HttpMethod } from '../../src/fspiop/index.ts'
import { startSwitch, type SwitchProcess } from '../../src/http/switch/start-switch.ts'
import { FakeDfsp, endpointsFor, type Received } from '../support/fake-dfsp.ts'
import { STORE_KINDS, type TestStore } from '../support/stores.ts'

const ILP_PACKET = 'AYIBgQAAAAAAAASwNGxldmVsb25lLmRmc3AxLm1lci45T2RTOF81MDdqUUZERmZlakgyOVc4bXFmNEpLMHlGTFGCAUBQU0svMS4wCk5vbmNl'

function fulfilmentPair(): { fulfilment: string; condition: string } {
  const preimage = randomBytes(32)
  return { fulfilment: preimage.toString('base64url'), condition: createHash('sha256').update(preimage).digest('base64url') }
}

/** Asserts that a message the switch sent is valid FSPIOP v1.1, body and all. */
function assertFspiop(message: Received): void {
  if (message.method === 'PUT' || message.method === 'POST' || message.method === 'PATCH') {
    const check = validateFspiopBody(message.method as HttpMethod, message.path, message.body)
    assert.ok(check.ok, `${message.method} ${message.path} is valid FSPIOP: ${check.ok ? '' : check.error.message}`)
  }
  assert.match(String(message.headers['content-type']), /^application\/vnd\.interoperability\.[a-z]+\+json;version=1\.[01]$/i)
  assert.ok(message.headers.date !== undefined && message.headers['fspiop-source'] !== undefined)
}

for (const kind of STORE_KINDS) {
  describe(`switch end to end on ${kind.name}`, { skip: kind.skip }, () => {
    let opened: TestStore
    let hub: SwitchProcess
    const payer = new FakeDfsp('payerfsp')
    const payee = new FakeDfsp('payeefsp')
    const poor = new FakeDfsp('poorfsp')
    const tokens = new Map<string, string>()

    const admin = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
      const response = await fetch(`${hub.adminUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const text = await response.text()
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) }
    }

    const send = async (
      fsp: string,
      method: HttpMethod,
      resource: FspiopResource,
      path: string,
      body?: unknown,
      options: { destination?: string; token?: string; headers?: Record<string, string> } = {},
    ): Promise<{ status: number; body: any }> => {
      const headers: Record<string, string> = {
        ...buildFspiopHeaders({ resource, method, source: fsp, nowMs: Date.now(), ...(options.destination === undefined ? {} : { destination: options.destination }) }),
        authorization: `Bearer ${options.token ?? tokens.get(fsp) ?? 'none'}`,
        ...options.headers,
      }
      const response = await fetch(`${hub.fspiopUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) })
      const text = await response.text()
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) }
    }

    const positionOf = async (fsp: string): Promise<{ value: string; reservedValue: string }> => {
      const { body } = await admin('GET', `/participants/${fsp}/positions`)
      return body.find((p: { currency: string }) => p.currency === 'USD')
    }

    const prepareBody = (overrides: Record<string, unknown> = {}) => {
      const { fulfilment, condition } = fulfilmentPair()
      return {
        fulfilment,
        body: {
          transferId: randomUUID(),
          payerFsp: 'payerfsp',
          payeeFsp: 'payeefsp',
          amount: { amount: '100', currency: 'USD' },
          ilpPacket: ILP_PACKET,
          condition,
          expiration: new Date(Date.now() + 60_000).toISOString(),
          ...overrides,
        },
      }
    }

    /** Prepare, see it forwarded to the payee, and return what is needed to fulfil it. */
    const prepared = async (overrides: Record<string, unknown> = {}) => {
      const { fulfilment, body } = prepareBody(overrides)
      const accepted = await send(String(body.payerFsp), 'POST', 'transfers', '/transfers', body)
      assert.equal(accepted.status, 202)
      return { fulfilment, body }
    }

    before(async () => {
      opened = await kind.open()
      await Promise.all([payer.start(), payee.start(), poor.start()])
      hub = await startSwitch({
        store: opened.store,
        fspiopPort: 0,
        adminPort: 0,
        expirySweepMs: 100,
        // Short retries, so that an unreachable participant is given up on within the test.
        outbox: { pollIntervalMs: 50, attemptTimeoutMs: 2_000, retryPolicy: { attemptsMax: 3, ageMaxMs: 10_000, delayBaseMs: 50, delayMaxMs: 200 } },
      })
      for (const [dfsp, liquidity] of [
        [payer, '2000'],
        [payee, '2000'],
        [poor, '100'],
      ] as const) {
        assert.equal((await admin('POST', '/participants', { name: dfsp.name, currency: 'USD' })).status, 201)
        for (const endpoint of endpointsFor(dfsp.url)) assert.equal((await admin('POST', `/participants/${dfsp.name}/endpoints`, endpoint)).status, 201)
        assert.equal((await admin('POST', `/participants/${dfsp.name}/initialPositionAndLimits`, { currency: 'USD', limit: { type: 'NET_DEBIT_CAP', value: 1000 }, initialPosition: 0 })).status, 201)
        const fundsIn = await admin('POST', `/participants/${dfsp.name}/accounts/USD-SETTLEMENT`, {
          transferId: randomUUID(),
          externalReference: 'opening deposit',
          action: 'recordFundsIn',
          reason: 'opening deposit',
          amount: { amount: liquidity, currency: 'USD' },
        })
        assert.equal(fundsIn.status, 202)
        const credentials = await admin('POST', `/participants/${dfsp.name}/credentials`)
        assert.equal(credentials.status, 201)
        tokens.set(dfsp.name, credentials.body.token)
      }
    })

    after(async () => {
      await hub.close()
      await Promise.all([payer.close(), payee.close(), poor.close()])
      await opened.close()
    })

    it('registers a party in the oracle and routes a look-up to its FSP and back', async () => {
      assert.equal((await send('payeefsp', 'POST', 'participants', '/participants/MSISDN/256700000001', { fspId: 'payeefsp', currency: 'USD' })).status, 202)
      const registered = await payee.next((r) => r.method === 'PUT' && r.path === '/participants/MSISDN/256700000001')
      assertFspiop(registered)
      assert.deepEqual(registered.body, { fspId: 'payeefsp', currency: 'USD' })

      assert.equal((await send('payerfsp', 'GET', 'parties', '/parties/MSISDN/256700000001')).status, 202)
      const forwarded = await payee.next((r) => r.method === 'GET' && r.path === '/parties/MSISDN/256700000001')
      assert.equal(forwarded.headers['fspiop-source'], 'payerfsp')
      assert.equal(forwarded.headers['fspiop-destination'], 'payeefsp')

      const party = { party: { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: '256700000001', fspId: 'payeefsp' }, name: 'Amina Okello' } }
      const putParty = await send('payeefsp', 'PUT', 'parties', '/parties/MSISDN/256700000001', party, { destination: 'payerfsp' })
      assert.equal(putParty.status, 200, JSON.stringify(putParty.body))
      const relayed = await payer.next((r) => r.method === 'PUT' && r.path === '/parties/MSISDN/256700000001')
      assertFspiop(relayed)
      assert.deepEqual(relayed.body, party)
      assert.equal(relayed.headers['fspiop-source'], 'payeefsp')
    })

    it('answers an unknown party with 3204', async () => {
      await send('payerfsp', 'GET', 'parties', '/parties/MSISDN/999999999')
      const error = await payer.next((r) => r.path === '/parties/MSISDN/999999999/error')
      assertFspiop(error)
      assert.equal(error.body.errorInformation.errorCode, '3204')
    })

    it('routes a quote and its answer, and answers a modified resend with 3106', async () => {
      const quote = {
        quoteId: randomUUID(),
        transactionId: randomUUID(),
        payee: { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: '256700000001', fspId: 'payeefsp' } },
        payer: { partyIdInfo: { partyIdType: 'MSISDN', partyIdentifier: '256700000002', fspId: 'payerfsp' } },
        amountType: 'SEND',
        amount: { amount: '100', currency: 'USD' },
        transactionType: { scenario: 'TRANSFER', initiator: 'PAYER', initiatorType: 'CONSUMER' },
      }
      assert.equal((await send('payerfsp', 'POST', 'quotes', '/quotes', quote, { destination: 'payeefsp' })).status, 202)
      const forwarded = await payee.next((r) => r.method === 'POST' && r.path === '/quotes' && r.body.quoteId === quote.quoteId)
      assert.deepEqual(forwarded.body, quote)

      const { condition } = fulfilmentPair()
      const answer = { transferAmount: { amount: '100', currency: 'USD' }, expiration: new Date(Date.now() + 60_000).toISOString(), ilpPacket: ILP_PACKET, condition }
      assert.equal((await send('payeefsp', 'PUT', 'quotes', `/quotes/${quote.quoteId}`, answer, { destination: 'payerfsp' })).status, 200)
      const relayed = await payer.next((r) => r.method === 'PUT' && r.path === `/quotes/${quote.quoteId}`)
      assertFspiop(relayed)
      assert.deepEqual(relayed.body, answer)

      await send('payerfsp', 'POST', 'quotes', '/quotes', { ...quote, amount: { amount: '101', currency: 'USD' } }, { destination: 'payeefsp' })
      const modified = await payer.next((r) => r.path === `/quotes/${quote.quoteId}/error`)
      assert.equal(modified.body.errorInformation.errorCode, '3106')

      // The same request again gets the stored answer again.
      await send('payerfsp', 'POST', 'quotes', '/quotes', quote, { destination: 'payeefsp' })
      const again = await payer.next((r) => r.method === 'PUT' && r.path === `/quotes/${quote.quoteId}`)
      assert.deepEqual(again.body, answer)
    })

    it('reserves, forwards, commits on a valid fulfilment and moves both positions', async () => {
      const before = { payer: await positionOf('payerfsp'), payee: await positionOf('payeefsp') }
      const { fulfilment, body } = await prepared()
      const forwarded = await payee.next((r) => r.method === 'POST' && r.path === '/transfers' && r.body.transferId === body.transferId)
      assertFspiop(forwarded)
      assert.deepEqual(forwarded.body, body)
      assert.equal((await positionOf('payerfsp')).reservedValue, '100')

      const completedTimestamp = new Date().toISOString()
      const fulfil = { fulfilment, completedTimestamp, transferState: 'COMMITTED' }
      assert.equal((await send('payeefsp', 'PUT', 'transfers', `/transfers/${body.transferId}`, fulfil, { destination: 'payerfsp' })).status, 200)
      const committed = await payer.next((r) => r.method === 'PUT' && r.path === `/transfers/${body.transferId}`)
      assertFspiop(committed)
      assert.deepEqual(committed.body, fulfil)

      const after = { payer: await positionOf('payerfsp'), payee: await positionOf('payeefsp') }
      assert.equal(BigInt(after.payer.value) - BigInt(before.payer.value), 100n)
      assert.equal(BigInt(after.payee.value) - BigInt(before.payee.value), -100n)
      assert.equal(after.payer.reservedValue, '0')

      const detail = await admin('GET', `/transfers/${body.transferId}`)
      assert.equal(detail.body.state, 'COMMITTED')
      assert.deepEqual(detail.body.history.map((h: { to: string }) => h.to), ['RESERVED', 'COMMITTED'])
    })

    it('sends the payee a PATCH when it answered RESERVED', async () => {
      const { fulfilment, body } = await prepared()
      await payee.next((r) => r.method === 'POST' && r.body?.transferId === body.transferId)
      await send('payeefsp', 'PUT', 'transfers', `/transfers/${body.transferId}`, { fulfilment, completedTimestamp: new Date().toISOString(), transferState: 'RESERVED' }, { destination: 'payerfsp' })
      const committed = await payer.next((r) => r.method === 'PUT' && r.path === `/transfers/${body.transferId}`)
      assert.equal(committed.body.transferState, 'COMMITTED')
      assert.equal(committed.body.fulfilment, fulfilment)
      const patch = await payee.next((r) => r.method === 'PATCH' && r.path === `/transfers/${body.transferId}`)
      assertFspiop(patch)
      assert.equal(patch.body.transferState, 'COMMITTED')
    })

    it('re-sends the outcome for a plain duplicate prepare and answers 3106 for a modified one', async () => {
      const { fulfilment, body } = await prepared()
      await payee.next((r) => r.method === 'POST' && r.body?.transferId === body.transferId)
      await send('payeefsp', 'PUT', 'transfers', `/transfers/${body.transferId}`, { fulfilment, completedTimestamp: new Date().toISOString(), transferState: 'COMMITTED' }, { destination: 'payerfsp' })
      await payer.next((r) => r.method === 'PUT' && r.path === `/transfers/${body.transferId}`)
      const positionBefore = await positionOf('payerfsp')

      await send('payerfsp', 'POST', 'transfers', '/transfers', body)
      const resent = await payer.next((r) => r.method === 'PUT' && r.path === `/transfers/${body.transferId}`)
      assert.equal(resent.body.transferState, 'COMMITTED')
      assert.equal(resent.body.fulfilment, fulfilment)
      assert.deepEqual(await positionOf('payerfsp'), positionBefore, 'a resend moves no money')

      await send('payerfsp', 'POST', 'transfers', '/transfers', { ...body, amount: { amount: '99', currency: 'USD' } })
      const modified = await payer.next((r) => r.path === `/transfers/${body.transferId}/error`)
      assert.equal(modified.body.errorInformation.errorCode, '3106')
    })

    it('aborts on an invalid fulfilment: 3100 to both, reservation released', async () => {
      const { body } = await prepared()
      await payee.next((r) => r.method === 'POST' && r.body?.transferId === body.transferId)
      const wrong = fulfilmentPair().fulfilment
      await send('payeefsp', 'PUT', 'transfers', `/transfers/${body.transferId}`, { fulfilment: wrong, completedTimestamp: new Date().toISOString(), transferState: 'COMMITTED' }, { destination: 'payerfsp' })
      const toPayer = await payer.next((r) => r.path === `/transfers/${body.transferId}/error`)
      const toPayee = await payee.next((r) => r.path === `/transfers/${body.transferId}/error`)
      assertFspiop(toPayer)
      assert.equal(toPayer.body.errorInformation.errorCode, '3100')
      assert.equal(toPayee.body.errorInformation.errorCode, '3100')
      assert.equal((await positionOf('payerfsp')).reservedValue, '0')
      assert.equal((await admin('GET', `/transfers/${body.transferId}`)).body.state, 'ABORTED')
    })

    it('relays a payee error to the payer and releases the reservation', async () => {
      const { body } = await prepared()
      await payee.next((r) => r.method === 'POST' && r.body?.transferId === body.transferId)
      const error = { errorInformation: { errorCode: '5105', errorDescription: 'Payee FSP rejected transaction' } }
      assert.equal((await send('payeefsp', 'PUT', 'transfers', `/transfers/${body.transferId}/error`, error, { destination: 'payerfsp' })).status, 200)
      const relayed = await payer.next((r) => r.path === `/transfers/${body.transferId}/error`)
      assert.deepEqual(relayed.body, error)
      assert.equal((await positionOf('payerfsp')).reservedValue, '0')
    })

    it('refuses with 4001 when liquidity does not cover the amount, and 4200 past the net debit cap', async () => {
      const { body: poorBody } = prepareBody({ payerFsp: 'poorfsp', amount: { amount: '150', currency: 'USD' } })
      await send('poorfsp', 'POST', 'transfers', '/transfers', poorBody)
      const liquidity = await poor.next((r) => r.path === `/transfers/${poorBody.transferId}/error`)
      assert.equal(liquidity.body.errorInformation.errorCode, '4001')

      const { body: bigBody } = prepareBody({ amount: { amount: '1500', currency: 'USD' } })
      await send('payerfsp', 'POST', 'transfers', '/transfers', bigBody)
      const limit = await payer.next((r) => r.path === `/transfers/${bigBody.transferId}/error`)
      assertFspiop(limit)
      assert.equal(limit.body.errorInformation.errorCode, '4200')
      assert.equal(payee.received.some((r) => r.body?.transferId === bigBody.transferId), false, 'the payee never sees a refused prepare')
    })

    it('expires an unanswered transfer: 3303 to payer and payee, reservation released', async () => {
      const { body } = await prepared({ expiration: new Date(Date.now() + 700).toISOString() })
      await payee.next((r) => r.method === 'POST' && r.body?.transferId === body.transferId)
      const toPayer = await payer.next((r) => r.path === `/transfers/${body.transferId}/error`, 15_000)
      const toPayee = await payee.next((r) => r.path === `/transfers/${body.transferId}/error`, 15_000)
      assert.equal(toPayer.body.errorInformation.errorCode, '3303')
      assert.equal(toPayee.body.errorInformation.errorCode, '3303')
      assert.equal((await positionOf('payerfsp')).reservedValue, '0')
    })

    it('answers GET /transfers for an unknown id with 3208', async () => {
      const id = randomUUID()
      assert.equal((await send('payerfsp', 'GET', 'transfers', `/transfers/${id}`)).status, 202)
      const error = await payer.next((r) => r.path === `/transfers/${id}/error`)
      assert.equal(error.body.errorInformation.errorCode, '3208')
    })

    it('rejects a spoofed FSPIOP-Source and a missing token', async () => {
      const { body } = prepareBody()
      const spoofed = await send('payerfsp', 'POST', 'transfers', '/transfers', body, { token: tokens.get('payeefsp') as string })
      assert.equal(spoofed.status, 403)
      assert.equal(spoofed.body.errorInformation.errorCode, '4300')
      const anonymous = await send('payerfsp', 'POST', 'transfers', '/transfers', body, { token: 'not-a-token' })
      assert.equal(anonymous.status, 403)
    })

    it('answers header and schema faults synchronously: 3102, 3001, 3101, 3100', async () => {
      const { body } = prepareBody()
      const noDate = await send('payerfsp', 'POST', 'transfers', '/transfers', body, { headers: { date: '' } })
      assert.equal(noDate.status, 400)
      assert.equal(noDate.body.errorInformation.errorCode, '3102')
      const version = await send('payerfsp', 'POST', 'transfers', '/transfers', body, { headers: { 'content-type': 'application/vnd.interoperability.transfers+json;version=9.0' } })
      assert.equal(version.status, 406)
      assert.equal(version.body.errorInformation.errorCode, '3001')
      const malformed = await send('payerfsp', 'POST', 'transfers', '/transfers', '{"transferId": ')
      assert.equal(malformed.status, 400)
      assert.equal(malformed.body.errorInformation.errorCode, '3101')
      const missing = await send('payerfsp', 'POST', 'transfers', '/transfers', { ...body, condition: undefined })
      assert.equal(missing.status, 400)
      assert.equal(missing.body.errorInformation.errorCode, '3102')
      const badAmount = await send('payerfsp', 'POST', 'transfers', '/transfers', { ...body, amount: { amount: '5.50', currency: 'USD' } })
      assert.equal(badAmount.status, 400)
      assert.equal(badAmount.body.errorInformation.errorCode, '3101')
      const unknown = await send('payerfsp', 'GET', 'transfers', '/nothing/here')
      assert.equal(unknown.status, 404)
      assert.equal(unknown.body.errorInformation.errorCode, '3002')
    })

    it('exposes Prometheus metrics on the admin port: requests, callbacks, positions', async () => {
      const response = await fetch(`${hub.adminUrl}/metrics`)
      assert.equal(response.status, 200)
      const text = await response.text()
      assert.match(text, /kivuko_fspiop_requests_total\{route="\/transfers",method="POST",status="202"\} \d+/)
      assert.match(text, /kivuko_callbacks_delivered_total\{destination="payerfsp"\} \d+/)
      assert.match(text, /kivuko_participant_position\{participant="payerfsp",currency="USD"\} \d+/)
      assert.match(text, /kivuko_ledger_batch_events_count \d+/)
    })

    it('closes the settlement window, nets to zero, and settling returns positions to zero', async () => {
      const open = await admin('GET', '/settlementWindows?state=OPEN')
      assert.equal(open.status, 200)
      assert.equal(open.body.length, 1)
      const windowId = open.body[0].id
      const closed = await admin('POST', `/settlementWindows/${windowId}`, { state: 'CLOSED', reason: 'end of day' })
      assert.equal(closed.status, 200, JSON.stringify(closed.body))
      assert.equal((await admin('GET', `/settlementWindows/${windowId}`)).body.state, 'CLOSED')

      const created = await admin('POST', '/settlements', { settlementModel: 'DEFERREDNET', reason: 'end of day', settlementWindows: [{ id: windowId }] })
      assert.ok(created.status === 200 || created.status === 201, JSON.stringify(created.body))
      const nets = created.body.participants.flatMap((p: { accounts: { net: string }[] }) => p.accounts.map((a) => BigInt(a.net.replace('.', ''))))
      assert.ok(nets.length >= 2)
      assert.equal(nets.reduce((a: bigint, b: bigint) => a + b, 0n), 0n, 'nets sum to zero')

      const settled = await admin('PUT', `/settlements/${created.body.id}`, { state: 'SETTLED', reason: 'paid at the settlement bank' })
      assert.equal(settled.status, 200, JSON.stringify(settled.body))
      assert.equal((await positionOf('payerfsp')).value, '0')
      assert.equal((await positionOf('payeefsp')).value, '0')
      assert.equal((await admin('GET', `/settlementWindows/${windowId}`)).body.state, 'SETTLED')
      const csv = await fetch(`${hub.adminUrl}/settlements/${created.body.id}/report.csv`)
      assert.equal(csv.status, 200)
      assert.match(await csv.text(), /payerfsp/)
    })

    it('answers 3201 when the destination has no endpoint', async () => {
      assert.equal((await admin('POST', '/participants', { name: 'silentfsp', currency: 'USD' })).status, 201)
      await send('payerfsp', 'GET', 'parties', '/parties/MSISDN/256700000009', undefined, { destination: 'silentfsp' })
      const error = await payer.next((r) => r.path === '/parties/MSISDN/256700000009/error')
      assert.equal(error.body.errorInformation.errorCode, '3201')
    })

    it('tells the sender 1001 when the destination stays unreachable', async () => {
      assert.equal((await admin('POST', '/participants', { name: 'deadfsp', currency: 'USD' })).status, 201)
      // A port nothing listens on: every attempt is refused.
      for (const endpoint of endpointsFor('http://127.0.0.1:9')) await admin('POST', '/participants/deadfsp/endpoints', endpoint)
      assert.equal((await send('payerfsp', 'GET', 'parties', '/parties/MSISDN/256700000077', undefined, { destination: 'deadfsp' })).status, 202)
      const error = await payer.next((r) => r.path === '/parties/MSISDN/256700000077/error', 15_000)
      assertFspiop(error)
      assert.equal(error.body.errorInformation.errorCode, '1001')
    })

    it('relays a payee-initiated request, the OTP authorization and its answer, query string and all', async () => {
      const transactionRequestId = randomUUID()
      const request = {
        transactionRequestId,
        payee: { partyIdInfo: { partyIdType: 'DEVICE', partyIdentifier: 'ATM00001', fspId: 'payeefsp' } },
        payer: { partyIdType: 'MSISDN', partyIdentifier: '256700000002', fspId: 'payerfsp' },
        amount: { amount: '100', currency: 'USD' },
        transactionType: { scenario: 'WITHDRAWAL', initiator: 'PAYEE', initiatorType: 'DEVICE' },
        authenticationType: 'OTP',
      }
      assert.equal((await send('payeefsp', 'POST', 'transactionRequests', '/transactionRequests', request, { destination: 'payerfsp' })).status, 202)
      const forwarded = await payer.next((r) => r.method === 'POST' && r.path === '/transactionRequests')
      assertFspiop(forwarded)
      assert.deepEqual(forwarded.body, request)

      const received = { transactionRequestState: 'RECEIVED' }
      assert.equal((await send('payerfsp', 'PUT', 'transactionRequests', `/transactionRequests/${transactionRequestId}`, received, { destination: 'payeefsp' })).status, 200)
      assert.deepEqual((await payee.next((r) => r.path === `/transactionRequests/${transactionRequestId}`)).body, received)

      const query = 'authenticationType=OTP&retriesLeft=3&amount=102&currency=USD'
      assert.equal((await send('payerfsp', 'GET', 'authorizations', `/authorizations/${transactionRequestId}?${query}`, undefined, { destination: 'payeefsp' })).status, 202)
      const asked = await payee.next((r) => r.method === 'GET' && r.path.startsWith(`/authorizations/${transactionRequestId}`))
      assert.equal(asked.path, `/authorizations/${transactionRequestId}?${query}`)

      const entered = { authenticationInfo: { authentication: 'OTP', authenticationValue: '123456' }, responseType: 'ENTERED' }
      assert.equal((await send('payeefsp', 'PUT', 'authorizations', `/authorizations/${transactionRequestId}`, entered, { destination: 'payerfsp' })).status, 200)
      assert.deepEqual((await payer.next((r) => r.method === 'PUT' && r.path === `/authorizations/${transactionRequestId}`)).body, entered)

      const noAmount = await send('payerfsp', 'GET', 'authorizations', `/authorizations/${transactionRequestId}?authenticationType=OTP&retriesLeft=3&currency=USD`, undefined, { destination: 'payeefsp' })
      assert.equal(noAmount.status, 400)
      assert.equal(noAmount.body.errorInformation.errorCode, '3102')

      await send('payeefsp', 'POST', 'transactionRequests', '/transactionRequests', { ...request, transactionRequestId: randomUUID() }, { destination: 'silentfsp' })
      const noEndpoint = await payee.next((r) => r.path.startsWith('/transactionRequests/') && r.path.endsWith('/error'))
      assert.equal(noEndpoint.body.errorInformation.errorCode, '3201')
    })

    it('sent nothing but valid FSPIOP v1.1: every request and callback the DFSPs received', async () => {
      const all = [...payer.received, ...payee.received, ...poor.received]
      assert.ok(all.length > 20, `a real sample: ${all.length} messages`)
      for (const message of all) assertFspiop(message)
    })
  })
}
