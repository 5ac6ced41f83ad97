// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { runScript } from '../../src/channels/terminal/index.ts'
import { KES_CUSTOMER, POOR_CUSTOMER, SLOW_CUSTOMER_MSISDN, startHarness, UNKNOWN_MSISDN, type Harness } from './support.ts'

const purchase = (msisdn: string, amountMinor = 10_000n) => ({ msisdn, amountMinor, currency: 'KES' })

describe('terminal gateway over TCP: ATM cash-out', () => {
  let harness: Harness
  before(async () => {
    harness = await startHarness()
  })
  after(() => harness.close())

  it('quotes with 0110 00, then dispenses on the right OTP with 0210 00', async () => {
    const atm = await harness.terminal('ATM00001')
    const quote = await atm.cashOut(purchase(KES_CUSTOMER.msisdn))
    assert.equal(quote.approved, true)
    assert.ok(quote.approved)
    assert.equal(quote.responseCode, '00')
    assert.equal(quote.amountMinor, 10_000n)
    assert.equal(quote.feeMinor, 150n)
    assert.equal(quote.totalDebitMinor, 10_150n)
    assert.equal(quote.currency, 'KES')
    assert.equal(quote.triesLeft, 3)

    const requestCall = harness.payee.calls.find((call) => call.method === 'requestToPay')
    assert.ok(requestCall !== undefined && requestCall.method === 'requestToPay')
    assert.deepEqual(
      { ...requestCall.request, transactionRequestId: 'x' },
      {
        transactionRequestId: 'x',
        payer: { idType: 'MSISDN', idValue: KES_CUSTOMER.msisdn },
        payee: { idType: 'DEVICE', idValue: 'ATM00001', name: 'Kivuko ATM 1' },
        amountMinor: 10_000n,
        currency: 'KES',
        scenario: 'WITHDRAWAL',
        initiatorType: 'DEVICE',
        authenticationType: 'OTP',
      },
    )

    const result = await atm.enterOtp(KES_CUSTOMER.otp)
    assert.equal(result.outcome, 'APPROVED')
    assert.ok(result.outcome === 'APPROVED')
    assert.equal(result.responseCode, '00')
    assert.match(result.authId, /^[0-9A-Z]{6}$/)
    assert.equal(result.receipt.AMOUNT, '10000')
    assert.equal(result.receipt.FEE, '150')
    assert.equal(result.receipt.TOTAL, '10150')
    assert.equal(result.receipt.CURRENCY, 'KES')
    assert.equal(result.receipt.AUTH, result.authId)
    assert.equal(result.receipt.AT, '2026-01-02T10:30:00.000Z')
  })

  it('re-prompts with 55 and the tries left after a wrong OTP, then approves the right one', async () => {
    const atm = await harness.terminal('ATM00002')
    const transcript = await runScript(atm, { kind: 'cashOut', purchase: purchase(KES_CUSTOMER.msisdn), otps: ['000000', KES_CUSTOMER.otp] })
    assert.equal(transcript.result, 'APPROVED')
    assert.deepEqual(transcript.otpResults[0], { outcome: 'RETRY', responseCode: '55', triesLeft: 2 })
    assert.equal(transcript.otpResults[1]?.responseCode, '00')
  })

  it('asks again for a mistyped OTP (letters, too short) without spending a try or asking the payer FSP', async () => {
    const atm = await harness.terminal('ATM00035')
    const authorizationsBefore = harness.payee.count('authorize')
    const transcript = await runScript(atm, { kind: 'cashOut', purchase: purchase(KES_CUSTOMER.msisdn), otps: ['12a456', '12', KES_CUSTOMER.otp] })
    assert.equal(transcript.result, 'APPROVED')
    assert.deepEqual(transcript.otpResults.slice(0, 2), [
      { outcome: 'RETRY', responseCode: '55', triesLeft: 3 },
      { outcome: 'RETRY', responseCode: '55', triesLeft: 3 },
    ])
    assert.equal(harness.payee.count('authorize') - authorizationsBefore, 1)
  })

  it('declines with 75 when the last try is wrong, and accepts no further OTP', async () => {
    const atm = await harness.terminal('ATM00003')
    const transcript = await runScript(atm, { kind: 'cashOut', purchase: purchase(KES_CUSTOMER.msisdn), otps: ['000001', '000002', '000003', KES_CUSTOMER.otp] })
    assert.equal(transcript.result, 'DECLINED')
    assert.deepEqual(
      transcript.otpResults.map((result) => result.responseCode),
      ['55', '55', '75'],
    )
    assert.deepEqual((await atm.enterOtp(KES_CUSTOMER.otp)).responseCode, '12')
  })

  it('declines an unknown customer with 14', async () => {
    const atm = await harness.terminal('ATM00004')
    const quote = await atm.cashOut(purchase(UNKNOWN_MSISDN))
    assert.deepEqual({ approved: quote.approved, responseCode: quote.responseCode }, { approved: false, responseCode: '14' })
  })

  it('declines insufficient funds with 51', async () => {
    const atm = await harness.terminal('ATM00005')
    const quote = await atm.cashOut(purchase(POOR_CUSTOMER.msisdn))
    assert.equal(quote.responseCode, '51')
  })

  it('declines a switch or DFSP timeout with 91', async () => {
    const atm = await harness.terminal('ATM00006')
    const quote = await atm.cashOut(purchase(SLOW_CUSTOMER_MSISDN))
    assert.equal(quote.responseCode, '91')
  })

  it('refunds a committed cash-out when the ATM reports a failed dispense (0420 → 0430 00), once', async () => {
    const atm = await harness.terminal('ATM00007')
    const refundsBefore = harness.payee.count('refund')
    const transcript = await runScript(atm, { kind: 'cashOut', purchase: purchase(KES_CUSTOMER.msisdn), otps: [KES_CUSTOMER.otp], failAfterApproval: true })
    assert.equal(transcript.result, 'REVERSED')
    assert.equal(transcript.reversalResponseCode, '00')
    assert.equal(harness.payee.count('refund'), refundsBefore + 1)
    const refund = harness.payee.calls.at(-1)
    assert.ok(refund !== undefined && refund.method === 'refund')
    assert.equal(harness.payee.requests.get(refund.transactionRequestId)?.state, 'REFUNDED')
    // A second advice for the same transaction is acknowledged without a second refund.
    assert.equal(await atm.reverse(), '00')
    assert.equal(harness.payee.count('refund'), refundsBefore + 1)
  })

  it('cancels a quoted transaction when the customer declines the quote (0420 → reject → 0430 00)', async () => {
    const atm = await harness.terminal('ATM00008')
    const transcript = await runScript(atm, { kind: 'cashOut', purchase: purchase(KES_CUSTOMER.msisdn), confirm: false, otps: [] })
    assert.equal(transcript.result, 'CANCELLED')
    assert.equal(transcript.reversalResponseCode, '00')
    assert.equal(harness.payee.calls.at(-1)?.method, 'reject')
    assert.equal((await atm.enterOtp(KES_CUSTOMER.otp)).responseCode, '12')
  })

  it('answers a reversal with nothing to reverse with 21', async () => {
    const atm = await harness.terminal('ATM00009')
    await atm.cashOut(purchase(UNKNOWN_MSISDN))
    assert.equal(await atm.reverse(), '21')
  })

  it('answers an unregistered terminal with 03 and a cash-out on a POS with 58', async () => {
    const stranger = await harness.terminal('NOSUCH01')
    assert.equal((await stranger.cashOut(purchase(KES_CUSTOMER.msisdn))).responseCode, '03')
    const pos = await harness.terminal('POS00001')
    assert.equal((await pos.cashOut(purchase(KES_CUSTOMER.msisdn))).responseCode, '58')
  })

  it('refuses a 0200 that no 0100 quoted (12), a wrong currency (12) and a zero amount (13)', async () => {
    const atm = await harness.terminal('ATM00010')
    const lonely = await atm.send({
      mti: '0200',
      fields: { processingCode: '010000', amountTransaction: '000000010000', rrn: '000000000042', terminalId: 'ATM00010', currencyCode: '404', otp: '123456' },
    })
    assert.equal(lonely.fields.responseCode, '12')
    assert.equal((await atm.cashOut({ msisdn: KES_CUSTOMER.msisdn, amountMinor: 10_000n, currency: 'USD' })).responseCode, '12')
    assert.equal((await atm.cashOut(purchase(KES_CUSTOMER.msisdn, 0n))).responseCode, '13')
  })

  it('answers an echo test with 0810 00', async () => {
    const atm = await harness.terminal('ATM00011')
    assert.equal(await atm.echo(), '00')
  })
})

