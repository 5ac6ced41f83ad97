// SPDX-License-Identifier: Apache-2.0
/**
 * Payee-initiated cash-out with OTP end to end over real HTTP (reference §7): the switch and two DFSPs, each
 * on its own store. "wallet" holds the customer and her OTPs; "bank" owns the ATM and calls its own
 * requestToPay API as the terminal gateway will. Happy path with a wrong OTP first, RESEND, exhausted
 * tries, unknown customer, insufficient funds, decline at the device, and a refund after a failed dispense.
 * Then the bank's ISO 8583 gateway on a loopback port (as `kivuko dfsp --gateway-port` builds it): a POS
 * purchase paid by the QR code of Carol's wallet app, with the merchant's SMS, and RESEND from an ATM.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { adminCall } from '../../src/cli/provision.ts'
import { RESEND_STEP, runScript, TerminalGateway, TerminalRegistry, TerminalServer, VirtualTerminal } from '../../src/channels/terminal/index.ts'
import type { DfspConfigInput } from '../../src/dfsp/index.ts'
import { dfspPayee } from '../../src/http/terminal/dfsp-payee.ts'
import { checkLedger } from '../../src/store/ledger/ledger-check.ts'
import { startScheme, type DemoDfspId, type Scheme } from '../support/scheme.ts'
import { STORE_KINDS } from '../support/stores.ts'

const CAROL = '256780000001'
const DAN = '256780000002'
const ESTHER = '256780000003'
const ATM = { idType: 'DEVICE', idValue: 'ATM-0001', idSubValue: 'KLA-BRANCH-1', name: 'Bank ATM Kampala Road' }
const MERCHANT = '256700000003'
const TERMINALS = [
  { terminalId: 'POS00001', type: 'POS', payeeId: 'SHOP-0001', currency: 'USD', name: 'Kampala Hardware Ltd' },
  { terminalId: 'ATM00001', type: 'ATM', payeeId: 'ATM-0001', currency: 'USD', name: 'Bank ATM Kampala Road' },
] as const

const CONFIGS: Record<'bank' | 'wallet', Partial<DfspConfigInput>> = {
  // The ATM's bank: 1.00 per withdrawal as payee fee; the ATM's account holds a float for refunds.
  bank: {
    fees: { payee: { flat: '1', rounding: 'half-up' } },
    customers: [
      { name: 'Bank ATM Kampala Road', accountId: 'ATM-0001', balance: '500' },
      // The merchant behind the POS: paid into SHOP-0001, told of each payment by SMS.
      { name: 'Kampala Hardware Ltd', msisdn: MERCHANT, accountId: 'SHOP-0001', balance: '0' },
    ],
  },
  // The customer's wallet: 1.50 for a withdrawal, nothing for receiving; OTPs with 3 tries.
  wallet: {
    fees: { withdrawal: { flat: '1.5', rounding: 'half-up' } },
    otp: { secret: 'wallet-otp-secret-0123456789abcdef0123', maxAttempts: 3 },
    customers: [
      { name: 'Carol Achieng', msisdn: CAROL, balance: '300' },
      { name: 'Dan Mugisha', msisdn: DAN, balance: '50' },
      { name: 'Esther Auma', msisdn: ESTHER, balance: '20' },
    ],
  },
}

for (const kind of STORE_KINDS) {
  describe(`ATM cash-out with OTP through the switch on ${kind.name}`, { skip: kind.skip }, () => {
    let scheme: Scheme
    const api = (dfsp: DemoDfspId, method: string, path: string, body?: unknown) => scheme.api(dfsp, method, path, body)
    const balance = async (dfsp: DemoDfspId, path: string): Promise<string> => (await api(dfsp, 'GET', `${path}/balance`)).body.available
    const position = (fsp: DemoDfspId): Promise<string> => scheme.position(fsp)
    /** The ATM's account at the bank, available, in cents (it has no MSISDN, so no API path). */
    const atmBalance = async (): Promise<string> => {
      const bank = scheme.dfsps.get('bank')?.dfsp
      const account = await bank?.customers.findByParty('ACCOUNT_ID', 'ATM-0001')
      assert.ok(bank !== undefined && account !== undefined)
      return String((await bank.customers.balance(account)).availableMinor)
    }
    /** The code of the newest SMS holding one, as the customer reads it. */
    const latestCode = async (msisdn: string): Promise<string> => {
      const { body } = await api('wallet', 'GET', `/customers/${msisdn}/notifications`)
      for (const n of body.notifications) {
        const match = /code is ([0-9]+)\./.exec(n.body ?? '')
        if (match !== null) return match[1] as string
      }
      throw new Error('no OTP SMS')
    }
    const wrong = (code: string): string => code.replace(/.$/, (d) => String((Number(d) + 1) % 10))
    const withdraw = (payer: string, amount: string, transactionRequestId?: string) =>
      api('bank', 'POST', '/requestToPay', {
        ...(transactionRequestId === undefined ? {} : { transactionRequestId }),
        payer: { idType: 'MSISDN', idValue: payer },
        payee: ATM,
        amount,
        currency: 'USD',
        scenario: 'WITHDRAWAL',
        initiatorType: 'DEVICE',
        authenticationType: 'OTP',
      })

    before(async () => {
      scheme = await startScheme(kind, {
        bank: { ...CONFIGS.bank, timeouts: { requestToPayMs: 8_000 } },
        wallet: { ...CONFIGS.wallet, timeouts: { requestToPayMs: 8_000 } },
      })
    })

    after(async () => {
      await scheme?.close()
    })

    let committedId = ''

    it('cashes out 100 with a wrong OTP first: customer debited amount + fees, ATM account credited, positions moved', async () => {
      const issued = await api('wallet', 'POST', `/customers/${CAROL}/otp`, { amount: '100', currency: 'USD' })
      assert.equal(issued.status, 201, JSON.stringify(issued.body))
      assert.equal(issued.body.retriesLeft, 3)
      assert.doesNotMatch(JSON.stringify(issued.body), /code/)
      const code = await latestCode(CAROL)

      const asked = await withdraw(CAROL, '100')
      assert.equal(asked.status, 200, JSON.stringify(asked.body))
      assert.equal(asked.body.state, 'AWAITING_AUTHORIZATION')
      assert.equal(asked.body.retriesLeft, 3)
      assert.deepEqual(asked.body.quote, { currency: 'USD', amount: '100', transferAmount: '101', payeeFee: '1', totalDebit: '102.5', fees: '2.5', payerFee: '1.5' })
      const id = asked.body.transactionRequestId as string
      assert.equal(scheme.dfsps.get('wallet')?.dfsp.payerRequestState(id), 'AWAITING_AUTHORIZATION')

      const retry = await api('bank', 'POST', `/requestToPay/${id}/authorization`, { otp: wrong(code) })
      assert.equal(retry.status, 200, JSON.stringify(retry.body))
      assert.deepEqual([retry.body.state, retry.body.retriesLeft], ['RETRY', 2])

      const done = await api('bank', 'POST', `/requestToPay/${id}/authorization`, { otp: code })
      assert.equal(done.status, 200, JSON.stringify(done.body))
      assert.equal(done.body.state, 'COMMITTED')
      assert.equal(done.body.amount, '100')
      assert.equal(done.body.transferId, asked.body.transactionId ?? done.body.transactionId)
      assert.ok(typeof done.body.completedTimestamp === 'string')
      committedId = id

      assert.equal(await balance('wallet', `/customers/${CAROL}`), '197.50')
      assert.equal(await atmBalance(), '60000') // 500.00 + 100.00, in cents
      assert.equal(await position('wallet'), '101')
      assert.equal(await position('bank'), '-101')
      const detail = await adminCall(scheme.hub.adminUrl, 'GET', `/transfers/${done.body.transferId}`)
      assert.equal(detail.body.state, 'COMMITTED')
      // The customer is told by SMS, without any code.
      const sms = (await api('wallet', 'GET', `/customers/${CAROL}/notifications`)).body.notifications[0]
      assert.match(sms.body, /102\.50 USD paid/)
      assert.equal((await api('bank', 'GET', `/requestToPay/${id}`)).body.state, 'COMMITTED')
      // The OTP is used: the same request cannot be authorized again.
      assert.equal((await api('bank', 'POST', `/requestToPay/${id}/authorization`, { otp: code })).status, 409)
    })

    it('RESEND sends a new SMS and the new code works; the old one does not', async () => {
      await api('wallet', 'POST', `/customers/${CAROL}/otp`, {})
      const first = await latestCode(CAROL)
      const asked = await withdraw(CAROL, '10')
      assert.equal(asked.body.state, 'AWAITING_AUTHORIZATION', JSON.stringify(asked.body))
      const id = asked.body.transactionRequestId as string
      const resent = await api('bank', 'POST', `/requestToPay/${id}/resend`)
      assert.deepEqual([resent.status, resent.body.state, resent.body.retriesLeft], [200, 'AWAITING_AUTHORIZATION', 3])
      const second = await latestCode(CAROL)
      const old = await api('bank', 'POST', `/requestToPay/${id}/authorization`, { otp: first === second ? wrong(first) : first })
      assert.deepEqual([old.body.state, old.body.retriesLeft], ['RETRY', 2])
      const done = await api('bank', 'POST', `/requestToPay/${id}/authorization`, { otp: second })
      assert.equal(done.body.state, 'COMMITTED', JSON.stringify(done.body))
      assert.equal(await balance('wallet', `/customers/${CAROL}`), '185.00') // 197.50 − (10 + 1 + 1.50)
    })

    it('rejects after the last wrong try and burns the OTP: the right code no longer works', async () => {
      await api('wallet', 'POST', `/customers/${CAROL}/otp`, {})
      const code = await latestCode(CAROL)
      const asked = await withdraw(CAROL, '20')
      const id = asked.body.transactionRequestId as string
      assert.equal((await api('bank', 'POST', `/requestToPay/${id}/authorization`, { otp: wrong(code) })).body.retriesLeft, 2)
      assert.equal((await api('bank', 'POST', `/requestToPay/${id}/authorization`, { otp: wrong(code) })).body.retriesLeft, 1)
      const last = await api('bank', 'POST', `/requestToPay/${id}/authorization`, { otp: wrong(code) })
      assert.equal(last.body.state, 'REJECTED', JSON.stringify(last.body))
      assert.equal(last.body.error.errorCode, '4101')
      assert.equal(scheme.dfsps.get('wallet')?.dfsp.payerRequestState(id), 'REJECTED')
      // A new request finds no live OTP (the locked one is burnt): the wallet issues a fresh one bound to it,
      // so the old code is wrong there.
      const again = await withdraw(CAROL, '20')
      const tried = await api('bank', 'POST', `/requestToPay/${again.body.transactionRequestId}/authorization`, { otp: code })
      const fresh = await latestCode(CAROL)
      if (fresh !== code) assert.equal(tried.body.state, 'RETRY')
      assert.equal((await api('bank', 'POST', `/requestToPay/${again.body.transactionRequestId}/reject`)).body.state, 'REJECTED')
      assert.equal(await balance('wallet', `/customers/${CAROL}`), '185.00')
    })

    it('answers an unknown customer with 3204 and a customer short of funds with 4001, moving nothing', async () => {
      const unknown = await withdraw('256789999999', '10')
      assert.equal(unknown.status, 404, JSON.stringify(unknown.body))
      assert.deepEqual([unknown.body.state, unknown.body.error.errorCode], ['REJECTED', '3204'])
      const poor = await withdraw(DAN, '60')
      assert.equal(poor.status, 422, JSON.stringify(poor.body))
      assert.deepEqual([poor.body.state, poor.body.error.errorCode], ['REJECTED', '4001'])
      // 19 + 1 + 1.50 > 20: short only once the fees are known.
      const almost = await withdraw(ESTHER, '19')
      assert.deepEqual([almost.status, almost.body.state, almost.body.error?.errorCode], [422, 'REJECTED', '4001'])
      assert.equal(await balance('wallet', `/customers/${DAN}`), '50.00')
      assert.equal(await balance('wallet', `/customers/${ESTHER}`), '20.00')
    })

    it('is idempotent on transactionRequestId', async () => {
      const id = randomUUID()
      const first = await withdraw(DAN, '5', id)
      const second = await withdraw(DAN, '5', id)
      assert.deepEqual([first.body.transactionRequestId, second.body.transactionRequestId, second.body.state], [id, id, 'AWAITING_AUTHORIZATION'])
      await api('bank', 'POST', `/requestToPay/${id}/reject`)
    })

    it('refunds a committed cash-out whose dispense failed: the customer gets back all she paid', async () => {
      const before = await balance('wallet', `/customers/${CAROL}`)
      const refunded = await api('bank', 'POST', `/requestToPay/${committedId}/refund`, { reason: 'cash not dispensed' })
      assert.equal(refunded.status, 200, JSON.stringify(refunded.body))
      assert.equal(refunded.body.state, 'REFUNDED')
      assert.equal(refunded.body.refund.state, 'COMMITTED')
      const minor = (text: string): bigint => BigInt(text.replace('.', ''))
      assert.equal(minor(await balance('wallet', `/customers/${CAROL}`)) - minor(before), 10_250n)
      assert.equal((await api('bank', 'POST', `/requestToPay/${committedId}/refund`, {})).body.state, 'REFUNDED')
    })

    describe('through the bank’s ISO 8583 gateway', () => {
      let server: TerminalServer
      let address: { host: string; port: number }
      const terminals: VirtualTerminal[] = []
      const connect = async (terminalId: string): Promise<VirtualTerminal> => {
        const terminal = await VirtualTerminal.connect({ host: address.host, port: address.port, terminalId, responseTimeoutMs: 15_000 })
        terminals.push(terminal)
        return terminal
      }
      const cents = async (dfsp: DemoDfspId, msisdn: string): Promise<bigint> => BigInt((await balance(dfsp, `/customers/${msisdn}`)).replace('.', ''))
      const sms = async (dfsp: DemoDfspId, msisdn: string): Promise<string[]> =>
        (await api(dfsp, 'GET', `/customers/${msisdn}/notifications`)).body.notifications.map((n: { body: string }) => n.body)

      /** The SMS of a number once there are `count` of them (a few seconds at most), checking no more come. */
      const smsOnce = async (dfsp: DemoDfspId, msisdn: string, count: number): Promise<string[]> => {
        const deadline = Date.now() + 5_000
        let bodies = await sms(dfsp, msisdn)
        while (bodies.length < count && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 25))
          bodies = await sms(dfsp, msisdn)
        }
        for (const handle of scheme.dfsps.values()) await handle.dfsp.idle()
        bodies = await sms(dfsp, msisdn)
        assert.equal(bodies.length, count, JSON.stringify(bodies))
        return bodies
      }

      before(async () => {
        const bank = scheme.dfsps.get('bank')?.dfsp
        assert.ok(bank !== undefined)
        server = new TerminalServer({ gateway: new TerminalGateway({ registry: new TerminalRegistry(TERMINALS), payee: dfspPayee(bank, 'USD') }), port: 0 })
        address = await server.start()
      })

      after(async () => {
        await Promise.all(terminals.map((terminal) => terminal.close()))
        await server?.stop()
      })

      it('a POS purchase paid by the QR code of the wallet app: wrong scan, RESEND, right scan; the merchant gets an SMS', async () => {
        const issued = await api('wallet', 'POST', `/customers/${CAROL}/qrcode`, {})
        assert.equal(issued.status, 201, JSON.stringify(issued.body))
        const code = issued.body.code as string
        const carolBefore = await cents('wallet', CAROL)
        const smsBefore = (await sms('wallet', CAROL)).length

        const pos = await connect('POS00001')
        const transcript = await runScript(pos, {
          kind: 'purchase',
          purchase: { msisdn: CAROL, amountMinor: 2_550n, currency: 'USD', authentication: 'QRCODE' },
          otps: [code === 'KQ0000000000000000' ? 'KQ1111111111111111' : 'KQ0000000000000000', RESEND_STEP, code],
        })
        assert.equal(transcript.result, 'APPROVED', JSON.stringify(transcript, (_k, v) => (typeof v === 'bigint' ? String(v) : v)))
        // The bank's payee fee of 1.00 is on top: the customer confirms 26.50 at the POS.
        assert.ok(transcript.quote.approved)
        assert.deepEqual([transcript.quote.amountMinor, transcript.quote.feeMinor, transcript.quote.totalDebitMinor, transcript.quote.triesLeft], [2_550n, 100n, 2_650n, 3])
        assert.deepEqual(
          transcript.steps.map((step) => [step.outcome, step.responseCode]),
          [
            ['RETRY', '55'],
            ['RESENT', '55'],
            ['APPROVED', '00'],
          ],
        )
        const approved = transcript.steps[2]
        assert.ok(approved?.outcome === 'APPROVED')
        assert.deepEqual([approved.receipt.PAYEE, approved.receipt.AMOUNT, approved.receipt.TOTAL], ['Kampala Hardware Ltd', '2550', '2650'])

        assert.equal(carolBefore - (await cents('wallet', CAROL)), 2_650n)
        assert.equal(await cents('bank', MERCHANT), 2_550n)
        // The notices are written just after each DFSP hears of the commit (the switch's PATCH and PUT).
        const toMerchant = await smsOnce('bank', MERCHANT, 1)
        assert.match(toMerchant[0] ?? '', /^Kivuko: payment of 25\.50 USD received from Carol Achieng at Kampala Hardware Ltd\. Ref [0-9a-f-]{36}\.$/)
        // One SMS to Carol: the payment notice (a QR code is never sent, nor resent).
        const toCarol = await smsOnce('wallet', CAROL, smsBefore + 1)
        assert.match(toCarol[0] ?? '', /^Kivuko: 26\.50 USD paid to Kampala Hardware Ltd \(amount 25\.50, fees 1\.00\)\./)
        assert.ok(!toCarol.some((body) => body.includes(code)))

        // The code is used: a second purchase with it is declined before any quote (4100 → 05).
        const again = await (await connect('POS00001')).purchase({ msisdn: CAROL, amountMinor: 100n, currency: 'USD', authentication: 'QRCODE' })
        assert.deepEqual([again.approved, again.responseCode], [false, '05'])
      })

      it('RESEND from the ATM: a new OTP by SMS, the old one no longer works, the new one dispenses', async () => {
        // Dan: Carol has used up her OTPs for this quarter of an hour (5 per 15 minutes).
        assert.equal((await api('wallet', 'POST', `/customers/${DAN}/otp`, {})).status, 201)
        const first = await latestCode(DAN)
        const danBefore = await cents('wallet', DAN)
        const atm = await connect('ATM00001')
        const quote = await atm.cashOut({ msisdn: DAN, amountMinor: 1_000n, currency: 'USD' })
        assert.ok(quote.approved, JSON.stringify({ responseCode: quote.responseCode }))
        const resent = await atm.resendCode()
        assert.deepEqual(resent, { outcome: 'RESENT', responseCode: '55', triesLeft: 3 })
        const second = await latestCode(DAN)
        if (second !== first) assert.deepEqual(await atm.enterOtp(first), { outcome: 'RETRY', responseCode: '55', triesLeft: 2 })
        const done = await atm.enterOtp(second)
        assert.equal(done.outcome, 'APPROVED')
        assert.equal(danBefore - (await cents('wallet', DAN)), 1_250n) // 10 + the bank's 1.00 + the wallet's 1.50
      })
    })

    it('leaves every ledger consistent', async () => {
      for (const handle of scheme.dfsps.values()) await handle.dfsp.idle()
      for (const opened of scheme.stores) {
        const report = await checkLedger(opened.store)
        assert.deepEqual(report.problems, [])
      }
    })
  })
}
