// SPDX-License-Identifier: Apache-2.0
/**
 * The gateway's QR code and RESEND mappings (gateway.ts header), on messages and over TCP against the
 * scripted payee DFSP: field 22 = 03x on a POS 0100 → authenticationType QRCODE, the scanned code in field
 * 62 as the OTP; a 0200 with ACTION=RESEND in field 63 → resend, answered 55 ACTION=RESEND;TRIES=n; the
 * virtual terminal's scripted and interactive modes for both.
 */
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import {
  decodeDisplayData,
  QR_POS_ENTRY_MODE,
  RESEND_STEP,
  runInteractiveTerminal,
  runScript,
  TerminalGateway,
  TerminalRegistry,
  TerminalServer,
} from '../../src/channels/terminal/index.ts'
import type { Iso8583Message } from '../../src/channels/terminal/iso8583/index.ts'
import { FakePayeeDfsp, KES_CUSTOMER, RecordingLogger, startHarness, terminalEntries, type Harness } from './support.ts'

/** A customer who pays by the QR code her wallet app shows (the fake compares it as it compares an OTP). */
const QR_CUSTOMER = { msisdn: '254700000009', otp: 'KQ7M3XQ0C9RZ4T8HNV', balanceMinor: 1_000_000n } as const

const pos = { processingCode: '000000', amountTransaction: '000000002550', rrn: '710000000001', terminalId: 'POS00001', currencyCode: '404' }
const atm = { processingCode: '010000', amountTransaction: '000000010000', rrn: '720000000001', terminalId: 'ATM00001', currencyCode: '404' }
const resendFields = { reservedPrivate63: 'ACTION=RESEND' }

function gatewayWith(payee: FakePayeeDfsp, logger = new RecordingLogger()): TerminalGateway {
  payee.customers.set(KES_CUSTOMER.msisdn, KES_CUSTOMER)
  payee.customers.set(QR_CUSTOMER.msisdn, QR_CUSTOMER)
  return new TerminalGateway({ registry: new TerminalRegistry(terminalEntries()), payee, logger })
}

const requested = (payee: FakePayeeDfsp) => payee.calls.flatMap((call) => (call.method === 'requestToPay' ? [call.request] : []))

describe('gateway: QR code on a POS (field 22)', () => {
  it('asks for QRCODE when field 22 says bar code reader (03x), and for OTP otherwise', async () => {
    const payee = new FakePayeeDfsp()
    const gateway = gatewayWith(payee)
    const cases: [string | undefined, 'OTP' | 'QRCODE'][] = [
      ['031', 'QRCODE'],
      ['032', 'QRCODE'],
      ['030', 'QRCODE'],
      ['012', 'OTP'],
      ['071', 'OTP'],
      [undefined, 'OTP'],
    ]
    for (const [index, [entryMode, expected]] of cases.entries()) {
      const rrn = `7100000001${String(index).padStart(2, '0')}`
      const response = await gateway.handle({
        mti: '0100',
        fields: { ...pos, rrn, stan: `00010${index}`, accountId1: QR_CUSTOMER.msisdn, ...(entryMode === undefined ? {} : { posEntryMode: entryMode }) },
      })
      assert.equal(response?.fields.responseCode, '00', `field 22 ${entryMode}`)
      assert.equal(requested(payee).at(-1)?.authenticationType, expected, `field 22 ${entryMode}`)
    }
  })

  it('answers an ATM that asks for a QR code with 58, without asking the DFSP', async () => {
    const payee = new FakePayeeDfsp()
    const gateway = gatewayWith(payee)
    const response = await gateway.handle({ mti: '0100', fields: { ...atm, stan: '000001', accountId1: KES_CUSTOMER.msisdn, posEntryMode: QR_POS_ENTRY_MODE } })
    assert.equal(response?.fields.responseCode, '58')
    assert.equal(payee.count('requestToPay'), 0)
  })

  it('takes the scanned code from field 62 as FSPIOP QRCODE: 1 to 64 printable characters, no spaces', async () => {
    const payee = new FakePayeeDfsp()
    const gateway = gatewayWith(payee)
    const quote: Iso8583Message = { mti: '0100', fields: { ...pos, stan: '000001', accountId1: QR_CUSTOMER.msisdn, posEntryMode: '031' } }
    assert.equal((await gateway.handle(quote))?.fields.responseCode, '00')
    const scan = (stan: string, code: string) => gateway.handle({ mti: '0200', fields: { ...pos, stan, posEntryMode: '031', otp: code } })
    assert.equal((await scan('000002', 'KQ 7M3X'))?.fields.responseCode, '30', 'a space is no QR code')
    assert.equal((await scan('000003', 'K'.repeat(65)))?.fields.responseCode, '30', 'longer than FSPIOP allows')
    assert.equal(payee.count('authorize'), 0, 'malformed codes cost the customer no try')
    // "RESEND" in field 62 is a (wrong) code, not a resend: the marker lives in field 63 only.
    const odd = await scan('000004', 'RESEND')
    assert.deepEqual([odd?.fields.responseCode, decodeDisplayData(odd?.fields.reservedPrivate63).TRIES], ['55', '2'])
    assert.equal(payee.count('resend'), 0)
    const symbols = await scan('000005', 'QR:abc-123/x?y=1')
    assert.equal(symbols?.fields.responseCode, '55')
    const approved = await scan('000006', QR_CUSTOMER.otp)
    assert.equal(approved?.fields.responseCode, '00')
    assert.equal(decodeDisplayData(approved?.fields.reservedPrivate63).PAYEE, 'Duka la Mama')
  })
})