describe('terminal gateway over TCP: POS merchant payment', () => {
  let harness: Harness
  before(async () => {
    harness = await startHarness()
  })
  after(() => harness.close())

  it('runs a purchase as PAYMENT/BUSINESS under the merchant id and returns the receipt in field 63', async () => {
    const pos = await harness.terminal('POS00001')
    const transcript = await runScript(pos, { kind: 'purchase', purchase: purchase(KES_CUSTOMER.msisdn, 2_550n), otps: ['999999', KES_CUSTOMER.otp] })
    assert.equal(transcript.result, 'APPROVED')
    const call = harness.payee.calls.find((entry) => entry.method === 'requestToPay')
    assert.ok(call !== undefined && call.method === 'requestToPay')
    assert.equal(call.request.scenario, 'PAYMENT')
    assert.equal(call.request.initiatorType, 'BUSINESS')
    assert.deepEqual(call.request.payee, { idType: 'BUSINESS', idValue: 'merchant-1001', name: 'Duka la Mama' })
    const approved = transcript.otpResults[1]
    assert.ok(approved !== undefined && approved.outcome === 'APPROVED')
    assert.equal(approved.receipt.PAYEE, 'Duka la Mama')
    assert.equal(approved.receipt.TERMINAL, 'POS00001')
    assert.equal(approved.receipt.AMOUNT, '2550')
    assert.equal(approved.receipt.RRN, transcript.quote.rrn)
    assert.match(approved.receipt.TRANSFER ?? '', /^[0-9a-f-]{36}$/)
  })

  it('refuses a purchase on an ATM with 58', async () => {
    const atm = await harness.terminal('ATM00001')
    assert.equal((await atm.purchase(purchase(KES_CUSTOMER.msisdn))).responseCode, '58')
  })
})
