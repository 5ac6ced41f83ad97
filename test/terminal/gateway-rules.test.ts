// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { describe, it } from 'node:test'
import { ManualClock } from '../../src/core/clock.ts'
import {
  decodeDisplayData,
  encodeDisplayData,
  responseCodeForRejection,
  runInteractiveTerminal,
  TerminalGateway,
  TerminalRegistry,
  TerminalRegistryError,
  TerminalServer,
} from '../../src/channels/terminal/index.ts'
import type { Iso8583Message } from '../../src/channels/terminal/iso8583/index.ts'
import { FakePayeeDfsp, KES_CUSTOMER, RecordingLogger, terminalEntries } from './support.ts'

function gatewayWith(payee: FakePayeeDfsp, clock = new ManualClock()): TerminalGateway {
  payee.customers.set(KES_CUSTOMER.msisdn, KES_CUSTOMER)
  return new TerminalGateway({ registry: new TerminalRegistry(terminalEntries()), payee, clock, logger: new RecordingLogger() })
}

const base = { processingCode: '010000', amountTransaction: '000000010000', rrn: '700000000001', terminalId: 'ATM00001', currencyCode: '404' }
const quoteRequest: Iso8583Message = { mti: '0100', fields: { ...base, stan: '000001', accountId1: KES_CUSTOMER.msisdn } }
const otpRequest = (stan: string, otp: string): Iso8583Message => ({ mti: '0200', fields: { ...base, stan, otp } })

describe('terminal gateway rules', () => {
  it('lets a reversal advice wait for the 0200 in flight, then refunds what it committed', async () => {
    const payee = new FakePayeeDfsp()
    const gateway = gatewayWith(payee)
    assert.equal((await gateway.handle(quoteRequest))?.fields.responseCode, '00')
    let release = (): void => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    const authorize = payee.authorize.bind(payee)
    payee.authorize = async (id, otp) => {
      await gate
      return authorize(id, otp)
    }
    const approval = gateway.handle(otpRequest('000002', KES_CUSTOMER.otp))
    const reversal = gateway.handle({ mti: '0420', fields: { ...base, stan: '000003' } })
    // Anything else from the terminal meanwhile is refused.
    assert.equal((await gateway.handle(otpRequest('000004', KES_CUSTOMER.otp)))?.fields.responseCode, '94')
    release()
    assert.equal((await approval)?.fields.responseCode, '00')
    const reversed = await reversal
    assert.equal(reversed?.mti, '0430')
    assert.equal(reversed?.fields.responseCode, '00')
    assert.equal(payee.count('refund'), 1)
  })

  it('answers 96 when the DFSP adapter fails, and takes no more OTPs for that transaction', async () => {
    const payee = new FakePayeeDfsp()
    const gateway = gatewayWith(payee)
    await gateway.handle(quoteRequest)
    payee.authorize = () => Promise.reject(new Error('connection reset'))
    assert.equal((await gateway.handle(otpRequest('000002', KES_CUSTOMER.otp)))?.fields.responseCode, '96')
    assert.equal((await gateway.handle(otpRequest('000003', KES_CUSTOMER.otp)))?.fields.responseCode, '12')
  })

  it('forgets duplicates after the window: a late repeat of a quote is refused, not re-run', async () => {
    const payee = new FakePayeeDfsp()
    const clock = new ManualClock()
    const gateway = gatewayWith(payee, clock)
    await gateway.handle(quoteRequest)
    clock.advance(11 * 60_000)
    // The response is forgotten but the transaction (30 minutes) is not, and its RRN may not start another.
    assert.equal((await gateway.handle(quoteRequest))?.fields.responseCode, '94')
    assert.equal(payee.count('requestToPay'), 1)
  })

  it('does not answer responses sent to it, and answers a 1993 MTI with 30 and an unknown class with 12', async () => {
    const gateway = gatewayWith(new FakePayeeDfsp())
    assert.equal(await gateway.handle({ mti: '0110', fields: { responseCode: '00' } }), undefined)
    assert.deepEqual(await gateway.handle({ mti: '1200', fields: { stan: '000001' } }), { mti: '1210', fields: { stan: '000001', responseCode: '30' } })
    assert.equal((await gateway.handle({ mti: '0300', fields: { stan: '000001' } }))?.fields.responseCode, '12')
  })
})

