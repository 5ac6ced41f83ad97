// SPDX-License-Identifier: Apache-2.0
/**
 * ATM cash-out and POS purchase authorised by OTP, end to end over real TCP and HTTP: virtual terminals
 * speak ISO 8583 to the bank's gateway (TerminalServer → TerminalGateway → dfspPayee → the bank), the bank
 * speaks FSPIOP through the switch to the customer's wallet, and the wallet sends the OTP by SMS, which the
 * test reads through the wallet's customer API as the customer reads their phone. Each case checks what
 * the terminal showed, the balances of the customer and of the ATM's or merchant's account (customer API),
 * both positions at the switch (admin API) and the SMS; the last case checks every ledger.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { pino } from 'pino'
import { Writable } from 'node:stream'
import { adminCall } from '../../src/cli/provision.ts'
import type { DfspConfigInput } from '../../src/dfsp/index.ts'
import { decodeDisplayData, runScript, type TerminalEntry, type VirtualTerminal } from '../../src/channels/terminal/index.ts'
import { amountToField4, formatProcessingCode, MTI, type Iso8583Message } from '../../src/channels/terminal/iso8583/index.ts'
import { checkLedger } from '../../src/store/ledger/ledger-check.ts'
import { RecordingLogger } from '../terminal/support.ts'
import { startTerminalScheme, toMinor, OTP_IN_SMS, type TerminalScheme } from '../support/terminal-scheme.ts'
import { STORE_KINDS } from '../support/stores.ts'

// The wallet's customers, one per case so that no case depends on another's money or OTPs.
const CAROL = '256780000001' // full ATM cash-out
const DAN = '256780000002' // too poor
const ESTHER = '256780000003' // POS purchase
const FRED = '256780000004' // wrong OTP, then right
const GRACE = '256780000005' // tries exhausted
const HENRY = '256780000006' // expired OTP
const IVY = '256780000007' // replayed OTP
const JANE = '256780000008' // payer DFSP silent after the look-up
const KATE = '256780000009' // payer DFSP silent altogether
const LEO = '256780000010' // reversal after commit
const UNKNOWN = '256789999999'
const CROWD = Array.from({ length: 10 }, (_, i) => `2567800011${String(i).padStart(2, '0')}`)

// The bank's terminals: each pays into its own account, which has an MSISDN so that the customer API shows it.
const ATMS = Array.from({ length: 14 }, (_, i) => ({ terminalId: `ATM${String(i + 1).padStart(5, '0')}`, account: `ATM-${String(i + 1).padStart(4, '0')}`, msisdn: `2567000090${String(i + 1).padStart(2, '0')}` }))
const POSES = Array.from({ length: 5 }, (_, i) => ({ terminalId: `POS${String(i + 1).padStart(5, '0')}`, account: `MER-${String(i + 1).padStart(4, '0')}`, msisdn: `2567000091${String(i + 1).padStart(2, '0')}` }))
const atm = (n: number) => ATMS[n - 1] as (typeof ATMS)[number]
const pos = (n: number) => POSES[n - 1] as (typeof POSES)[number]

const TERMINALS: TerminalEntry[] = [
  ...ATMS.map((t, i): TerminalEntry => ({ terminalId: t.terminalId, type: 'ATM', payeeId: t.account, currency: 'USD', name: `Bank ATM ${i + 1}`, location: 'Kampala Road' })),
  ...POSES.map((t, i): TerminalEntry => ({ terminalId: t.terminalId, type: 'POS', payeeId: t.account, currency: 'USD', name: `Hardware Shop ${i + 1}`, location: 'Luwum Street' })),
]

const ATM_FLOAT_MINOR = 50_000n
const BANK: Partial<DfspConfigInput> = {
  // 1.00 per incoming payment (the ATM fee of the bank, and its acquiring fee on purchases).
  fees: { payee: { flat: '1', rounding: 'half-up' } },
  customers: [
    ...ATMS.map((t, i) => ({ name: `Bank ATM ${i + 1}`, accountId: t.account, msisdn: t.msisdn, balance: '500' })),
    ...POSES.map((t, i) => ({ name: `Hardware Shop ${i + 1}`, accountId: t.account, msisdn: t.msisdn })),
  ],
  // Short enough that the timeout cases stay quick, long enough for ten terminals at once on PostgreSQL.
  timeouts: { requestToPayMs: 3_000, partyMs: 1_500 },
}
const WALLET: Partial<DfspConfigInput> = {
  // 1.50 for a cash-out, nothing for a purchase.
  fees: { withdrawal: { flat: '1.5', rounding: 'half-up' } },
  otp: { secret: 'wallet-otp-secret-0123456789abcdef0123', maxAttempts: 3, issueLimit: { max: 20 } },
  customers: [
    { name: 'Carol Achieng', msisdn: CAROL, balance: '1000' },
    { name: 'Dan Mugisha', msisdn: DAN, balance: '50' },
    ...[ESTHER, FRED, GRACE, HENRY, IVY, JANE, KATE, LEO].map((msisdn, i) => ({ name: `Customer ${i + 3}`, msisdn, balance: '300' })),
    ...CROWD.map((msisdn, i) => ({ name: `Crowd ${i}`, msisdn, balance: '200' })),
  ],
  timeouts: { quoteMs: 3_000 },
}

/** The total a customer pays: the amount, the bank's fee, and the wallet's fee on a cash-out. */
const cashOutDebit = (amountMinor: bigint): bigint => amountMinor + 100n + 150n
const purchaseDebit = (amountMinor: bigint): bigint => amountMinor + 100n
/** What the switch moves: the amount plus the bank's fee. */
const transferred = (amountMinor: bigint): bigint => amountMinor + 100n