describe('gateway: RESEND (0200 with ACTION=RESEND in field 63)', () => {
  const quote: Iso8583Message = { mti: '0100', fields: { ...atm, stan: '000001', accountId1: KES_CUSTOMER.msisdn } }

  it('asks the DFSP to resend and tells the terminal to prompt again, tries unchanged; the OTP then approves', async () => {
    const payee = new FakePayeeDfsp()
    const gateway = gatewayWith(payee)
    await gateway.handle(quote)
    const resent = await gateway.handle({ mti: '0200', fields: { ...atm, stan: '000002', ...resendFields } })
    assert.equal(resent?.mti, '0210')
    assert.equal(resent?.fields.responseCode, '55')
    assert.deepEqual(decodeDisplayData(resent?.fields.reservedPrivate63), { ACTION: 'RESEND', TRIES: '3' })
    assert.equal(resent?.fields.authId, undefined, 'no approval code: nothing was approved')
    assert.deepEqual(
      payee.calls.map((call) => call.method),
      ['requestToPay', 'resend'],
    )
    // The same message again (same STAN) is a duplicate: the same answer, no second resend.
    assert.deepEqual(await gateway.handle({ mti: '0200', fields: { ...atm, stan: '000002', ...resendFields } }), resent)
    assert.equal(payee.count('resend'), 1)
    assert.equal((await gateway.handle({ mti: '0200', fields: { ...atm, stan: '000003', otp: KES_CUSTOMER.otp } }))?.fields.responseCode, '00')
  })

  it('refuses a RESEND that also carries a code (30), and one for no quoted transaction (12)', async () => {
    const payee = new FakePayeeDfsp()
    const gateway = gatewayWith(payee)
    assert.equal((await gateway.handle({ mti: '0200', fields: { ...atm, stan: '000009', ...resendFields } }))?.fields.responseCode, '12')
    await gateway.handle(quote)
    assert.equal((await gateway.handle({ mti: '0200', fields: { ...atm, stan: '000002', otp: KES_CUSTOMER.otp, ...resendFields } }))?.fields.responseCode, '30')
    assert.equal(payee.count('resend') + payee.count('authorize'), 0)
  })

  it('declines with the mapped code when the payer FSP gives up on a resend, and takes no more codes', async () => {
    const payee = new FakePayeeDfsp()
    const gateway = gatewayWith(payee)
    await gateway.handle(quote)
    payee.resend = async (transactionRequestId) => ({ state: 'REJECTED', transactionRequestId, fspiopCode: '4101', reason: 'at most 5 OTPs may be issued per 15 minutes' })
    assert.equal((await gateway.handle({ mti: '0200', fields: { ...atm, stan: '000002', ...resendFields } }))?.fields.responseCode, '05')
    assert.equal((await gateway.handle({ mti: '0200', fields: { ...atm, stan: '000003', otp: KES_CUSTOMER.otp } }))?.fields.responseCode, '12')
  })

  it('answers 96 when the adapter fails on a resend, and then accepts no code for the transaction', async () => {
    const payee = new FakePayeeDfsp()
    const gateway = gatewayWith(payee)
    await gateway.handle(quote)
    payee.resend = () => Promise.reject(new Error('connection reset'))
    assert.equal((await gateway.handle({ mti: '0200', fields: { ...atm, stan: '000002', ...resendFields } }))?.fields.responseCode, '96')
    assert.equal((await gateway.handle({ mti: '0200', fields: { ...atm, stan: '000003', otp: KES_CUSTOMER.otp } }))?.fields.responseCode, '12')
  })

  it('lets a 0420 cancel the transaction after a resend', async () => {
    const payee = new FakePayeeDfsp()
    const gateway = gatewayWith(payee)
    await gateway.handle(quote)
    await gateway.handle({ mti: '0200', fields: { ...atm, stan: '000002', ...resendFields } })
    assert.equal((await gateway.handle({ mti: '0420', fields: { ...atm, stan: '000003' } }))?.fields.responseCode, '00')
    assert.equal(payee.calls.at(-1)?.method, 'reject')
  })
})