describe('FSPIOP rejection → response code', () => {
  it('maps the reference §8.5 cases', () => {
    const first = { lastOtpTry: false }
    assert.equal(responseCodeForRejection('3204', 'party not found', first), '14')
    assert.equal(responseCodeForRejection('4001', '', first), '51')
    assert.equal(responseCodeForRejection('4100', 'Insufficient funds', first), '51')
    assert.equal(responseCodeForRejection('2004', 'timed out', first), '91')
    assert.equal(responseCodeForRejection('1001', 'unreachable', first), '91')
    assert.equal(responseCodeForRejection('4200', '', first), '61')
    assert.equal(responseCodeForRejection('3303', '', first), '68')
    assert.equal(responseCodeForRejection('4101', 'OTP tries exhausted', { lastOtpTry: true }), '75')
    assert.equal(responseCodeForRejection('4101', 'rejected', first), '05')
    assert.equal(responseCodeForRejection('5100', 'payee rejected', first), '05')
  })
})

describe('terminal registry', () => {
  it('gives an ATM its DEVICE identity and a POS its merchant BUSINESS identity, with field 49 numeric', () => {
    const registry = new TerminalRegistry(terminalEntries())
    const atm = registry.find('ATM00001')
    assert.deepEqual(atm?.payee, { idType: 'DEVICE', idValue: 'ATM00001', name: 'Kivuko ATM 1' })
    assert.equal(atm?.currency.numeric, '404')
    assert.equal(registry.find('POS00001')?.payee.idType, 'BUSINESS')
    assert.equal(registry.find('POS00001 ')?.payee.idValue, 'merchant-1001', 'field 41 padding is ignored')
    assert.equal(registry.find('NOSUCH'), undefined)
  })

  it('reports every bad entry at once', () => {
    assert.throws(
      () =>
        new TerminalRegistry([
          { terminalId: 'TOO-LONG-ID', type: 'ATM', currency: 'KES', name: 'x' },
          { terminalId: 'P1', type: 'POS', currency: 'KES', name: 'shop' },
          { terminalId: 'A1', type: 'ATM', currency: 'ZZZ', name: 'x' },
          { terminalId: 'A2', type: 'ATM', currency: 'KES', name: 'x' },
          { terminalId: 'A2', type: 'ATM', currency: 'KES', name: 'x' },
        ]),
      (error: unknown) => error instanceof TerminalRegistryError && error.problems.length === 4,
    )
  })
})

describe('field 63 display data', () => {
  it('round-trips pairs and keeps separators out of values', () => {
    const text = encodeDisplayData({ AMOUNT: '100', PAYEE: 'Shop; A=B', 'bad key': 'dropped' })
    assert.equal(text, 'AMOUNT=100;PAYEE=Shop  A B')
    assert.deepEqual(decodeDisplayData(text), { AMOUNT: '100', PAYEE: 'Shop  A B' })
  })
})

describe('interactive terminal', () => {
  it('runs a keyboard session: quote, wrong OTP, right OTP, receipt', async () => {
    const payee = new FakePayeeDfsp()
    const gateway = gatewayWith(payee)
    const server = new TerminalServer({ gateway, port: 0 })
    const { port } = await server.start()
    try {
      const input = new PassThrough()
      const output = new PassThrough()
      let screen = ''
      output.on('data', (chunk: Buffer) => (screen += chunk.toString('utf8')))
      input.end([KES_CUSTOMER.msisdn, '100.00', 'y', '000000', KES_CUSTOMER.otp, 'q', ''].join('\n'))
      await runInteractiveTerminal({ host: '127.0.0.1', port, terminalId: 'ATM00001', kind: 'ATM', currency: 'KES', input, output })
      assert.match(screen, /Amount 100\.00 KES, fee 1\.50 KES, your account is debited 101\.50 KES\./)
      assert.match(screen, /Wrong one-time password\./)
      assert.match(screen, /\(2 tries left[;)]/)
      assert.match(screen, /Approved: please take your cash\./)
    } finally {
      await server.stop()
    }
  })
})