const json = (value: unknown): string => JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? `${v}n` : v))
const wrong = (code: string): string => code.replace(/.$/, (d) => String((Number(d) + 1) % 10))

/** Polls until check passes (for what the wallet does just after the terminal has its answer). */
async function eventually(check: () => Promise<void>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await check()
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}

/** Raw ISO 8583 requests for what the virtual terminal's script cannot say (replays, repeats). */
function rawRequest(mti: string, terminalId: string, rrn: string, stan: string, amountMinor: bigint, extra: Iso8583Message['fields'] = {}): Iso8583Message {
  const now = new Date().toISOString()
  return {
    mti,
    fields: {
      processingCode: formatProcessingCode('cashWithdrawal'),
      amountTransaction: amountToField4(amountMinor),
      transmissionDateTime: now.slice(5, 7) + now.slice(8, 10) + now.slice(11, 13) + now.slice(14, 16) + now.slice(17, 19),
      stan,
      localTime: now.slice(11, 19).replaceAll(':', ''),
      localDate: now.slice(5, 10).replace('-', ''),
      rrn,
      terminalId,
      currencyCode: '840',
      ...extra,
    },
  }
}

/** Log fields whose six-digit values the terminal or the gateway chose in the open, none of them an OTP. */
const NOT_SECRET_SIX_DIGITS = /"(?:stan|localTime|processingCode|authId)":"[0-9A-Z]{6}"|AUTH=[0-9A-Z]{6};/g

/** A sink for a DFSP's pino logs, to show that no OTP reaches them. */
function memoryLogger(lines: string[]) {
  return pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString())
        done()
      },
    }),
  )
}