describe('virtual terminals over TCP: QR purchase and RESEND, scripted', () => {
  let harness: Harness
  before(async () => {
    harness = await startHarness()
    harness.payee.customers.set(QR_CUSTOMER.msisdn, QR_CUSTOMER)
  })
  after(() => harness.close())

  it('a POS pays by QR: 0100 with field 22 = 031, a wrong scan re-prompts (55), the right one approves', async () => {
    const terminal = await harness.terminal('POS00001')
    const transcript = await runScript(terminal, {
      kind: 'purchase',
      purchase: { msisdn: QR_CUSTOMER.msisdn, amountMinor: 2_550n, currency: 'KES', authentication: 'QRCODE' },
      otps: ['KQ0000000000000000', QR_CUSTOMER.otp],
    })
    assert.equal(transcript.result, 'APPROVED')
    assert.deepEqual(transcript.otpResults[0], { outcome: 'RETRY', responseCode: '55', triesLeft: 2 })
    assert.equal(transcript.otpResults.length, 2)
    const call = requested(harness.payee).at(-1)
    assert.deepEqual([call?.authenticationType, call?.scenario, call?.payee.idType], ['QRCODE', 'PAYMENT', 'BUSINESS'])
    const approved = transcript.otpResults[1]
    assert.ok(approved?.outcome === 'APPROVED')
    assert.deepEqual([approved.receipt.PAYEE, approved.receipt.AMOUNT], ['Duka la Mama', '2550'])
    // The scanned code went out masked in the gateway's logs, never in clear.
    assert.ok(!harness.logger.text.includes(QR_CUSTOMER.otp), 'the QR code is not in the logs')
    assert.ok(harness.logger.text.includes(`"otp":"${'*'.repeat(QR_CUSTOMER.otp.length)}"`), 'field 62 is logged masked')
    assert.ok(harness.logger.text.includes('"posEntryMode":"031"'))
  })

  it('an ATM customer presses R: RESENT with the tries left, then the OTP approves', async () => {
    const terminal = await harness.terminal('ATM00021')
    const transcript = await runScript(terminal, {
      kind: 'cashOut',
      purchase: { msisdn: KES_CUSTOMER.msisdn, amountMinor: 10_000n, currency: 'KES' },
      otps: ['000000', RESEND_STEP, KES_CUSTOMER.otp],
    })
    assert.equal(transcript.result, 'APPROVED')
    assert.deepEqual(
      transcript.steps.map((step) => [step.outcome, 'triesLeft' in step ? step.triesLeft : undefined]),
      [
        ['RETRY', 2],
        ['RESENT', 2],
        ['APPROVED', undefined],
      ],
    )
    assert.equal(transcript.otpResults.length, 2, 'otpResults holds the codes typed only')
    assert.equal(harness.payee.count('resend'), 1)
  })

  it('a resend the DFSP refuses ends the script DECLINED', async () => {
    const terminal = await harness.terminal('ATM00022')
    const resend = harness.payee.resend.bind(harness.payee)
    harness.payee.resend = async (id) => ({ state: 'REJECTED', transactionRequestId: id, fspiopCode: '2004', reason: 'timed out' })
    try {
      const transcript = await runScript(terminal, { kind: 'cashOut', purchase: { msisdn: KES_CUSTOMER.msisdn, amountMinor: 1_000n, currency: 'KES' }, otps: [RESEND_STEP, KES_CUSTOMER.otp] })
      assert.equal(transcript.result, 'DECLINED')
      assert.deepEqual(transcript.steps, [{ outcome: 'DECLINED', responseCode: '91' }])
    } finally {
      harness.payee.resend = resend
    }
  })
})

