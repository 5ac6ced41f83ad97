// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { runScript } from '../../src/channels/terminal/index.ts'
import { frame, FrameDecoder, Iso8583Codec, type Iso8583Message } from '../../src/channels/terminal/iso8583/index.ts'
import { crowdMsisdn, crowdOtp, KES_CUSTOMER, startHarness, type Harness } from './support.ts'

const codec = new Iso8583Codec()
const kes = (msisdn: string) => ({ msisdn, amountMinor: 10_000n, currency: 'KES' })

/** A bare TCP client that sends any bytes and collects whatever comes back. */
async function rawClient(port: number): Promise<{ socket: Socket; responses: Iso8583Message[]; closed: Promise<void>; next(): Promise<Iso8583Message> }> {
  const socket = connect({ host: '127.0.0.1', port })
  await once(socket, 'connect')
  const decoder = new FrameDecoder()
  const responses: Iso8583Message[] = []
  const waiting: ((message: Iso8583Message) => void)[] = []
  socket.on('data', (chunk: Buffer) => {
    for (const bytes of decoder.push(chunk)) {
      const message = codec.unpack(bytes)
      const waiter = waiting.shift()
      if (waiter === undefined) responses.push(message)
      else waiter(message)
    }
  })
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  return {
    socket,
    responses,
    closed,
    next: () => {
      const ready = responses.shift()
      return ready !== undefined ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve))
    },
  }
}

/** How long a test waits before it calls something a hang: generous, so that a slow machine never fails it. */
const HANG_MS = 30_000

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const hang = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)
  })
  return Promise.race([promise, hang]).finally(() => clearTimeout(timer))
}

describe('terminal gateway over TCP: concurrency and duplicates', () => {
  let harness: Harness
  before(async () => {
    harness = await startHarness({ customers: 20 })
  })
  after(() => harness.close())

  it('serves 20 terminals at once, each its own flow', async () => {
    const transcripts = await Promise.all(
      Array.from({ length: 20 }, async (_, index) => {
        const atm = await harness.terminal(`ATM${String(index + 1).padStart(5, '0')}`)
        // Every third customer mistypes first, so flows interleave differently.
        const otps = index % 3 === 0 ? ['000000', crowdOtp(index)] : [crowdOtp(index)]
        return runScript(atm, { kind: 'cashOut', purchase: { msisdn: crowdMsisdn(index), amountMinor: BigInt(1_000 + index), currency: 'KES' }, otps })
      }),
    )
    transcripts.forEach((transcript, index) => {
      assert.equal(transcript.result, 'APPROVED', `terminal ${index + 1}`)
      const approved = transcript.otpResults.at(-1)
      assert.ok(approved !== undefined && approved.outcome === 'APPROVED')
      assert.equal(approved.receipt.AMOUNT, String(1_000 + index))
      assert.equal(approved.receipt.TERMINAL, `ATM${String(index + 1).padStart(5, '0')}`)
    })
    const requests = harness.payee.calls.filter((call) => call.method === 'requestToPay')
    assert.equal(new Set(requests.map((call) => call.method === 'requestToPay' && call.request.payer.idValue)).size, 20)
  })

  it('answers 94 to a second request from a terminal with one in flight, and completes the first', async () => {
    let release = (): void => {}
    harness.payee.gate = new Promise((resolve) => (release = resolve))
    try {
      const first = await harness.terminal('ATM00021')
      const second = await harness.terminal('ATM00021')
      const quoted = first.cashOut(kes(KES_CUSTOMER.msisdn))
      await waitFor(() => harness.payee.calls.some((call) => call.method === 'requestToPay' && call.request.payee.idValue === 'ATM00021'))
      const refused = await second.cashOut(kes(KES_CUSTOMER.msisdn))
      assert.equal(refused.responseCode, '94')
      release()
      assert.equal((await quoted).responseCode, '00')
      assert.equal(harness.payee.calls.filter((call) => call.method === 'requestToPay' && call.request.payee.idValue === 'ATM00021').length, 1)
    } finally {
      harness.payee.gate = undefined
      release()
    }
  })

  it('resends the previous response to a duplicate STAN/RRN and calls the DFSP once', async () => {
    const atm = await harness.terminal('ATM00022')
    const before = harness.payee.count('requestToPay')
    const request: Iso8583Message = {
      mti: '0100',
      fields: {
        processingCode: '010000',
        amountTransaction: '000000010000',
        stan: '000777',
        rrn: '600000000777',
        terminalId: 'ATM00022',
        currencyCode: '404',
        accountId1: KES_CUSTOMER.msisdn,
      },
    }
    const original = await atm.sendExact(request)
    const repeat = await atm.sendExact({ ...request, mti: '0101' })
    const again = await atm.sendExact(request)
    assert.equal(original.fields.responseCode, '00')
    assert.deepEqual(codec.pack(again), codec.pack(original))
    assert.deepEqual(repeat.fields, original.fields)
    assert.equal(harness.payee.count('requestToPay'), before + 1)

    // The OTP message repeated after approval: the same 0210 00, one authorization.
    const otpRequest: Iso8583Message = { mti: '0200', fields: { ...request.fields, stan: '000778', accountId1: undefined, otp: KES_CUSTOMER.otp } }
    const authorizationsBefore = harness.payee.count('authorize')
    const approved = await atm.sendExact(otpRequest)
    const duplicate = await atm.sendExact(otpRequest)
    assert.equal(approved.fields.responseCode, '00')
    assert.deepEqual(duplicate.fields, approved.fields)
    assert.equal(harness.payee.count('authorize'), authorizationsBefore + 1)
  })

  it('gives a duplicate of a request still in flight the same response, with one DFSP call', async () => {
    let release = (): void => {}
    harness.payee.gate = new Promise((resolve) => (release = resolve))
    try {
      const client = await rawClient(harness.port)
      const before = harness.payee.count('requestToPay')
      const request: Iso8583Message = {
        mti: '0100',
        fields: { processingCode: '010000', amountTransaction: '000000005000', stan: '000901', rrn: '600000000901', terminalId: 'ATM00023', currencyCode: '404', accountId1: KES_CUSTOMER.msisdn },
      }
      client.socket.write(codec.packFrame(request))
      await waitFor(() => harness.payee.count('requestToPay') === before + 1)
      client.socket.write(codec.packFrame(request))
      await new Promise((resolve) => setTimeout(resolve, 20))
      release()
      const [first, second] = [await client.next(), await client.next()]
      assert.equal(first.fields.responseCode, '00')
      assert.deepEqual(second.fields, first.fields)
      assert.equal(harness.payee.count('requestToPay'), before + 1)
      client.socket.destroy()
    } finally {
      harness.payee.gate = undefined
      release()
    }
  })
})

