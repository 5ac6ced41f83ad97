// SPDX-License-Identifier: Apache-2.0
/**
 * Flow 1 end to end over real HTTP on loopback: the switch and two DFSPs built from the same code as the
 * demo, each on its own store, provisioned through the admin API. A P2P transfer commits, balances and
 * positions move by exactly the amount, the settlement window closes and nets to zero, and every ledger
 * passes `kivuko check`. On SQLite and on PostgreSQL.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { adminCall } from '../../src/cli/provision.ts'
import { DEMO_CUSTOMERS } from '../../src/dfsp/index.ts'
import { checkLedger } from '../../src/store/ledger/ledger-check.ts'
import { startScheme, type DemoDfspId, type Scheme } from '../support/scheme.ts'
import { STORE_KINDS } from '../support/stores.ts'

for (const kind of STORE_KINDS) {
  describe(`P2P between two DFSPs through the switch on ${kind.name}`, { skip: kind.skip }, () => {
    let scheme: Scheme
    const api = (dfsp: DemoDfspId, method: string, path: string, body?: unknown) => scheme.api(dfsp, method, path, body)
    const balance = async (dfsp: DemoDfspId, msisdn: string): Promise<string> => (await api(dfsp, 'GET', `/customers/${msisdn}/balance`)).body.available
    const position = (fsp: DemoDfspId): Promise<string> => scheme.position(fsp)

    before(async () => {
      scheme = await startScheme(kind, { bank: { customers: DEMO_CUSTOMERS.bank }, wallet: { customers: DEMO_CUSTOMERS.wallet } })
    })

    after(async () => {
      await scheme?.close()
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
      const detail = await adminCall(scheme.hub.adminUrl, 'GET', `/transfers/${sent.body.transferId}`)
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
      const [open] = (await adminCall(scheme.hub.adminUrl, 'GET', '/settlementWindows?state=OPEN')).body
      await adminCall(scheme.hub.adminUrl, 'POST', `/settlementWindows/${open.id}`, { state: 'CLOSED', reason: 'end of day' })
      const settlement = (await adminCall(scheme.hub.adminUrl, 'POST', '/settlements', { settlementModel: 'DEFERREDNET', reason: 'end of day', settlementWindows: [{ id: open.id }] })).body
      const nets = settlement.participants.flatMap((p: { accounts: { net: string }[] }) => p.accounts.map((a) => a.net))
      assert.deepEqual(nets.sort(), ['-15.5', '15.5'])
      await adminCall(scheme.hub.adminUrl, 'PUT', `/settlements/${settlement.id}`, { state: 'SETTLED', reason: 'paid' })
      assert.equal(await position('bank'), '0')
      assert.equal(await position('wallet'), '0')
      for (const opened of scheme.stores) {
        const report = await checkLedger(opened.store)
        assert.deepEqual(report.problems, [])
        assert.ok(report.ok)
      }
    })
  })
}
