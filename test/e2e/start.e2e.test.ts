// SPDX-License-Identifier: Apache-2.0
/**
 * The README's first command: `kivuko start` brings up the switch and both demo DFSPs as separate processes
 * on fresh SQLite files, a P2P payment works through them, a second start on the same data finds everything
 * in place, and SIGTERM stops all of them cleanly.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { describe, it } from 'node:test'
import { freeDemoPortBase, freePort } from '../support/ports.ts'
import { VirtualTerminal } from '../../src/channels/terminal/index.ts'

const KIVUKO = join(import.meta.dirname, '..', '..', 'bin', 'kivuko.js')

async function start(dataDir: string, env: Record<string, string>): Promise<{ stop: () => Promise<number | null>; ready: Record<string, string> }> {
  const child = spawn(process.execPath, [KIVUKO, 'start', '--store', dataDir], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  const ready = await new Promise<Record<string, string>>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('{"ready":"kivuko"')) resolve(JSON.parse(line) as Record<string, string>)
    })
    child.once('exit', (code) => reject(new Error(`kivuko start exited with ${code}`)))
  })
  return {
    ready,
    stop: () =>
      new Promise((resolve) => {
        child.removeAllListeners('exit')
        child.once('exit', (code) => resolve(code))
        child.kill('SIGTERM')
      }),
  }
}

async function get(url: string): Promise<any> {
  return (await fetch(url)).json()
}

async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: response.status, body: await response.json() }
}

describe('kivuko start', () => {
  it('runs the switch and two demo DFSPs, moves money between them, and restarts on its own data', { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kivuko-start-'))
    const env = {
      KIVUKO_LOG_LEVEL: 'error',
      KIVUKO_SWITCH_PORT: String(await freePort()),
      KIVUKO_ADMIN_PORT: String(await freePort()),
      KIVUKO_DEMO_PORT_BASE: String(await freeDemoPortBase()),
    }
    try {
      let running = await start(dataDir, env)
      const payment = { from: { msisdn: '256700000001' }, to: { idType: 'MSISDN', idValue: '256780000001' }, amount: '25', currency: 'USD', amountType: 'SEND' }
      const sent = await post(`${running.ready.bank}/send`, payment)
      assert.equal(sent.status, 200, JSON.stringify(sent.body))
      assert.equal(sent.body.currentState, 'COMMITTED')
      assert.equal((await get(`${running.ready.wallet}/customers/256780000001/balance`)).available, '325.00')
      assert.equal(await running.stop(), 0)

      running = await start(dataDir, env)
      assert.equal((await get(`${running.ready.bank}/customers/256700000001/balance`)).available, '975.00', 'balances survive a restart')
      const again = await post(`${running.ready.wallet}/send`, { ...payment, from: { msisdn: '256780000001' }, to: { idType: 'MSISDN', idValue: '256700000001' } })
      assert.equal(again.status, 200, JSON.stringify(again.body))
      const positions = await get(`${running.ready.adminUrl}/participants/bank/positions`)
      assert.equal(positions[0].value, '0')

      // ATM cash-out over ISO 8583: Carol asks her wallet for an OTP, reads the SMS, and withdraws 20 at the bank's ATM.
      assert.equal((await post(`${running.ready.wallet}/customers/256780000001/otp`, {})).status, 201)
      const { notifications } = await get(`${running.ready.wallet}/customers/256780000001/notifications`)
      const otp = /\b(\d{6})\b/.exec(notifications.at(-1).body)?.[1] as string
      assert.match(otp, /^\d{6}$/)
      const [host, port] = (running.ready.gateway as string).replace('tcp://', '').split(':')
      const atm = await VirtualTerminal.connect({ host: host as string, port: Number(port), terminalId: 'ATM00001' })
      try {
        const quote = await atm.cashOut({ msisdn: '256780000001', amountMinor: 2_000n, currency: 'USD' })
        assert.ok(quote.approved, JSON.stringify(quote, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)))
        assert.equal(quote.amountMinor, 2_000n)
        assert.equal(quote.feeMinor, 110n, 'the demo ATM fee: 1 + 0.5 %')
        const wrong = await atm.enterOtp(otp === '000000' ? '111111' : '000000')
        assert.equal(wrong.outcome, 'RETRY')
        const done = await atm.enterOtp(otp)
        assert.equal(done.outcome, 'APPROVED', JSON.stringify(done))
      } finally {
        await atm.close()
      }
      // Carol had 325 after the first payment and paid 25 back: 300, now less 20 and the 1.10 fee.
      assert.equal((await get(`${running.ready.wallet}/customers/256780000001/balance`)).available, '278.90')
      assert.equal(await running.stop(), 0)
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  it('with a hub key, gives each demo DFSP a JWS key, registers it, and they sign: the switch verifies every request', { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kivuko-start-jws-'))
    const hubKeyFile = join(dataDir, 'hub.pem')
    writeFileSync(hubKeyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }))
    const env = {
      KIVUKO_LOG_LEVEL: 'error',
      KIVUKO_SWITCH_PORT: String(await freePort()),
      KIVUKO_ADMIN_PORT: String(await freePort()),
      KIVUKO_DEMO_PORT_BASE: String(await freeDemoPortBase()),
      KIVUKO_HUB_JWS_KEY_FILE: hubKeyFile,
    }
    try {
      const running = await start(join(dataDir, 'data'), env)
      for (const id of ['bank', 'wallet']) {
        const registered = await get(`${running.ready.adminUrl}/participants/${id}/jwsKey`)
        assert.equal(registered.publicKey, readFileSync(join(dataDir, 'data', `${id}.jws-public.pem`), 'utf8'))
        assert.equal(statSync(join(dataDir, 'data', `${id}.jws-private.pem`)).mode & 0o077, 0, 'the private key is readable by its owner only')
      }
      // The switch refuses unsigned requests from a participant whose key it holds (3105), so these
      // payments, both ways, show that both DFSPs sign what they send.
      const payment = { from: { msisdn: '256700000001' }, to: { idType: 'MSISDN', idValue: '256780000001' }, amount: '5', currency: 'USD', amountType: 'SEND' }
      const sent = await post(`${running.ready.bank}/send`, payment)
      assert.deepEqual([sent.status, sent.body.currentState], [200, 'COMMITTED'], JSON.stringify(sent.body))
      const back = await post(`${running.ready.wallet}/send`, { ...payment, from: { msisdn: '256780000001' }, to: { idType: 'MSISDN', idValue: '256700000001' } })
      assert.deepEqual([back.status, back.body.currentState], [200, 'COMMITTED'], JSON.stringify(back.body))
      assert.equal(await running.stop(), 0)
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