for (const kind of STORE_KINDS) {
  describe(`ATM and POS over ISO 8583/TCP through the switch on ${kind.name}`, { skip: kind.skip, timeout: 120_000 }, () => {
    let scheme: TerminalScheme
    const gatewayLog = new RecordingLogger()
    const dfspLog: string[] = []
    /** Every OTP a customer received or typed in this suite: none may appear in any log. */
    const codes = new Set<string>()
    /** The wallet's expected net position at the switch, in minor units (the bank's is its opposite). */
    let walletPosition = 0n

    const available = (dfsp: 'bank' | 'wallet', msisdn: string) => scheme.available(dfsp, msisdn)
    const code = async (msisdn: string): Promise<string> => {
      const found = await scheme.latestCode(msisdn)
      codes.add(found)
      return found
    }
    /** The customer asks the wallet for an OTP in advance (ATM, reference §7.2 step 0) and reads the SMS. */
    const askOtp = async (msisdn: string): Promise<string> => {
      const issued = await scheme.api('wallet', 'POST', `/customers/${msisdn}/otp`, {})
      assert.equal(issued.status, 201, json(issued.body))
      return code(msisdn)
    }
    const assertPositions = async (): Promise<void> => {
      assert.equal(await scheme.positionMinor('wallet'), walletPosition)
      assert.equal(await scheme.positionMinor('bank'), -walletPosition)
    }
    /** The customer's SMS: the newest is the payment notice (no code in it), after the OTP SMS. */
    const assertPaidSms = async (msisdn: string, debitMinor: bigint, otpSmsCount: number): Promise<void> => {
      await eventually(async () => {
        const sms = await scheme.sms('wallet', msisdn)
        assert.equal(sms.length, otpSmsCount + 1, json(sms))
        const [paid, ...older] = sms as [string, ...string[]]
        const shown = `${debitMinor / 100n}.${String(debitMinor % 100n).padStart(2, '0')}`
        assert.ok(paid.includes(`${shown} USD paid`), paid)
        assert.doesNotMatch(paid, OTP_IN_SMS)
        assert.ok(older.every((text) => OTP_IN_SMS.test(text)), json(older))
      })
    }
    const assertNothingMoved = async (msisdn: string, balanceMinor: bigint, terminalAccountMsisdn: string, accountMinor: bigint): Promise<void> => {
      assert.equal(await available('wallet', msisdn), balanceMinor)
      assert.equal(await available('bank', terminalAccountMsisdn), accountMinor)
      await assertPositions()
      assert.ok((await scheme.sms('wallet', msisdn)).every((text) => !text.includes('USD paid')))
    }

    before(async () => {
      scheme = await startTerminalScheme(kind, { bank: BANK, wallet: WALLET, terminals: TERMINALS, gatewayLogger: gatewayLog, dfspLogger: memoryLogger(dfspLog) })
    })

    after(async () => {
      await scheme?.close()
    })

    it('cashes out at an ATM: 0110 shows amount and fees, the OTP arrives by SMS, 0210 00 with a receipt; money, positions and SMS right', async () => {
      const terminal = await scheme.terminal(atm(1).terminalId)
      const quote = await terminal.cashOut({ msisdn: CAROL, amountMinor: 10_000n, currency: 'USD' })
      assert.ok(quote.approved, json(quote))
      assert.deepEqual(
        { amount: quote.amountMinor, fee: quote.feeMinor, total: quote.totalDebitMinor, currency: quote.currency, tries: quote.triesLeft },
        { amount: 10_000n, fee: 250n, total: 10_250n, currency: 'USD', tries: 3 },
      )
      // No code was asked for in advance: the wallet sent one by SMS with the challenge.
      const sms = await scheme.sms('wallet', CAROL)
      assert.equal(sms.length, 1)
      assert.match(sms[0] as string, OTP_IN_SMS)
      const otp = await code(CAROL)

      const done = await terminal.enterOtp(otp)
      assert.equal(done.outcome, 'APPROVED', json(done))
      assert.equal(done.responseCode, '00')
      if (done.outcome !== 'APPROVED') return
      assert.match(done.authId, /^[0-9A-Z]{6}$/)
      assert.equal(done.receipt.AMOUNT, '10000')
      assert.equal(done.receipt.FEE, '250')
      assert.equal(done.receipt.TOTAL, '10250')
      assert.equal(done.receipt.CURRENCY, 'USD')
      assert.equal(done.receipt.TERMINAL, atm(1).terminalId)
      assert.equal(done.receipt.AUTH, done.authId)
      walletPosition += transferred(10_000n)

      assert.equal(await available('wallet', CAROL), 100_000n - cashOutDebit(10_000n))
      assert.equal(await available('bank', atm(1).msisdn), ATM_FLOAT_MINOR + 10_000n)
      await assertPositions()
      const transfer = await adminCall(scheme.hub.adminUrl, 'GET', `/transfers/${done.receipt.TRANSFER}`)
      assert.deepEqual([transfer.body.state, transfer.body.payerFsp, transfer.body.payeeFsp, transfer.body.amount.amount], ['COMMITTED', 'wallet', 'bank', '101'])
      await assertPaidSms(CAROL, cashOutDebit(10_000n), 1)
      // The bank tells the ATM's owner, by SMS from its own outbox.
      await eventually(async () => assert.deepEqual((await scheme.sms('bank', atm(1).msisdn)).map((text) => /cash withdrawal of 100\.00 USD/.test(text)), [true]))
    })

    it('pays at a POS: purchase, OTP by SMS after the quote, approval with the receipt in field 63; merchant credited', async () => {
      const terminal = await scheme.terminal(pos(1).terminalId)
      const quote = await terminal.purchase({ msisdn: ESTHER, amountMinor: 2_500n, currency: 'USD' })
      assert.ok(quote.approved, json(quote))
      assert.deepEqual([quote.amountMinor, quote.feeMinor, quote.totalDebitMinor], [2_500n, 100n, 2_600n])
      const done = await terminal.enterOtp(await code(ESTHER))
      assert.equal(done.outcome, 'APPROVED', json(done))
      if (done.outcome !== 'APPROVED') return
      assert.equal(done.receipt.PAYEE, 'Hardware Shop 1')
      assert.equal(done.receipt.TERMINAL, pos(1).terminalId)
      assert.equal(done.receipt.AMOUNT, '2500')
      assert.equal(done.receipt.TOTAL, '2600')
      assert.equal(done.receipt.AUTH, done.authId)
      assert.match(done.receipt.RRN ?? '', /^\d{12}$/)
      assert.ok(!Number.isNaN(Date.parse(done.receipt.AT ?? '')))
      walletPosition += transferred(2_500n)

      assert.equal(await available('wallet', ESTHER), 30_000n - purchaseDebit(2_500n))
      assert.equal(await available('bank', pos(1).msisdn), 2_500n)
      await assertPositions()
      await assertPaidSms(ESTHER, purchaseDebit(2_500n), 1)
      // The merchant hears of the payment from its bank.
      await eventually(async () => {
        const merchantSms = await scheme.sms('bank', pos(1).msisdn)
        assert.equal(merchantSms.length, 1, json(merchantSms))
        assert.match(merchantSms[0] as string, /payment of 25\.00 USD received .* at Hardware Shop 1/)
      })
    })

    it('answers a wrong OTP with 55 and the tries left, then approves the right one (scripted customer)', async () => {
      const otp = await askOtp(FRED)
      const transcript = await runScript(await scheme.terminal(atm(2).terminalId), { kind: 'cashOut', purchase: { msisdn: FRED, amountMinor: 4_000n, currency: 'USD' }, otps: [wrong(otp), otp] })
      assert.equal(transcript.result, 'APPROVED', json(transcript))
      assert.deepEqual(transcript.otpResults[0], { outcome: 'RETRY', responseCode: '55', triesLeft: 2 })
      assert.equal(transcript.otpResults[1]?.outcome, 'APPROVED')
      walletPosition += transferred(4_000n)

      assert.equal(await available('wallet', FRED), 30_000n - cashOutDebit(4_000n))
      assert.equal(await available('bank', atm(2).msisdn), ATM_FLOAT_MINOR + 4_000n)
      await assertPositions()
      await assertPaidSms(FRED, cashOutDebit(4_000n), 1)
    })

    it('declines with 75 when the tries are exhausted, and the OTP is burnt: the same code fails on the next cash-out', async () => {
      const otp = await askOtp(GRACE)
      const terminal = await scheme.terminal(atm(3).terminalId)
      const transcript = await runScript(terminal, { kind: 'cashOut', purchase: { msisdn: GRACE, amountMinor: 3_000n, currency: 'USD' }, otps: [wrong(otp), wrong(otp), wrong(otp)] })
      assert.equal(transcript.result, 'DECLINED', json(transcript))
      assert.deepEqual(
        transcript.otpResults.map((r) => [r.responseCode, r.outcome === 'RETRY' ? r.triesLeft : undefined]),
        [['55', 2], ['55', 1], ['75', undefined]],
      )
      await assertNothingMoved(GRACE, 30_000n, atm(3).msisdn, ATM_FLOAT_MINOR)

      // The customer tries again with the code she has: the wallet issues a fresh one, and hers is wrong now.
      const again = await terminal.cashOut({ msisdn: GRACE, amountMinor: 3_000n, currency: 'USD' })
      assert.ok(again.approved, json(again))
      const fresh = await code(GRACE)
      const burnt = await terminal.enterOtp(otp)
      if (fresh !== otp) assert.deepEqual(burnt, { outcome: 'RETRY', responseCode: '55', triesLeft: 2 })
      assert.equal(await terminal.reverse(), '00', 'the customer walks away: the ATM cancels')
      await assertNothingMoved(GRACE, 30_000n, atm(3).msisdn, ATM_FLOAT_MINOR)
      assert.equal((await scheme.sms('wallet', GRACE)).length, 2, 'two codes sent, no payment notice')
    })

    it('declines an expired OTP', async () => {
      const otp = await askOtp(HENRY)
      const terminal = await scheme.terminal(atm(4).terminalId)
      const quote = await terminal.cashOut({ msisdn: HENRY, amountMinor: 2_000n, currency: 'USD' })
      assert.ok(quote.approved, json(quote))
      // The customer is slow: by the wallet's clock the 5-minute code has expired when it arrives.
      scheme.walletClock.offsetMs = 6 * 60_000
      let result: Awaited<ReturnType<VirtualTerminal['enterOtp']>>
      try {
        result = await terminal.enterOtp(otp)
      } finally {
        scheme.walletClock.offsetMs = 0
      }
      assert.deepEqual(result, { outcome: 'DECLINED', responseCode: '05' })
      // Declined for the code's age, not for anything else the clock moved (the wallet says why, without the code).
      assert.ok(dfspLog.some((line) => line.includes('"reason":"expired"')), 'the wallet found the OTP expired')
      await assertNothingMoved(HENRY, 30_000n, atm(4).msisdn, ATM_FLOAT_MINOR)
      // The transaction is over at the gateway too: another OTP for it is not taken.
      assert.equal((await terminal.enterOtp(otp)).responseCode, '12')
    })

    it('does not let a finished cash-out be replayed: same 0200 → the same answer, money moved once; its code on a new cash-out → 55', async () => {
      const otp = await askOtp(IVY)
      const terminal = await scheme.terminal(atm(5).terminalId)
      const rrn = '000000424242'
      const quoted = await terminal.send(rawRequest(MTI.authorizationRequest, atm(5).terminalId, rrn, '000101', 2_000n, { accountId1: IVY }))
      assert.equal(quoted.fields.responseCode, '00', json(quoted))
      const financial = rawRequest(MTI.financialRequest, atm(5).terminalId, rrn, '000102', 2_000n, { otp })
      const approved = await terminal.sendExact(financial)
      assert.equal(approved.fields.responseCode, '00', json(approved))
      assert.equal(decodeDisplayData(approved.fields.reservedPrivate63).AUTH, approved.fields.authId)
      walletPosition += transferred(2_000n)

      // The very same message again (a network replay): the remembered answer, nothing reaches the DFSP.
      const replayed = await terminal.sendExact(financial)
      assert.deepEqual([replayed.fields.responseCode, replayed.fields.authId], ['00', approved.fields.authId])
      // The same transaction under a new STAN: refused as a duplicate transmission.
      const resent = await terminal.send(rawRequest(MTI.financialRequest, atm(5).terminalId, rrn, '000103', 2_000n, { otp }))
      assert.equal(resent.fields.responseCode, '94')
      assert.equal(await available('wallet', IVY), 30_000n - cashOutDebit(2_000n))
      assert.equal(await available('bank', atm(5).msisdn), ATM_FLOAT_MINOR + 2_000n)
      await assertPositions()
      await assertPaidSms(IVY, cashOutDebit(2_000n), 1)

      // The used code on a new cash-out: the wallet sends a new code, and the old one counts as wrong.
      const next = await terminal.cashOut({ msisdn: IVY, amountMinor: 2_000n, currency: 'USD' })
      assert.ok(next.approved, json(next))
      const fresh = await code(IVY)
      const reused = await terminal.enterOtp(otp)
      if (fresh !== otp) assert.deepEqual(reused, { outcome: 'RETRY', responseCode: '55', triesLeft: 2 })
      assert.equal(await terminal.reverse(), '00')
      assert.equal(await available('wallet', IVY), 30_000n - cashOutDebit(2_000n))
      await assertPositions()
    })

    it('answers an unknown customer with 14', async () => {
      const terminal = await scheme.terminal(atm(1).terminalId)
      const quote = await terminal.cashOut({ msisdn: UNKNOWN, amountMinor: 1_000n, currency: 'USD' })
      assert.deepEqual([quote.approved, quote.responseCode], [false, '14'])
      assert.equal(await available('bank', atm(1).msisdn), ATM_FLOAT_MINOR + 10_000n)
      await assertPositions()
    })

    it('answers insufficient funds with 51, before and after the fees are known; no code is sent', async () => {
      const terminal = await scheme.terminal(atm(6).terminalId)
      const over = await terminal.cashOut({ msisdn: DAN, amountMinor: 6_000n, currency: 'USD' })
      assert.deepEqual([over.approved, over.responseCode], [false, '51'])
      // 49 + 1 + 1.50 > 50: short only once the quote's fees are in.
      const withFees = await terminal.cashOut({ msisdn: DAN, amountMinor: 4_900n, currency: 'USD' })
      assert.deepEqual([withFees.approved, withFees.responseCode], [false, '51'])
      await assertNothingMoved(DAN, 5_000n, atm(6).msisdn, ATM_FLOAT_MINOR)
      assert.deepEqual(await scheme.sms('wallet', DAN), [])
      assert.deepEqual(await scheme.sms('bank', atm(6).msisdn), [], 'no notice to the ATM owner either')
    })

    it('answers 91 when the payer DFSP takes the transaction request and never answers', async () => {
      // The wallet answers the look-up, then everything it sends is lost.
      scheme.holdWallet((request) => !request.path.startsWith('/parties'))
      try {
        const quote = await (await scheme.terminal(atm(7).terminalId)).cashOut({ msisdn: JANE, amountMinor: 1_000n, currency: 'USD' })
        assert.deepEqual([quote.approved, quote.responseCode], [false, '91'])
      } finally {
        scheme.holdWallet(undefined)
      }
      await assertNothingMoved(JANE, 30_000n, atm(7).msisdn, ATM_FLOAT_MINOR)
    })

    it('answers 91, not 14, when the payer DFSP does not answer at all (the look-up times out)', async () => {
      scheme.holdWallet(() => true)
      try {
        const quote = await (await scheme.terminal(atm(7).terminalId)).cashOut({ msisdn: KATE, amountMinor: 1_000n, currency: 'USD' })
        // A customer whose wallet is down is not an unknown customer: the terminal must say "try later".
        assert.deepEqual([quote.approved, quote.responseCode], [false, '91'])
      } finally {
        scheme.holdWallet(undefined)
      }
      await assertNothingMoved(KATE, 30_000n, atm(7).msisdn, ATM_FLOAT_MINOR)
    })

    it('refunds a committed cash-out on a reversal advice (0420 → REFUND transfer, 0430 00), once however often it is repeated', async () => {
      const committedBefore = (await adminCall(scheme.hub.adminUrl, 'GET', '/transfers?participant=bank&state=COMMITTED&limit=1000')).body as { payerFsp: string; amount: { amount: string } }[]
      const otp = await askOtp(LEO)
      const terminal = await scheme.terminal(atm(8).terminalId)
      const transcript = await runScript(terminal, { kind: 'cashOut', purchase: { msisdn: LEO, amountMinor: 5_000n, currency: 'USD' }, otps: [otp], failAfterApproval: true })
      assert.equal(transcript.result, 'REVERSED', json(transcript))
      assert.equal(transcript.otpResults[0]?.outcome, 'APPROVED')
      assert.equal(transcript.reversalResponseCode, '00')
      // The ATM repeats its advice (new STAN), and again as a repeat MTI 0421: acknowledged, not refunded again.
      assert.equal(await terminal.reverse(), '00')
      const rrn = transcript.quote.rrn
      const repeat = await terminal.send(rawRequest(MTI.reversalAdviceRepeat, atm(8).terminalId, rrn, '000777', 5_000n))
      assert.equal(repeat.fields.responseCode, '00', json(repeat))
      // The cash-out moved 51 to the bank; the refund gives the customer back all she paid: 52.50.
      walletPosition += transferred(5_000n) - cashOutDebit(5_000n)

      await eventually(async () => assert.equal(await available('wallet', LEO), 30_000n))
      assert.equal(await available('bank', atm(8).msisdn), ATM_FLOAT_MINOR + 5_000n - cashOutDebit(5_000n))
      await assertPositions()
      const committedAfter = (await adminCall(scheme.hub.adminUrl, 'GET', '/transfers?participant=bank&state=COMMITTED&limit=1000')).body as { payerFsp: string; amount: { amount: string } }[]
      const refunds = committedAfter.filter((t) => t.payerFsp === 'bank').length - committedBefore.filter((t) => t.payerFsp === 'bank').length
      assert.equal(refunds, 1, 'one REFUND transfer from the bank to the wallet')
      assert.ok(committedAfter.some((t) => t.payerFsp === 'bank' && toMinor(t.amount.amount) === cashOutDebit(5_000n)))
      const sms = await scheme.sms('wallet', LEO)
      assert.ok(sms.some((text) => text.includes('52.50 USD paid')), json(sms))
    })

    it('serves ten terminals at once, six ATMs and four POS, each with its own customer', async () => {
      const amounts = CROWD.map((_, i) => BigInt(1_000 + i * 100))
      const sessions = CROWD.map(async (msisdn, i) => {
        const amountMinor = amounts[i] as bigint
        if (i < 6) {
          const otp = await askOtp(msisdn)
          const terminal = await scheme.terminal(atm(9 + i).terminalId)
          return runScript(terminal, { kind: 'cashOut', purchase: { msisdn, amountMinor, currency: 'USD' }, otps: [otp] })
        }
        const terminal = await scheme.terminal(pos(i - 4).terminalId)
        const quote = await terminal.purchase({ msisdn, amountMinor, currency: 'USD' })
        assert.ok(quote.approved, json(quote))
        const result = await terminal.enterOtp(await code(msisdn))
        return { result: result.outcome, quote, otpResults: [result] }
      })
      const transcripts = await Promise.all(sessions)
      assert.deepEqual(
        transcripts.map((t) => t.result),
        CROWD.map(() => 'APPROVED'),
        json(transcripts),
      )
      for (const [i, msisdn] of CROWD.entries()) {
        const amountMinor = amounts[i] as bigint
        walletPosition += transferred(amountMinor)
        const debit = i < 6 ? cashOutDebit(amountMinor) : purchaseDebit(amountMinor)
        assert.equal(await available('wallet', msisdn), 20_000n - debit, msisdn)
        const account = i < 6 ? atm(9 + i).msisdn : pos(i - 4).msisdn
        assert.equal(await available('bank', account), (i < 6 ? ATM_FLOAT_MINOR : 0n) + amountMinor, account)
        await assertPaidSms(msisdn, debit, 1)
        await eventually(async () => assert.equal((await scheme.sms('bank', account)).length, 1, account))
      }
      await assertPositions()
    })

    it('never logs an OTP, and leaves every ledger consistent', async () => {
      assert.ok(codes.size >= 10)
      // A terminal's STAN (random start), its local time, the processing code and the approval code are
      // six characters too: one equal to an OTP by chance is not a leak (it failed CI once, a STAN 000103).
      const logged = (gatewayLog.text + dfspLog.join('')).replace(NOT_SECRET_SIX_DIGITS, '')
      assert.ok(gatewayLog.lines.length > 0)
      for (const otp of codes) assert.doesNotMatch(logged, new RegExp(`(?<![0-9A-Za-z])${otp}(?![0-9A-Za-z])`), 'an OTP in the logs')
      for (const handle of scheme.dfsps.values()) await handle.dfsp.idle()
      for (const opened of scheme.stores) {
        const report = await checkLedger(opened.store)
        assert.deepEqual(report.problems, [])
      }
      await assertPositions()
    })
  })
}
