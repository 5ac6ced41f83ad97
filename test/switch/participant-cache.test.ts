// SPDX-License-Identifier: Apache-2.0
/**
 * The switch keeps participants, endpoints and tokens in memory (src/switch/participant-cache.ts). These
 * tests show that a change made through the admin API still takes effect: at once for the process that
 * made it, on both stores, and within the cache's bound for another switch process sharing PostgreSQL.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { buildFspiopHeaders, type FspiopResource, type HttpMethod } from '../../src/fspiop/index.ts'
import { startSwitch, type SwitchProcess } from '../../src/http/switch/start-switch.ts'
import { openStore, type Store } from '../../src/store/open-store.ts'
import { SHARED_PARTICIPANT_CACHE_TTL_MS } from '../../src/switch/switch.ts'
import { FakeDfsp, endpointsFor } from '../support/fake-dfsp.ts'
import { STORE_KINDS, type TestStore } from '../support/stores.ts'

const ILP_PACKET = 'AYIBgQAAAAAAAASwNGxldmVsb25lLmRmc3AxLm1lci45T2RTOF81MDdqUUZERmZlakgyOVc4bXFmNEpLMHlGTFGCAUBQU0svMS4wCk5vbmNl'

async function admin(hub: SwitchProcess, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${hub.adminUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) }
}

async function send(hub: SwitchProcess, token: string, fsp: string, method: HttpMethod, resource: FspiopResource, path: string, body: unknown, destination?: string): Promise<{ status: number; body: any }> {
  const headers = { ...buildFspiopHeaders({ resource, method, source: fsp, nowMs: Date.now(), ...(destination === undefined ? {} : { destination }) }), authorization: `Bearer ${token}` }
  const response = await fetch(`${hub.fspiopUrl}${path}`, { method, headers, body: JSON.stringify(body) })
  const text = await response.text()
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) }
}

async function provision(hub: SwitchProcess, dfsp: FakeDfsp): Promise<string> {
  assert.equal((await admin(hub, 'POST', '/participants', { name: dfsp.name, currency: 'USD' })).status, 201)
  for (const endpoint of endpointsFor(dfsp.url)) assert.equal((await admin(hub, 'POST', `/participants/${dfsp.name}/endpoints`, endpoint)).status, 201)
  assert.equal((await admin(hub, 'POST', `/participants/${dfsp.name}/initialPositionAndLimits`, { currency: 'USD', limit: { type: 'NET_DEBIT_CAP', value: 1000 }, initialPosition: 0 })).status, 201)
  const fundsIn = { transferId: randomUUID(), externalReference: 'opening', action: 'recordFundsIn', reason: 'opening', amount: { amount: '1000', currency: 'USD' } }
  assert.equal((await admin(hub, 'POST', `/participants/${dfsp.name}/accounts/USD-SETTLEMENT`, fundsIn)).status, 202)
  const credentials = await admin(hub, 'POST', `/participants/${dfsp.name}/credentials`)
  assert.equal(credentials.status, 201)
  return credentials.body.token as string
}

/** A prepare from payerfsp to payeefsp through `hub`: its id and fulfilment. */
async function prepare(hub: SwitchProcess, token: string): Promise<{ transferId: string; fulfilment: string }> {
  const preimage = randomBytes(32)
  const transferId = randomUUID()
  const body = {
    transferId,
    payerFsp: 'payerfsp',
    payeeFsp: 'payeefsp',
    amount: { amount: '1', currency: 'USD' },
    ilpPacket: ILP_PACKET,
    condition: createHash('sha256').update(preimage).digest('base64url'),
    expiration: new Date(Date.now() + 60_000).toISOString(),
  }
  assert.equal((await send(hub, token, 'payerfsp', 'POST', 'transfers', '/transfers', body, 'payeefsp')).status, 202)
  return { transferId, fulfilment: preimage.toString('base64url') }
}