describe('terminal gateway over TCP: hostile input, idle connections and logs', () => {
  let harness: Harness
  before(async () => {
    harness = await startHarness({ idleTimeoutMs: 300 })
  })
  after(() => harness.close())

  it('answers an undecodable request whose MTI it can read with response code 30', async () => {
    const client = await rawClient(harness.port)
    client.socket.write(frame(Buffer.from('0200ZZZZ-not-a-bitmap-at-all', 'latin1')))
    const response = await within(client.next(), HANG_MS, 'a format-error response')
    assert.deepEqual(response, { mti: '0210', fields: { responseCode: '30' } })
    // The connection stays usable.
    client.socket.write(codec.packFrame({ mti: '0800', fields: { stan: '000001', networkManagementCode: '301' } }))
    assert.equal((await within(client.next(), HANG_MS, 'an echo response')).fields.responseCode, '00')
    client.socket.destroy()
  })

  it('answers a decodable request without STAN, RRN or terminal id with 30', async () => {
    const client = await rawClient(harness.port)
    client.socket.write(codec.packFrame({ mti: '0100', fields: { processingCode: '010000', amountTransaction: '000000000100' } }))
    assert.equal((await within(client.next(), HANG_MS, 'a response')).fields.responseCode, '30')
    client.socket.destroy()
  })

  it('closes the connection when no MTI can be read, or the length header is absurd', async () => {
    const unreadable = await rawClient(harness.port)
    unreadable.socket.write(frame(Buffer.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8])))
    await within(unreadable.closed, HANG_MS, 'closing after an unreadable MTI')
    const absurd = await rawClient(harness.port)
    absurd.socket.write(Buffer.from([0xff, 0xff, 0x41, 0x41]))
    await within(absurd.closed, HANG_MS, 'closing after an absurd length')
    const tiny = await rawClient(harness.port)
    tiny.socket.write(Buffer.from([0x00, 0x01, 0x41]))
    await within(tiny.closed, HANG_MS, 'closing after a length below the minimum')
  })

  it('survives random bytes and random frames on many sockets and keeps serving terminals', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.uint8Array({ minLength: 10, maxLength: 300 }).map((body) => new Uint8Array(frame(body)))), async (bytes) => {
        const client = await rawClient(harness.port)
        client.socket.write(bytes)
        await new Promise((resolve) => setTimeout(resolve, 2))
        client.socket.destroy()
      }),
      { numRuns: 150 },
    )
    // Random frames whose MTI is a real request MTI: each gets a 30 or a well-formed answer.
    const client = await rawClient(harness.port)
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('0100', '0200', '0420', '0800'), fc.uint8Array({ minLength: 6, maxLength: 200 }), async (mti, body) => {
        client.socket.write(frame(Buffer.concat([Buffer.from(mti, 'latin1'), body])))
        const response = await within(client.next(), HANG_MS, `an answer to a random ${mti}`)
        assert.equal(response.mti.slice(0, 2), mti.slice(0, 2))
        assert.match(response.fields.responseCode ?? '', /^[0-9]{2}$/)
      }),
      { numRuns: 150 },
    )
    client.socket.destroy()
    const atm = await harness.terminal('ATM00030')
    const transcript = await runScript(atm, { kind: 'cashOut', purchase: kes(KES_CUSTOMER.msisdn), otps: [KES_CUSTOMER.otp] })
    assert.equal(transcript.result, 'APPROVED')
  })

  it('closes a connection that stays idle', async () => {
    const client = await rawClient(harness.port)
    const started = Date.now()
    await within(client.closed, HANG_MS, 'closing an idle connection')
    assert.ok(Date.now() - started >= 250, 'not before the idle timeout')
  })

  it('never writes the OTP to the logs, wrong or right', async () => {
    const wrongOtp = 'ZX9W8V'
    const atm = await harness.terminal('ATM00031')
    const transcript = await runScript(atm, { kind: 'cashOut', purchase: kes(KES_CUSTOMER.msisdn), otps: [wrongOtp, KES_CUSTOMER.otp] })
    assert.equal(transcript.result, 'APPROVED')
    const text = harness.logger.text
    assert.ok(text.includes('"otp":"******"'), 'the OTP field is logged, masked')
    assert.ok(!text.includes(wrongOtp), 'the wrong OTP is not in the logs')
    assert.ok(!text.includes(KES_CUSTOMER.otp), 'the right OTP is not in the logs')
  })
})

async function waitFor(condition: () => boolean, ms = HANG_MS): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}