describe('interactive terminals: QR on the POS, R on the ATM', () => {
  async function session(kind: 'ATM' | 'POS', terminalId: string, lines: readonly string[]): Promise<{ screen: string; payee: FakePayeeDfsp }> {
    const payee = new FakePayeeDfsp()
    const server = new TerminalServer({ gateway: gatewayWith(payee), port: 0 })
    const { port } = await server.start()
    try {
      const input = new PassThrough()
      const output = new PassThrough()
      let screen = ''
      output.on('data', (chunk: Buffer) => (screen += chunk.toString('utf8')))
      input.end([...lines, 'q', ''].join('\n'))
      await runInteractiveTerminal({ host: '127.0.0.1', port, terminalId, kind, currency: 'KES', input, output })
      return { screen, payee }
    } finally {
      await server.stop()
    }
  }

  it('the POS asks OTP or QR; with QR it asks to scan, says a wrong scan was not accepted, then approves', async () => {
    const { screen, payee } = await session('POS', 'POS00001', [QR_CUSTOMER.msisdn, '25.50', '2', 'y', 'KQ0000000000000000', QR_CUSTOMER.otp])
    assert.match(screen, /Pay with \(1\) one-time password or \(2\) QR code from the wallet app\?/)
    assert.match(screen, /Scan the QR code in the customer's wallet app \(type or paste it; 3 tries left\)/)
    assert.match(screen, /QR code not accepted\./)
    assert.match(screen, /Approved\.\n {2}AMOUNT {4}2550/)
    assert.equal(requested(payee)[0]?.authenticationType, 'QRCODE')
  })

  it('the POS with the default choice pays by OTP', async () => {
    const { screen, payee } = await session('POS', 'POS00001', [KES_CUSTOMER.msisdn, '10', '', 'y', KES_CUSTOMER.otp])
    assert.match(screen, /One-time password \(3 tries left; R if the SMS did not come\)/)
    assert.match(screen, /Approved\./)
    assert.equal(requested(payee)[0]?.authenticationType, 'OTP')
  })

  it('the ATM customer types R: the code is sent again and the prompt comes back', async () => {
    const { screen, payee } = await session('ATM', 'ATM00001', [KES_CUSTOMER.msisdn, '100', 'y', 'R', KES_CUSTOMER.otp])
    assert.match(screen, /A new one-time password is on its way by SMS\./)
    assert.match(screen, /Approved: please take your cash\./)
    assert.equal(payee.count('resend'), 1)
  })
})
