// SPDX-License-Identifier: Apache-2.0
/**
 * OTP challenges and the SMS outbox of the payer DFSP on real stores, SQLite and PostgreSQL: issue, verify,
 * expiry, lockout, amount binding, replay, resend, rate limit, durability of attempts, and two concurrent
 * verifies of one code.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { ManualClock } from '../../src/core/clock.ts'
import { ConflictError, NotFoundError, RejectedError } from '../../src/core/errors.ts'
import { NotificationOutbox, keepingSmsSender, type SmsSender } from '../../src/dfsp/otp/notifications.ts'
import { OtpService, resolveOtpConfig, type OtpConfigInput } from '../../src/dfsp/otp/otp.ts'
import type { Customer } from '../../src/dfsp/ports.ts'
import { openStore, type Store } from '../../src/store/open-store.ts'
import { SqlDfspRepository } from '../../src/store/dfsp/dfsp-repo.ts'
import { SqlOtpRepository } from '../../src/store/dfsp/otp-repo.ts'
import { STORE_KINDS, type TestStore } from '../support/stores.ts'

const DFSP = 'payerfsp'
const SECRET = 'payerfsp-otp-secret-0123456789abcdef'
const MSISDN = '256700000001'
const OTHER_MSISDN = '256700000002'

const aCustomer = (overrides: Partial<Customer> = {}): Customer => ({
  customerId: 'a11ce00000000001',
  msisdn: MSISDN,
  accountId: null,
  name: 'Alice Nakato',
  firstName: null,
  middleName: null,
  lastName: null,
  dateOfBirth: null,
  currency: 'USD',
  walletAccountId: 'payerfsp:wallet:a11ce00000000001',
  createdAtMs: 0,
  ...overrides,
})

interface Bank {
  readonly service: OtpService
  readonly repo: SqlOtpRepository
  readonly outbox: NotificationOutbox
}

function bank(store: Store, clock: ManualClock, config: Partial<OtpConfigInput> = {}, sender: SmsSender = keepingSmsSender): Bank {
  const repo = new SqlOtpRepository(store, DFSP)
  const outbox = new NotificationOutbox(repo, sender, clock)
  const service = new OtpService({ dfspId: DFSP, config: resolveOtpConfig({ secret: SECRET, ...config }), repo, outbox, clock })
  return { service, repo, outbox }
}

for (const kind of STORE_KINDS) {
  describe(`payer DFSP OTPs on ${kind.name}`, { skip: kind.skip }, () => {
    let opened: TestStore
    let clock: ManualClock
    let alice: Customer
    let b: Bank

    beforeEach(async () => {
      opened = await kind.open()
      clock = new ManualClock()
      const customers = new SqlDfspRepository(opened.store, DFSP)
      alice = aCustomer()
      assert.equal(await customers.insertCustomer(alice), 'inserted')
      assert.equal(await customers.insertCustomer(aCustomer({ customerId: 'b0b0000000000002', msisdn: OTHER_MSISDN, walletAccountId: 'w2' })), 'inserted')
      b = bank(opened.store, clock)
    })

    afterEach(async () => {
      await opened.close()
    })

    /** The code, as the customer reads it from the SMS the issue sent. */
    async function codeOf(notificationId: string, msisdn = MSISDN): Promise<string> {
      const sms = (await b.service.listNotifications(msisdn)).find((n) => n.notificationId === notificationId)
      assert.ok(sms !== undefined && sms.body !== null, 'the SMS was kept')
      const match = /code is ([0-9]+)\./.exec(sms.body)
      assert.ok(match !== null)
      return match[1] as string
    }

    it('issues a 6-digit code by SMS, stores only its hash, and verifies it once', async () => {
      const issued = await b.service.issue(alice.customerId)
      assert.equal(issued.retriesLeft, 3)
      assert.equal(issued.expiresAtMs, clock.nowMs() + 300_000)
      const [sms] = await b.service.listNotifications(MSISDN)
      assert.equal(sms?.state, 'SENT')
      assert.equal(sms?.channel, 'SMS')
      assert.equal(sms?.customerId, alice.customerId)
      const code = await codeOf(issued.notificationId)
      assert.match(code, /^[0-9]{6}$/)

      // No column of the OTP table holds the code, in any form the store could render it.
      const rows = await opened.store.query('SELECT * FROM dfsp_otp')
      assert.equal(rows.length, 1)
      for (const value of Object.values(rows[0] as object)) assert.ok(!String(value).includes(code), 'the otp table never holds the code')
      assert.notEqual(rows[0]?.code_hash, code)

      assert.deepEqual(await b.service.verify(alice.customerId, code), { ok: true, otpId: issued.otpId })
      assert.deepEqual(await b.service.verify(alice.customerId, code), { ok: false, reason: 'used' }, 'a replay fails')
    })

    it('counts wrong attempts, answers retriesLeft, and locks at the limit', async () => {
      const issued = await b.service.issue(alice.customerId)
      const code = await codeOf(issued.notificationId)
      const wrong = code === '000000' ? '000001' : '000000'
      assert.deepEqual(await b.service.verify(alice.customerId, wrong), { ok: false, reason: 'wrong', retriesLeft: 2 })
      assert.equal((await b.service.findLive(alice.customerId))?.retriesLeft, 2)
      assert.deepEqual(await b.service.verify(alice.customerId, wrong), { ok: false, reason: 'wrong', retriesLeft: 1 })
      assert.deepEqual(await b.service.verify(alice.customerId, wrong), { ok: false, reason: 'wrong', retriesLeft: 0 })
      assert.deepEqual(await b.service.verify(alice.customerId, code), { ok: false, reason: 'locked' }, 'the right code is too late')
      assert.equal((await b.repo.listOtps(alice.customerId))[0]?.state, 'LOCKED')
    })

    it('keeps the attempt count across a restart of the process', async () => {
      const issued = await b.service.issue(alice.customerId)
      const code = await codeOf(issued.notificationId)
      const wrong = code === '1234' ? '4321' : '1234'
      assert.deepEqual(await b.service.verify(alice.customerId, wrong), { ok: false, reason: 'wrong', retriesLeft: 2 })
      // A new client and service on the same database, as after a crash: the count is where it was.
      const again = await openStore(opened.location)
      try {
        const restarted = bank(again, clock)
        assert.deepEqual(await restarted.service.verify(alice.customerId, wrong), { ok: false, reason: 'wrong', retriesLeft: 1 })
      } finally {
        await again.close()
      }
    })

    it('expires after its lifetime (ManualClock)', async () => {
      const issued = await b.service.issue(alice.customerId)
      const code = await codeOf(issued.notificationId)
      clock.advance(300_000 - 1)
      assert.ok((await b.service.findLive(alice.customerId)) !== undefined)
      clock.advance(1)
      assert.equal(await b.service.findLive(alice.customerId), undefined)
      assert.deepEqual(await b.service.verify(alice.customerId, code), { ok: false, reason: 'expired' })
      assert.deepEqual(await b.service.verify(alice.customerId, code), { ok: false, reason: 'expired' })
      assert.equal((await b.repo.listOtps(alice.customerId))[0]?.state, 'EXPIRED')
    })

    it('binds the code to an amount and currency', async () => {
      const issued = await b.service.issue(alice.customerId, { amountMinor: 10_200n, currency: 'USD' })
      const code = await codeOf(issued.notificationId)
      assert.deepEqual(await b.service.verify(alice.customerId, code, { amountMinor: 10_300n, currency: 'USD' }), { ok: false, reason: 'amount_mismatch', retriesLeft: 2 })
      assert.deepEqual(await b.service.verify(alice.customerId, code, { amountMinor: 10_200n, currency: 'EUR' }), { ok: false, reason: 'amount_mismatch', retriesLeft: 1 })
      assert.deepEqual(await b.service.verify(alice.customerId, code, { amountMinor: 10_200n, currency: 'USD' }), { ok: true, otpId: issued.otpId })
    })

    it('binds the code to a transaction request when issued for one', async () => {
      const issued = await b.service.issue(alice.customerId, { transactionRequestId: 'tr-1' })
      const code = await codeOf(issued.notificationId)
      assert.deepEqual(await b.service.verify(alice.customerId, code, { transactionRequestId: 'tr-2' }), { ok: false, reason: 'not_found' })
      assert.deepEqual(await b.service.verify(alice.customerId, code, { transactionRequestId: 'tr-1' }), { ok: true, otpId: issued.otpId })
      assert.equal((await b.repo.listOtps(alice.customerId))[0]?.usedFor, 'tr-1')
    })

    it('binds the code to its customer', async () => {
      const issued = await b.service.issue(alice.customerId)
      const code = await codeOf(issued.notificationId)
      assert.deepEqual(await b.service.verify('b0b0000000000002', code), { ok: false, reason: 'not_found' })
      assert.deepEqual(await b.service.verify('nobody', code), { ok: false, reason: 'not_found' })
      await assert.rejects(b.service.issue('nobody'), NotFoundError)
      assert.deepEqual(await b.service.verify(alice.customerId, code), { ok: true, otpId: issued.otpId })
    })

    it('resend supersedes the old code, keeps bindings and attempts, and is rate-limited', async () => {
      await assert.rejects(b.service.resend(alice.customerId), ConflictError, 'nothing to resend yet')
      const first = await b.service.issue(alice.customerId, { amountMinor: 500n, currency: 'USD', transactionRequestId: 'tr-9' })
      const oldCode = await codeOf(first.notificationId)
      const wrong = oldCode === '999999' ? '999998' : '999999'
      await b.service.verify(alice.customerId, wrong, { amountMinor: 500n, currency: 'USD', transactionRequestId: 'tr-9' })
      clock.advance(1_000)
      const second = await b.service.resend(alice.customerId)
      assert.equal(second.retriesLeft, 2, 'a resend buys no extra guesses')
      const newCode = await codeOf(second.notificationId)
      const states = (await b.repo.listOtps(alice.customerId)).map((o) => o.state)
      assert.deepEqual(states, ['SUPERSEDED', 'ISSUED'])
      const bound = { amountMinor: 500n, currency: 'USD', transactionRequestId: 'tr-9' }
      if (oldCode !== newCode) assert.deepEqual(await b.service.verify(alice.customerId, oldCode, bound), { ok: false, reason: 'wrong', retriesLeft: 1 })
      assert.deepEqual(await b.service.verify(alice.customerId, newCode, bound), { ok: true, otpId: second.otpId })

      // Two issued so far in this window; the limit is five.
      await b.service.issue(alice.customerId)
      await b.service.resend(alice.customerId)
      await b.service.resend(alice.customerId)
      await assert.rejects(b.service.resend(alice.customerId), (error: unknown) => error instanceof RejectedError && error.code === 'PAYER_REJECTION')
      await assert.rejects(b.service.issue(alice.customerId), RejectedError)
      clock.advance(15 * 60_000)
      await b.service.issue(alice.customerId)
    })

    it('cancel ends the live code', async () => {
      const issued = await b.service.issue(alice.customerId)
      const code = await codeOf(issued.notificationId)
      assert.equal(await b.service.cancel(alice.customerId), true)
      assert.equal(await b.service.cancel(alice.customerId), false)
      assert.deepEqual(await b.service.verify(alice.customerId, code), { ok: false, reason: 'not_found' })
    })

    it('two concurrent verifies of the right code: exactly one succeeds', async () => {
      for (let round = 0; round < 5; round += 1) {
        const issued = await b.service.issue(alice.customerId)
        const code = await codeOf(issued.notificationId)
        const results = await Promise.all([b.service.verify(alice.customerId, code), b.service.verify(alice.customerId, code)])
        assert.equal(results.filter((r) => r.ok).length, 1, JSON.stringify(results))
        assert.deepEqual(
          results.find((r) => !r.ok),
          { ok: false, reason: 'used' },
        )
        clock.advance(15 * 60_000)
      }
    })

    it('concurrent verifies through two clients (two processes) also succeed once', async () => {
      const other = await openStore(opened.location)
      try {
        const second = bank(other, clock)
        const issued = await b.service.issue(alice.customerId)
        const code = await codeOf(issued.notificationId)
        const results = await Promise.all([b.service.verify(alice.customerId, code), second.service.verify(alice.customerId, code)])
        assert.equal(results.filter((r) => r.ok).length, 1, JSON.stringify(results))
      } finally {
        await other.close()
      }
    })

    it('concurrent wrong attempts are each counted', async () => {
      const issued = await b.service.issue(alice.customerId, {})
      const code = await codeOf(issued.notificationId)
      const wrong = code === '000000' ? '000001' : '000000'
      const results = await Promise.all([1, 2, 3, 4].map(() => b.service.verify(alice.customerId, wrong)))
      assert.deepEqual(
        results.map((r) => (r.ok ? 'ok' : r.reason === 'wrong' ? `wrong:${r.retriesLeft}` : r.reason)).sort(),
        ['locked', 'wrong:0', 'wrong:1', 'wrong:2'],
      )
    })

    it('the outbox: a failing sender leaves FAILED rows, a crash before delivery leaves PENDING ones, bodies purge', async () => {
      const failing = bank(opened.store, clock, {}, { send: async () => ({ ok: false, error: 'gateway down' }) })
      const issued = await failing.service.issue(alice.customerId)
      const [failed] = await failing.service.listNotifications(MSISDN)
      assert.deepEqual([failed?.notificationId, failed?.state, failed?.error], [issued.notificationId, 'FAILED', 'gateway down'])

      // A crash between the commit and the delivery leaves the row PENDING: the next run delivers it. The row
      // is put back to PENDING by hand, as a process that died after its commit would have left it.
      const throwing = bank(opened.store, clock, {}, { send: async () => Promise.reject(new Error('process died')) })
      clock.advance(1_000)
      const second = await throwing.service.issue('b0b0000000000002')
      assert.equal((await b.service.listNotifications(OTHER_MSISDN))[0]?.error, 'process died')
      await opened.store.run("UPDATE dfsp_notification SET state = 'PENDING', error = NULL WHERE notification_id = ?", [second.notificationId])
      assert.deepEqual(await b.outbox.deliverPending(), { sent: 1, failed: 0 })
      assert.equal((await b.service.listNotifications(OTHER_MSISDN))[0]?.state, 'SENT')

      clock.advance(10 * 60_000)
      assert.equal(await b.outbox.purgeBodies(5 * 60_000), 2)
      const bodies = await opened.store.query('SELECT body FROM dfsp_notification')
      assert.deepEqual(
        bodies.map((r) => r.body),
        [null, null],
      )
    })

    it('QR codes: returned to the app, never sent, stored only as a hash, single use, bound to the customer', async () => {
      const issued = await b.service.issueQrCode(alice.customerId)
      assert.match(issued.code, /^KQ[0-9A-Z]{16}$/)
      assert.deepEqual([issued.retriesLeft, issued.expiresAtMs], [3, clock.nowMs() + 300_000])
      assert.deepEqual(await b.service.listNotifications(MSISDN), [], 'no SMS: the app draws the code')
      const rows = await opened.store.query('SELECT * FROM dfsp_otp')
      assert.equal(rows.length, 1)
      assert.equal(rows[0]?.kind, 'QRCODE')
      for (const value of Object.values(rows[0] as object)) assert.ok(!String(value).includes(issued.code), 'the otp table never holds the code')

      assert.deepEqual(await b.service.verify('b0b0000000000002', issued.code, {}, 'QRCODE'), { ok: false, reason: 'not_found' }, 'another customer cannot use it')
      assert.deepEqual(await b.service.verify(alice.customerId, issued.code, {}, 'OTP'), { ok: false, reason: 'not_found' }, 'it is no OTP')
      assert.deepEqual(await b.service.verify(alice.customerId, issued.code, { transactionRequestId: 'tr-qr' }, 'QRCODE'), { ok: true, otpId: issued.qrCodeId })
      assert.deepEqual(await b.service.verify(alice.customerId, issued.code, {}, 'QRCODE'), { ok: false, reason: 'used' }, 'a replay fails')
      assert.equal((await b.repo.listOtps(alice.customerId))[0]?.usedFor, 'tr-qr')
    })

    it('QR codes: same attempt limit, amount binding and lifetime as OTPs', async () => {
      const bound = await b.service.issueQrCode(alice.customerId, { amountMinor: 2_550n, currency: 'USD' })
      assert.deepEqual(await b.service.verify(alice.customerId, bound.code, { amountMinor: 2_551n, currency: 'USD' }, 'QRCODE'), { ok: false, reason: 'amount_mismatch', retriesLeft: 2 })
      assert.deepEqual(await b.service.verify(alice.customerId, 'KQ0000000000000000', { amountMinor: 2_550n, currency: 'USD' }, 'QRCODE'), { ok: false, reason: 'wrong', retriesLeft: 1 })
      assert.equal((await b.service.findLive(alice.customerId, 'QRCODE'))?.retriesLeft, 1)
      assert.deepEqual(await b.service.verify(alice.customerId, 'KQ0000000000000000', { amountMinor: 2_550n, currency: 'USD' }, 'QRCODE'), { ok: false, reason: 'wrong', retriesLeft: 0 })
      assert.deepEqual(await b.service.verify(alice.customerId, bound.code, { amountMinor: 2_550n, currency: 'USD' }, 'QRCODE'), { ok: false, reason: 'locked' })

      const later = await b.service.issueQrCode(alice.customerId)
      clock.advance(300_000)
      assert.equal(await b.service.findLive(alice.customerId, 'QRCODE'), undefined)
      assert.deepEqual(await b.service.verify(alice.customerId, later.code, {}, 'QRCODE'), { ok: false, reason: 'expired' })
      await assert.rejects(b.service.issueQrCode('nobody'), NotFoundError)
    })

    it('a live OTP and a live QR code live side by side; a new QR code supersedes only the old QR code', async () => {
      const otp = await b.service.issue(alice.customerId)
      const first = await b.service.issueQrCode(alice.customerId)
      const second = await b.service.issueQrCode(alice.customerId)
      const rows = await b.repo.listOtps(alice.customerId)
      assert.deepEqual(
        rows.map((o) => [o.kind, o.state, o.issueSeq]),
        [
          ['OTP', 'ISSUED', 1],
          ['QRCODE', 'SUPERSEDED', 2],
          ['QRCODE', 'ISSUED', 3],
        ],
      )
      if (first.code !== second.code) assert.deepEqual(await b.service.verify(alice.customerId, first.code, {}, 'QRCODE'), { ok: false, reason: 'wrong', retriesLeft: 2 })
      assert.equal(await b.service.cancel(alice.customerId, 'QRCODE'), true)
      assert.equal((await b.service.findLive(alice.customerId, 'QRCODE')), undefined)
      // The OTP is untouched by all of that.
      assert.deepEqual(await b.service.verify(alice.customerId, await codeOf(otp.notificationId)), { ok: true, otpId: otp.otpId })
      await assert.rejects(b.service.resend(alice.customerId), ConflictError, 'QR codes are not resent, and the OTP is used')
    })

    it('QR codes have their own issue limit, apart from OTPs', async () => {
      for (let i = 0; i < 5; i += 1) await b.service.issueQrCode(alice.customerId)
      await assert.rejects(b.service.issueQrCode(alice.customerId), (error: unknown) => error instanceof RejectedError && /QR codes/.test(error.message))
      await b.service.issue(alice.customerId)
      clock.advance(15 * 60_000)
      await b.service.issueQrCode(alice.customerId)
    })

    it('every number’s SMS, newest first, and notices written on their own (enqueue)', async () => {
      await b.service.issue(alice.customerId)
      clock.advance(1_000)
      await b.outbox.enqueue({ customerId: 'b0b0000000000002', msisdn: OTHER_MSISDN }, 'payment received')
      const all = await b.outbox.listNotifications(undefined)
      assert.deepEqual(
        all.map((n) => [n.msisdn, n.state]),
        [
          [OTHER_MSISDN, 'SENT'],
          [MSISDN, 'SENT'],
        ],
      )
      assert.equal(all[0]?.body, 'payment received')
      assert.equal((await b.outbox.listNotifications(undefined, 1)).length, 1)
    })

    it('honours the configured digits, lifetime and attempt limit', async () => {
      const custom = bank(opened.store, clock, { digits: 4, ttlMs: 60_000, maxAttempts: 1 })
      const issued = await custom.service.issue(alice.customerId)
      assert.equal(issued.retriesLeft, 1)
      assert.equal(issued.expiresAtMs, clock.nowMs() + 60_000)
      const code = await codeOf(issued.notificationId)
      assert.match(code, /^[0-9]{4}$/)
      const wrong = code === '0000' ? '0001' : '0000'
      assert.deepEqual(await custom.service.verify(alice.customerId, wrong), { ok: false, reason: 'wrong', retriesLeft: 0 })
      assert.deepEqual(await custom.service.verify(alice.customerId, code), { ok: false, reason: 'locked' })
    })
  })
}