/** A whole transfer through `hub`: prepared, seen by `payeeAt`, fulfilled, committed to the payer. */
async function transfer(hub: SwitchProcess, tokens: Map<string, string>, payer: FakeDfsp, payeeAt: FakeDfsp): Promise<void> {
  const { transferId, fulfilment } = await prepare(hub, tokens.get('payerfsp') as string)
  await payeeAt.next((r) => r.method === 'POST' && r.body?.transferId === transferId)
  const fulfil = { fulfilment, completedTimestamp: new Date().toISOString(), transferState: 'COMMITTED' }
  assert.equal((await send(hub, tokens.get('payeefsp') as string, 'payeefsp', 'PUT', 'transfers', `/transfers/${transferId}`, fulfil, 'payerfsp')).status, 200)
  const committed = await payer.next((r) => r.method === 'PUT' && r.path === `/transfers/${transferId}`)
  assert.equal(committed.body.transferState, 'COMMITTED')
}

/** The error callback the payer gets for a prepare that is refused. */
async function refusedPrepare(hub: SwitchProcess, token: string, payer: FakeDfsp): Promise<{ errorCode: string; errorDescription: string }> {
  const { transferId } = await prepare(hub, token)
  const error = await payer.next((r) => r.path === `/transfers/${transferId}/error`)
  return error.body.errorInformation
}

for (const kind of STORE_KINDS) {
  describe(`participant changes take effect at once on ${kind.name}`, { skip: kind.skip }, () => {
    let opened: TestStore
    let hub: SwitchProcess
    const payer = new FakeDfsp('payerfsp')
    const payee = new FakeDfsp('payeefsp')
    const elsewhere = new FakeDfsp('payeefsp-moved')
    const tokens = new Map<string, string>()

    before(async () => {
      opened = await kind.open()
      await Promise.all([payer.start(), payee.start(), elsewhere.start()])
      hub = await startSwitch({ store: opened.store, fspiopPort: 0, adminPort: 0 })
      for (const dfsp of [payer, payee]) tokens.set(dfsp.name, await provision(hub, dfsp))
      // Every message below reads participants, endpoints and tokens: this one fills the cache.
      await transfer(hub, tokens, payer, payee)
    })

    after(async () => {
      await hub.close()
      await Promise.all([payer.close(), payee.close(), elsewhere.close()])
      await opened.close()
    })

    it('refuses a deactivated payee with 3100 and serves it again once reactivated', async () => {
      assert.equal((await admin(hub, 'PUT', '/participants/payeefsp', { isActive: false })).status, 200)
      const refused = await refusedPrepare(hub, tokens.get('payerfsp') as string, payer)
      assert.equal(refused.errorCode, '3100')
      assert.match(refused.errorDescription, /payeefsp is inactive/)
      assert.equal((await admin(hub, 'PUT', '/participants/payeefsp', { isActive: true })).status, 200)
      await transfer(hub, tokens, payer, payee)
    })

    it('refuses a payer whose currency was deactivated, and serves it again once reactivated', async () => {
      assert.equal((await admin(hub, 'PUT', '/participants/payerfsp/accounts/USD-POSITION', { isActive: false })).status, 200)
      const refused = await refusedPrepare(hub, tokens.get('payerfsp') as string, payer)
      assert.equal(refused.errorCode, '3100')
      assert.match(refused.errorDescription, /payerfsp has no active USD/)
      assert.equal((await admin(hub, 'PUT', '/participants/payerfsp/accounts/USD-POSITION', { isActive: true })).status, 200)
      await transfer(hub, tokens, payer, payee)
    })

    it('sends the next message to an endpoint changed through the admin API', async () => {
      const moved = { type: 'FSPIOP_CALLBACK_URL_TRANSFER_POST', value: `${elsewhere.url}/transfers` }
      assert.equal((await admin(hub, 'POST', '/participants/payeefsp/endpoints', moved)).status, 201)
      await transfer(hub, tokens, payer, elsewhere)
      const back = { type: 'FSPIOP_CALLBACK_URL_TRANSFER_POST', value: `${payee.url}/transfers` }
      assert.equal((await admin(hub, 'POST', '/participants/payeefsp/endpoints', back)).status, 201)
      await transfer(hub, tokens, payer, payee)
    })

    it('refuses a replaced token at once and takes the new one', async () => {
      const old = tokens.get('payerfsp') as string
      const credentials = await admin(hub, 'POST', '/participants/payerfsp/credentials')
      assert.equal(credentials.status, 201)
      const refused = await send(hub, old, 'payerfsp', 'GET', 'transfers', `/transfers/${randomUUID()}`, undefined)
      assert.equal(refused.status, 403)
      assert.equal(refused.body.errorInformation.errorCode, '4300')
      tokens.set('payerfsp', credentials.body.token as string)
      await transfer(hub, tokens, payer, payee)
    })
  })
}

