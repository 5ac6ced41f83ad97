// SPDX-License-Identifier: Apache-2.0
/**
 * Merchant payment authorized by QR code (authenticationType QRCODE) between two Kivuko DFSPs through the
 * fake switch in relay mode, both on one store: "wallet" holds Carol and the QR code her app shows, "bank"
 * holds the merchant (with an MSISDN) and runs requestToPay for its POS. Also: the merchant's SMS, Carol's
 * SMS naming the merchant, the SMS outbox through GET /notifications and `kivuko sms`, and no code in any log.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import pino from 'pino'
import { runSms } from '../../src/cli/main.ts'
import type { DfspConfigInput } from '../../src/dfsp/index.ts'
import { startDfsp, type DfspHandle } from '../../src/http/dfsp/index.ts'
import { checkLedger } from '../../src/store/ledger/ledger-check.ts'
import { STORE_KINDS, type TestStore } from '../support/stores.ts'
import { FakeSwitch } from './fake-switch.ts'
import { api, assertAllFspiopValid, balanceOf } from './support.ts'

const CAROL = '256780000001'
const DAN = '256780000002'
const MERCHANT_MSISDN = '256700000003'
const SHOP = { idType: 'BUSINESS', idValue: 'BANK-0003', name: 'Kampala Hardware Ltd' }

for (const kind of STORE_KINDS) {
  describe(`POS payment by QR code between two DFSPs, on one ${kind.name} store`, { skip: kind.skip }, () => {
    let testStore: TestStore
    let fake: FakeSwitch
    let bank: DfspHandle
    let wallet: DfspHandle
    /** Every log line both DFSPs wrote, debug included. */
    const logLines: string[] = []
    const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) })

    const config = (dfspId: 'bank' | 'wallet', overrides: Partial<DfspConfigInput>): DfspConfigInput => ({
      dfspId,
      currency: 'USD',
      switchUrl: fake.url,
      switchToken: `${dfspId}-token-0123456789`,
      inboundToken: `switch-to-${dfspId}-0123456789`,
      ilpSecret: `${dfspId}-ilp-secret-0123456789`,
      timeouts: { partyMs: 5_000, quoteMs: 5_000, transferMs: 5_000, participantMs: 5_000, httpMs: 5_000, requestToPayMs: 5_000 },
      // Small, so the last test sees the oldest sessions forgotten.
      requestSessionsMax: 3,
      ...overrides,
    })
    const pay = (payer: string, amount: string) =>
      api(bank, 'POST', '/requestToPay', {
        payer: { idType: 'MSISDN', idValue: payer },
        payee: SHOP,
        amount,
        currency: 'USD',
        scenario: 'PAYMENT',
        initiatorType: 'BUSINESS',
        authenticationType: 'QRCODE',
      })
    const sms = async (handle: DfspHandle, msisdn: string): Promise<string[]> => (await api(handle, 'GET', `/customers/${msisdn}/notifications`)).body.notifications.map((n: { body: string }) => n.body)

    before(async () => {
      testStore = await kind.open()
      fake = await FakeSwitch.start()
      const routes: Record<string, { url: string; token: string }> = {}
      const register = (dfspId: string) => (urls: { fspiop: string }) => {
        routes[dfspId] = { url: urls.fspiop, token: `switch-to-${dfspId}-0123456789` }
        fake.relay(routes)
      }
      bank = await startDfsp(
        config('bank', { customers: [{ name: 'Kampala Hardware Ltd', msisdn: MERCHANT_MSISDN, accountId: 'BANK-0003', balance: '0' }] }),
        testStore.store,
        { logger, beforeRegistration: register('bank') },
      )
      wallet = await startDfsp(
        config('wallet', {
          otp: { secret: 'wallet-otp-secret-0123456789abcdef0123', maxAttempts: 3 },
          customers: [
            { name: 'Carol Achieng', msisdn: CAROL, balance: '300' },
            { name: 'Dan Mugisha', msisdn: DAN, balance: '50' },
          ],
        }),
        testStore.store,
        { logger, beforeRegistration: register('wallet') },
      )
    })

    after(async () => {
      await bank?.close()
      await wallet?.close()
      await fake?.close()
      await testStore?.close()
    })

    let paidCode = ''
    let paidId = ''

    it('the wallet app gets a one-time QR code in the answer, bound to an amount when asked; no SMS', async () => {
      const plain = await api(wallet, 'POST', `/customers/${DAN}/qrcode`, {})
      assert.equal(plain.status, 201, JSON.stringify(plain.body))
      assert.match(plain.body.code, /^KQ[0-9A-Z]{16}$/)
      assert.equal(plain.body.retriesLeft, 3)
      assert.ok(Date.parse(plain.body.expiresAt) > Date.now())
      assert.equal(plain.body.amount, undefined)
      const bound = await api(wallet, 'POST', `/customers/${DAN}/qrcode`, { amount: '10.5', currency: 'USD' })
      assert.deepEqual([bound.status, bound.body.amount, bound.body.currency], [201, '10.50', 'USD'])
      assert.deepEqual(await sms(wallet, DAN), [], 'a QR code is never sent by SMS')
      assert.equal((await api(wallet, 'POST', `/customers/${DAN}/qrcode`, { currency: 'EUR' })).status, 400)
      assert.equal((await api(wallet, 'POST', `/customers/${DAN}/qrcode`, { amount: 'ten' })).status, 400)
      assert.equal((await api(wallet, 'POST', '/customers/256789999999/qrcode', {})).status, 404)
    })

    it('refuses a QR payment when the customer has no live QR code (4100), before any quote', async () => {
      const refused = await pay(CAROL, '5')
      assert.equal(refused.status, 422, JSON.stringify(refused.body))
      assert.deepEqual([refused.body.state, refused.body.error.errorCode], ['REJECTED', '4100'])
      assert.match(refused.body.error.errorDescription, /QR code/)
    })

    it('pays the merchant 25.50 by QR: a wrong scan costs a try, RESEND asks again, the right code commits', async () => {
      const issued = await api(wallet, 'POST', `/customers/${CAROL}/qrcode`, { amount: '25.50', currency: 'USD' })
      const code = issued.body.code as string
      paidCode = code
      const asked = await pay(CAROL, '25.50')
      assert.equal(asked.status, 200, JSON.stringify(asked.body))
      assert.deepEqual([asked.body.state, asked.body.retriesLeft, asked.body.quote.totalDebit], ['AWAITING_AUTHORIZATION', 3, '25.5'])
      const id = asked.body.transactionRequestId as string
      paidId = id
      const challenge = fake.received.find((r) => r.method === 'GET' && r.path.startsWith(`/authorizations/${id}?`))
      assert.ok(challenge !== undefined)
      assert.equal(new URL(challenge.path, 'http://x').searchParams.get('authenticationType'), 'QRCODE')

      // An OTP for a QR request is refused without spending a try.
      const mismatch = await api(bank, 'POST', `/requestToPay/${id}/authorization`, { otp: '123456' })
      assert.equal(mismatch.status, 400, JSON.stringify(mismatch.body))
      assert.equal((await api(bank, 'POST', `/requestToPay/${id}/authorization`, { otp: '1', qrCode: code })).status, 400, 'exactly one of otp and qrCode')
      const wrong = await api(bank, 'POST', `/requestToPay/${id}/authorization`, { qrCode: 'KQ0000000000000000' })
      assert.deepEqual([wrong.status, wrong.body.state, wrong.body.retriesLeft], [200, 'RETRY', 2])
      const resent = await api(bank, 'POST', `/requestToPay/${id}/resend`)
      assert.deepEqual([resent.status, resent.body.state, resent.body.retriesLeft], [200, 'AWAITING_AUTHORIZATION', 2])
      assert.deepEqual(await sms(wallet, CAROL), [], 'RESEND of a QR code sends nothing')

      const done = await api(bank, 'POST', `/requestToPay/${id}/authorization`, { qrCode: code })
      assert.equal(done.status, 200, JSON.stringify(done.body))
      assert.deepEqual([done.body.state, done.body.amount], ['COMMITTED', '25.5'])
      const puts = fake.received.filter((r) => r.method === 'PUT' && r.path === `/authorizations/${id}`)
      assert.deepEqual(
        puts.map((r) => [r.body.responseType, r.body.authenticationInfo?.authentication]),
        [
          ['ENTERED', 'QRCODE'],
          ['RESEND', undefined],
          ['ENTERED', 'QRCODE'],
        ],
      )
      // The wallet hears of the commit in its own time (PUT /transfers through the switch).
      await wallet.dfsp.idle()
      await bank.dfsp.idle()
      assert.equal(wallet.dfsp.payerRequestState(id), 'COMMITTED')
      assert.equal((await balanceOf(wallet, CAROL)).available, '274.50')
      assert.equal((await balanceOf(bank, MERCHANT_MSISDN)).available, '25.50')
    })

    it('tells the payer (naming the merchant and the amount) and the merchant (naming the payer) by SMS, once each', async () => {
      // Both notices are written just after the commit, in the work that follows the switch's callbacks.
      await bank.dfsp.idle()
      await wallet.dfsp.idle()
      const [toCarol, ...olderToCarol] = await sms(wallet, CAROL)
      assert.match(toCarol ?? '', /^Kivuko: 25\.50 USD paid to Kampala Hardware Ltd \(amount 25\.50, fees 0\.00\)\. Ref [0-9a-f-]{36}\.$/)
      assert.deepEqual(olderToCarol, [])
      const toMerchant = await sms(bank, MERCHANT_MSISDN)
      assert.equal(toMerchant.length, 1)
      assert.match(toMerchant[0] ?? '', /^Kivuko: payment of 25\.50 USD received from Carol Achieng at Kampala Hardware Ltd\. Ref [0-9a-f-]{36}\.$/)
    })

    it('a used QR code pays once: the same code on a new request finds no live code', async () => {
      const again = await pay(CAROL, '25.50')
      assert.deepEqual([again.body.state, again.body.error?.errorCode], ['REJECTED', '4100'])
      assert.equal((await balanceOf(wallet, CAROL)).available, '274.50')
    })

    it('the outbox reads through GET /notifications and `kivuko sms`', async () => {
      const all = await api(bank, 'GET', '/notifications')
      assert.equal(all.status, 200)
      assert.deepEqual(
        all.body.notifications.map((n: { msisdn: string; state: string }) => [n.msisdn, n.state]),
        [[MERCHANT_MSISDN, 'SENT']],
      )
      assert.equal((await api(bank, 'GET', '/notifications?limit=0')).status, 400)
      assert.equal((await api(bank, 'GET', `/customers/${MERCHANT_MSISDN}/notifications?limit=1`)).body.notifications.length, 1)

      const out: string[] = []
      const err: string[] = []
      assert.equal(await runSms({ dfspUrl: bank.urls.api }, (t) => out.push(t), (t) => err.push(t)), 0)
      assert.equal(out.length, 1)
      assert.match(out[0] ?? '', /^\d{4}-\d\d-\d\dT[0-9:.]+Z {2}256700000003 {5}SENT {5}Kivuko: payment of 25\.50 USD received from Carol Achieng/)
      out.length = 0
      assert.equal(await runSms({ dfspUrl: wallet.urls.api, msisdn: DAN, limit: '5' }, (t) => out.push(t), (t) => err.push(t)), 0)
      assert.deepEqual(out, [`no messages for ${DAN}\n`])
      assert.equal(await runSms({ dfspUrl: wallet.urls.api, msisdn: '256789999999' }, (t) => out.push(t), (t) => err.push(t)), 1, 'unknown number: the DFSP says 404')
      assert.match(err.at(-1) ?? '', /answered 404/)
      assert.equal(await runSms({ dfspUrl: 'ftp://x', msisdn: 'abc', limit: '0' }, (t) => out.push(t), (t) => err.push(t)), 2)
      assert.match(err.at(-1) ?? '', /--dfsp-url must be an http.*--msisdn must be 3 to 15 digits.*--limit must be/)
      assert.equal(await runSms({ dfspUrl: 'http://127.0.0.1:9' }, (t) => out.push(t), (t) => err.push(t)), 1)
      assert.match(err.at(-1) ?? '', /did not answer/)
    })

    it('keeps at most requestSessionsMax request sessions on each side: past it the oldest settled one is forgotten', async () => {
      assert.equal((await api(bank, 'GET', `/requestToPay/${paidId}`)).status, 200)
      let lastId = ''
      for (let i = 0; i < 3; i += 1) {
        const code = (await api(wallet, 'POST', `/customers/${CAROL}/qrcode`, {})).body.code as string
        lastId = (await pay(CAROL, '1')).body.transactionRequestId as string
        const done = await api(bank, 'POST', `/requestToPay/${lastId}/authorization`, { qrCode: code })
        assert.equal(done.body.state, 'COMMITTED', JSON.stringify(done.body))
        await wallet.dfsp.idle()
      }
      const forgotten = await api(bank, 'GET', `/requestToPay/${paidId}`)
      assert.equal(forgotten.status, 404, JSON.stringify(forgotten.body))
      assert.equal(wallet.dfsp.payerRequestState(paidId), undefined)
      assert.deepEqual([(await api(bank, 'GET', `/requestToPay/${lastId}`)).body.state, wallet.dfsp.payerRequestState(lastId)], ['COMMITTED', 'COMMITTED'])
    })

    it('never logs a QR code, and every message sent was FSPIOP-valid; the ledger balances', async () => {
      await bank.dfsp.idle()
      await wallet.dfsp.idle()
      assert.ok(logLines.length > 0)
      assert.ok(paidCode !== '')
      assert.ok(!logLines.some((line) => line.includes(paidCode)), 'the QR code is in no log line')
      assertAllFspiopValid(fake.received.filter((r) => r.headers['fspiop-source'] === 'bank'), 'bank', 'bank-token-0123456789')
      assertAllFspiopValid(fake.received.filter((r) => r.headers['fspiop-source'] === 'wallet'), 'wallet', 'wallet-token-0123456789')
      assert.deepEqual((await checkLedger(testStore.store)).problems, [])
    })
  })
}
