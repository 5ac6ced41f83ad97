// SPDX-License-Identifier: Apache-2.0
/**
 * Flow 1 end to end between two Kivuko DFSPs, "bank" (answers COMMITTED) and "wallet" (answers RESERVED),
 * both on one store as `kivuko start` runs them, through the fake switch in relay mode: oracle registration
 * on start, look-up, quote, transfer, commit notification. Afterwards every ledger invariant holds and each
 * DFSP's books balance: what one's SCHEME account sent the other's received.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { DEMO_CUSTOMERS, dfspAccountId, type DfspConfigInput } from '../../src/dfsp/index.ts'
import { startDfsp, type DfspHandle } from '../../src/http/dfsp/index.ts'
import { BatchingLedger } from '../../src/store/ledger/batching-ledger.ts'
import { checkLedger } from '../../src/store/ledger/ledger-check.ts'
import { STORE_KINDS, type TestStore } from '../support/stores.ts'
import { FakeSwitch } from './fake-switch.ts'
import { api, assertAllFspiopValid, balanceOf, eventually, silentLogger } from './support.ts'

for (const kind of STORE_KINDS) {
  describe(`two DFSPs through a switch, on one ${kind.name} store`, { skip: kind.skip }, () => {
    let testStore: TestStore
    let fake: FakeSwitch
    let bank: DfspHandle
    let wallet: DfspHandle

    const config = (dfspId: 'bank' | 'wallet', overrides: Partial<DfspConfigInput>): DfspConfigInput => ({
      dfspId,
      currency: 'UGX',
      switchUrl: fake.url,
      switchToken: `${dfspId}-token-0123456789`,
      inboundToken: `switch-to-${dfspId}-0123456789`,
      ilpSecret: `${dfspId}-ilp-secret-0123456789`,
      customers: DEMO_CUSTOMERS[dfspId],
      timeouts: { partyMs: 5_000, quoteMs: 5_000, transferMs: 5_000, participantMs: 5_000, httpMs: 5_000 },
      ...overrides,
    })

    before(async () => {
      testStore = await kind.open()
      fake = await FakeSwitch.start()
      const routes: Record<string, { url: string; token: string }> = {}
      const register = (dfspId: string) => (urls: { fspiop: string }) => {
        routes[dfspId] = { url: urls.fspiop, token: `switch-to-${dfspId}-0123456789` }
        fake.relay(routes)
      }
      bank = await startDfsp(config('bank', { fees: { payee: { flat: '100', rounding: 'half-up' }, payer: { percent: '1', rounding: 'half-up' } } }), testStore.store, {
        logger: silentLogger,
        beforeRegistration: register('bank'),
      })
      wallet = await startDfsp(config('wallet', { payeeTransferState: 'RESERVED', fees: { payee: { percent: '0.5', rounding: 'ceil' } } }), testStore.store, {
        logger: silentLogger,
        beforeRegistration: register('wallet'),
      })
    })

    after(async () => {
      await bank?.close()
      await wallet?.close()
      await fake?.close()
      await testStore?.close()
    })

    it('registered every customer with the oracle', () => {
      assert.ok(bank.registration?.every((r) => r.status === 'registered'))
      assert.ok(wallet.registration?.every((r) => r.status === 'registered'))
      assert.equal(fake.oracle.get('MSISDN/256700000001'), 'bank')
      assert.equal(fake.oracle.get('ACCOUNT_ID/BANK-0003'), 'bank')
      assert.equal(fake.oracle.get('MSISDN/256780000002'), 'wallet')
    })

    it('bank pays wallet (wallet answers RESERVED, credits on the PATCH) and wallet pays bank', async () => {
      // Alice (bank, 1000) sends 200 UGX, fees included: bank's 1 % (2) off first, then wallet's 0.5 % of 198 (1, rounded up).
      const toCarol = await api(bank, 'POST', '/send', { from: { msisdn: '256700000001' }, to: { idType: 'MSISDN', idValue: '256780000001' }, amount: '200', currency: 'UGX', amountType: 'SEND', note: 'school fees' })
      assert.equal(toCarol.status, 200, JSON.stringify(toCarol.body))
      assert.equal(toCarol.body.currentState, 'COMMITTED')
      assert.equal(toCarol.body.to.name, 'Carol Achieng')
      assert.deepEqual([toCarol.body.quote.transferAmount, toCarol.body.quote.payeeReceiveAmount, toCarol.body.quote.payerFee], ['198', '197', '2'])
      assert.equal((await balanceOf(bank, '256700000001')).available, '800')
      await eventually(async () => assert.equal((await balanceOf(wallet, '256780000001')).available, '497'))

      // Dan (wallet, 50) pays the hardware shop (bank, by account id) so it receives exactly 40; bank charges 100 on top: too much.
      const tooMuch = await api(wallet, 'POST', '/send', { from: { msisdn: '256780000002' }, to: { idType: 'ACCOUNT_ID', idValue: 'BANK-0003' }, amount: '40', currency: 'UGX', amountType: 'RECEIVE' })
      assert.deepEqual([tooMuch.status, tooMuch.body.error.stage, tooMuch.body.error.message], [422, 'funds', 'insufficient funds'])
      const shop = await api(wallet, 'POST', '/send', { from: { msisdn: '256780000002' }, to: { idType: 'ACCOUNT_ID', idValue: 'BANK-0003' }, amount: '40', currency: 'UGX', amountType: 'SEND' })
      // SEND 40: the bank's flat 100 fee would eat it all.
      assert.deepEqual([shop.status, shop.body.error.stage, shop.body.error.fspiopError.errorCode], [422, 'quote', '5103'])
      const toAlice = await api(wallet, 'POST', '/send', { from: { msisdn: '256780000001' }, to: { idType: 'MSISDN', idValue: '256700000001' }, amount: '300', currency: 'UGX', amountType: 'RECEIVE' })
      assert.equal(toAlice.status, 200, JSON.stringify(toAlice.body))
      assert.deepEqual([toAlice.body.quote.transferAmount, toAlice.body.quote.totalDebit], ['400', '400'])
      assert.equal((await balanceOf(wallet, '256780000001')).available, '97')
      await eventually(async () => assert.equal((await balanceOf(bank, '256700000001')).available, '1100'))

      const unknown = await api(bank, 'POST', '/send', { from: { msisdn: '256700000002' }, to: { idType: 'MSISDN', idValue: '256799999999' }, amount: '1', currency: 'UGX', amountType: 'SEND' })
      assert.deepEqual([unknown.status, unknown.body.error.fspiopError.errorCode], [404, '3204'])
    })

    it('leaves both ledgers consistent, and each DFSP’s SCHEME account mirrors what crossed the switch', async () => {
      await bank.dfsp.idle()
      await wallet.dfsp.idle()
      const report = await checkLedger(testStore.store)
      assert.deepEqual(report.problems, [])
      const ledger = new BatchingLedger(testStore.store)
      try {
        const [bankScheme, walletScheme] = await ledger.lookupAccounts([dfspAccountId('bank', 'UGX', 'SCHEME'), dfspAccountId('wallet', 'UGX', 'SCHEME')])
        // bank sent 198 and received 400; wallet the reverse.
        assert.deepEqual([bankScheme?.creditsPostedMinor, bankScheme?.debitsPostedMinor], [198n, 400n])
        assert.deepEqual([walletScheme?.creditsPostedMinor, walletScheme?.debitsPostedMinor], [400n, 198n])
      } finally {
        await ledger.close()
      }
      assert.deepEqual((await api(bank, 'GET', '/position')).body, { currency: 'UGX', sent: '198', received: '400', inFlight: '0', net: '-202', fees: '102' })
      assert.deepEqual((await api(wallet, 'GET', '/position')).body, { currency: 'UGX', sent: '400', received: '198', inFlight: '0', net: '202', fees: '1' })
      assertAllFspiopValid(fake.received.filter((r) => r.headers['fspiop-source'] === 'bank'), 'bank', 'bank-token-0123456789')
      assertAllFspiopValid(fake.received.filter((r) => r.headers['fspiop-source'] === 'wallet'), 'wallet', 'wallet-token-0123456789')
    })
  })
}