const postgres = STORE_KINDS.find((kind) => kind.name === 'postgres')
describe('participant changes reach another switch process on PostgreSQL within the cache bound', { skip: postgres === undefined ? 'no PostgreSQL store kind' : postgres.skip }, () => {
  let opened: TestStore
  let secondStore: Store
  let first: SwitchProcess
  let second: SwitchProcess
  const payer = new FakeDfsp('payerfsp')
  const payee = new FakeDfsp('payeefsp')
  const elsewhere = new FakeDfsp('payeefsp-moved')
  const tokens = new Map<string, string>()
  /** Past the bound, with room for a slow machine. */
  const afterBound = () => sleep(SHARED_PARTICIPANT_CACHE_TTL_MS + 250)

  before(async () => {
    opened = await (postgres as (typeof STORE_KINDS)[number]).open()
    secondStore = await openStore(opened.location)
    await Promise.all([payer.start(), payee.start(), elsewhere.start()])
    first = await startSwitch({ store: opened.store, fspiopPort: 0, adminPort: 0 })
    second = await startSwitch({ store: secondStore, fspiopPort: 0, adminPort: 0 })
    for (const dfsp of [payer, payee]) tokens.set(dfsp.name, await provision(first, dfsp))
    // The second process has read (and cached) the participants, endpoints and tokens.
    await transfer(second, tokens, payer, payee)
  })

  after(async () => {
    await second.close()
    await first.close()
    await secondStore.close()
    await Promise.all([payer.close(), payee.close(), elsewhere.close()])
    await opened.close()
  })

  it('a payee deactivated through one process is refused by the other', async () => {
    assert.equal((await admin(first, 'PUT', '/participants/payeefsp', { isActive: false })).status, 200)
    await afterBound()
    const refused = await refusedPrepare(second, tokens.get('payerfsp') as string, payer)
    assert.equal(refused.errorCode, '3100')
    assert.match(refused.errorDescription, /payeefsp is inactive/)
    assert.equal((await admin(first, 'PUT', '/participants/payeefsp', { isActive: true })).status, 200)
    await afterBound()
    await transfer(second, tokens, payer, payee)
  })

  it('an endpoint changed through one process is used by the other', async () => {
    const moved = { type: 'FSPIOP_CALLBACK_URL_TRANSFER_POST', value: `${elsewhere.url}/transfers` }
    assert.equal((await admin(first, 'POST', '/participants/payeefsp/endpoints', moved)).status, 201)
    await afterBound()
    await transfer(second, tokens, payer, elsewhere)
  })

  it('a token replaced through one process is refused by the other', async () => {
    const old = tokens.get('payerfsp') as string
    const credentials = await admin(first, 'POST', '/participants/payerfsp/credentials')
    assert.equal(credentials.status, 201)
    await afterBound()
    const refused = await send(second, old, 'payerfsp', 'GET', 'transfers', `/transfers/${randomUUID()}`, undefined)
    assert.equal(refused.status, 403)
    assert.equal(refused.body.errorInformation.errorCode, '4300')
  })
})
