// SPDX-License-Identifier: Apache-2.0
/**
 * Flow 1 end to end over real HTTP on loopback: the switch and two DFSPs built from the same code as the
 * demo, each on its own store, provisioned through the admin API. A P2P transfer commits, balances and
 * positions move by exactly the amount, the settlement window closes and nets to zero, and every ledger
 * passes `kivuko check`. On SQLite and on PostgreSQL.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { provisionParticipant, adminCall } from '../../src/cli/provision.ts'
import { DEMO_CUSTOMERS } from '../../src/dfsp/index.ts'
import { startDfsp, type DfspHandle } from '../../src/http/dfsp/index.ts'
import { startSwitch, type SwitchProcess } from '../../src/http/switch/start-switch.ts'
import { checkLedger } from '../../src/store/ledger/ledger-check.ts'
import { STORE_KINDS, type TestStore } from '../support/stores.ts'
import { pino } from 'pino'
import { freePort } from '../support/ports.ts'

for (const kind of STORE_KINDS) {
  describe(`P2P between two DFSPs through the switch on ${kind.name}`, { skip: kind.skip }, () => {
    const stores: TestStore[] = []
    let hub: SwitchProcess
    const dfsps = new Map<string, DfspHandle>()

    const api = async (dfsp: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
      const response = await fetch(`${dfsps.get(dfsp)?.urls.api}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      return { status: response.status, body: JSON.parse(await response.text()) }
    }
    const balance = async (dfsp: string, msisdn: string): Promise<string> => (await api(dfsp, 'GET', `/customers/${msisdn}/balance`)).body.available
    const position = async (fsp: string): Promise<string> => (await adminCall(hub.adminUrl, 'GET', `/participants/${fsp}/positions`)).body[0].value

    before(async () => {
      const switchStore = await kind.open()
      stores.push(switchStore)
      hub = await startSwitch({ store: switchStore.store, fspiopPort: 0, adminPort: 0, expirySweepMs: 100, outbox: { pollIntervalMs: 50 } })
      for (const id of ['bank', 'wallet'] as const) {
        const opened = await kind.open()
        stores.push(opened)
        const fspiopPort = await freePort()
        const token = await provisionParticipant(hub.adminUrl, { name: id, currency: 'USD', fspiopUrl: `http://127.0.0.1:${fspiopPort}`, netDebitCap: '5000', liquidity: '10000' })
        const handle = await startDfsp(
          { dfspId: id, currency: 'USD', switchUrl: hub.fspiopUrl, switchToken: token, ilpSecret: randomBytes(24).toString('base64url'), customers: DEMO_CUSTOMERS[id], listen: { fspiopPort } },
          opened.store,
          { logger: pino({ level: 'silent' }) },
        )
        dfsps.set(id, handle)
      }
    })

    after(async () => {
      for (const handle of dfsps.values()) await handle.close()
      await hub?.close()
      for (const opened of stores) await opened.close()
    })

    it('moves money from a bank customer to a wallet customer, exactly once', async () => {
      const before = { alice: await balance('bank', '256700000001'), carol: await balance('wallet', '256780000001') }
      assert.deepEqual(before, { alice: '1000.00', carol: '300.00' })
      const sent = await api('bank', 'POST', '/send', { from: { msisdn: '256700000001' }, to: { idType: 'MSISDN', idValue: '256780000001' }, amount: '25.5', currency: 'USD', amountType: 'SEND' })
      assert.equal(sent.status, 200, JSON.stringify(sent.body))
      assert.equal(sent.body.currentState, 'COMMITTED')
      assert.equal(sent.body.to.name, 'Carol Achieng')
      assert.equal(await balance('bank', '256700000001'), '974.50')
      assert.equal(await balance('wallet', '256780000001'), '325.50')
      assert.equal(await position('bank'), '25.5')
      assert.equal(await position('wallet'), '-25.5')
      const detail = await adminCall(hub.adminUrl, 'GET', `/transfers/${sent.body.transferId}`)
      assert.equal(detail.body.state, 'COMMITTED')
    })

    it('pays the other way, receiving an exact amount', async () => {
      const sent = await api('wallet', 'POST', '/send', { from: { msisdn: '256780000002' }, to: { idType: 'MSISDN', idValue: '256700000002' }, amount: '10', currency: 'USD', amountType: 'RECEIVE' })
      assert.equal(sent.status, 200, JSON.stringify(sent.body))
      assert.equal(await balance('bank', '256700000002'), '510.00')
      assert.equal(await balance('wallet', '256780000002'), '40.00')
    })

    it('refuses a payment the customer cannot afford, moving nothing', async () => {
      const before = await position('wallet')
      const sent = await api('wallet', 'POST', '/send', { from: { msisdn: '256780000003' }, to: { idType: 'MSISDN', idValue: '256700000001' }, amount: '5', currency: 'USD', amountType: 'SEND' })
      assert.equal(sent.status, 422, JSON.stringify(sent.body))
      assert.equal(await balance('wallet', '256780000003'), '0.00')
      assert.equal(await position('wallet'), before)
    })

    it('answers an unknown payee with 3204 from the switch', async () => {
      const sent = await api('bank', 'POST', '/send', { from: { msisdn: '256700000001' }, to: { idType: 'MSISDN', idValue: '256799999999' }, amount: '1', currency: 'USD', amountType: 'SEND' })
      assert.equal(sent.status, 404, JSON.stringify(sent.body))
      assert.equal(sent.body.error.stage, 'party', JSON.stringify(sent.body.error))
      assert.equal(sent.body.error.code, 'PARTY_NOT_FOUND')
      assert.match(JSON.stringify(sent.body.error), /3204/)
    })

    it('settles the window: nets sum to zero and positions return to zero; every ledger checks out', async () => {
      const [open] = (await adminCall(hub.adminUrl, 'GET', '/settlementWindows?state=OPEN')).body
      await adminCall(hub.adminUrl, 'POST', `/settlementWindows/${open.id}`, { state: 'CLOSED', reason: 'end of day' })
      const settlement = (await adminCall(hub.adminUrl, 'POST', '/settlements', { settlementModel: 'DEFERREDNET', reason: 'end of day', settlementWindows: [{ id: open.id }] })).body
      const nets = settlement.participants.flatMap((p: { accounts: { net: string }[] }) => p.accounts.map((a) => a.net))
      assert.deepEqual(nets.sort(), ['-15.5', '15.5'])
      await adminCall(hub.adminUrl, 'PUT', `/settlements/${settlement.id}`, { state: 'SETTLED', reason: 'paid' })
      assert.equal(await position('bank'), '0')
      assert.equal(await position('wallet'), '0')
      for (const opened of stores) {
        const report = await checkLedger(opened.store)
        assert.deepEqual(report.problems, [])
        assert.ok(report.ok)
      }
    })
  })
}
