// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ManualClock } from '../../core/clock.ts'
import { ConflictError } from '../../core/errors.ts'
import {
  NOTIFICATION_TRANSITIONS,
  NotificationOutbox,
  keepingSmsSender,
  nextNotificationState,
  type Notification,
  type NotificationEvent,
  type NotificationRepository,
  type NotificationState,
  type SmsSender,
} from './notifications.ts'

const EXPECTED: Record<NotificationState, Record<NotificationEvent, NotificationState | undefined>> = {
  PENDING: { sent: 'SENT', fail: 'FAILED' },
  SENT: { sent: undefined, fail: undefined },
  FAILED: { sent: undefined, fail: undefined },
}

describe('notification transition table', () => {
  assert.deepEqual(Object.keys(NOTIFICATION_TRANSITIONS).sort(), Object.keys(EXPECTED).sort())
  for (const [from, row] of Object.entries(EXPECTED) as [NotificationState, Record<NotificationEvent, NotificationState | undefined>][]) {
    for (const [event, to] of Object.entries(row) as [NotificationEvent, NotificationState | undefined][]) {
      it(`${from} --${event}--> ${to ?? 'ConflictError'}`, () => {
        if (to === undefined) assert.throws(() => nextNotificationState(from, event), ConflictError)
        else assert.equal(nextNotificationState(from, event), to)
      })
    }
  }
})

/** A repository in memory, enough for the outbox's own logic; the SQL one is tested in test/dfsp/otp.test.ts. */
function memoryRepo(rows: Notification[]): NotificationRepository {
  return {
    async insertNotification(n) {
      rows.push({ ...n, state: 'PENDING', error: null, updatedAtMs: n.createdAtMs })
    },
    async pendingNotifications(limit, ids) {
      return rows.filter((r) => r.state === 'PENDING' && (ids === undefined || ids.includes(r.notificationId))).slice(0, limit)
    },
    async updateNotification(id, from, to, error, nowMs) {
      const i = rows.findIndex((r) => r.notificationId === id && r.state === from)
      if (i < 0) return false
      rows[i] = { ...(rows[i] as Notification), state: to, error, updatedAtMs: nowMs }
      return true
    },
    async listNotifications(msisdn, limit) {
      return rows
        .filter((r) => msisdn === undefined || r.msisdn === msisdn)
        .reverse()
        .slice(0, limit)
    },
    async purgeBodies(beforeMs) {
      let n = 0
      rows.forEach((r, i) => {
        if (r.state !== 'PENDING' && r.body !== null && r.updatedAtMs <= beforeMs) {
          rows[i] = { ...r, body: null }
          n += 1
        }
      })
      return n
    },
  }
}

const aNotification = (overrides: Partial<Notification> = {}): Notification => ({
  notificationId: 'n1',
  customerId: 'c1',
  msisdn: '256700000001',
  channel: 'SMS',
  body: 'your code is 123456',
  state: 'PENDING',
  error: null,
  createdAtMs: 0,
  updatedAtMs: 0,
  ...overrides,
})

describe('NotificationOutbox', () => {
  it('marks what the keeping sender takes SENT and keeps the body readable', async () => {
    const rows = [aNotification()]
    const outbox = new NotificationOutbox(memoryRepo(rows), keepingSmsSender, new ManualClock())
    assert.deepEqual(await outbox.deliverPending(), { sent: 1, failed: 0 })
    const [row] = await outbox.listNotifications('256700000001')
    assert.equal(row?.state, 'SENT')
    assert.equal(row?.body, 'your code is 123456')
  })

  it('marks a refusal or a throw FAILED, keeps the reason, and logs ids only', async () => {
    const rows = [aNotification(), aNotification({ notificationId: 'n2' })]
    let calls = 0
    const sender: SmsSender = {
      async send() {
        calls += 1
        if (calls === 1) return { ok: false, error: 'gateway said no' }
        throw new Error('socket closed')
      },
    }
    const logged: object[] = []
    const logger = { debug() {}, info() {}, warn: (o: object) => logged.push(o), error() {} }
    const outbox = new NotificationOutbox(memoryRepo(rows), sender, new ManualClock(), logger)
    assert.deepEqual(await outbox.deliverPending(), { sent: 0, failed: 2 })
    assert.deepEqual(
      rows.map((r) => [r.state, r.error]),
      [
        ['FAILED', 'gateway said no'],
        ['FAILED', 'socket closed'],
      ],
    )
    assert.ok(!JSON.stringify(logged).includes('123456'), 'no body in the log')
  })

  it('enqueue writes a notice and delivers it at once; a sender failure marks it FAILED and does not throw', async () => {
    const rows: Notification[] = []
    const clock = new ManualClock()
    const outbox = new NotificationOutbox(memoryRepo(rows), keepingSmsSender, clock)
    const id = await outbox.enqueue({ customerId: 'm1', msisdn: '256700000003' }, 'payment received')
    assert.deepEqual(
      rows.map((r) => [r.notificationId, r.customerId, r.msisdn, r.state, r.body, r.createdAtMs]),
      [[id, 'm1', '256700000003', 'SENT', 'payment received', clock.nowMs()]],
    )
    const failing = new NotificationOutbox(memoryRepo(rows), { send: () => Promise.reject(new Error('down')) }, clock)
    await failing.enqueue({ customerId: 'm1', msisdn: '256700000004' }, 'second')
    assert.equal(rows[1]?.state, 'FAILED')
    // Every number's notices, newest first, when no number is given.
    assert.deepEqual(
      (await outbox.listNotifications(undefined)).map((n) => n.msisdn),
      ['256700000004', '256700000003'],
    )
  })

  it('purges bodies of delivered rows only after the given age', async () => {
    const clock = new ManualClock()
    const rows = [aNotification(), aNotification({ notificationId: 'n2', state: 'PENDING' })]
    const outbox = new NotificationOutbox(memoryRepo(rows), keepingSmsSender, clock)
    await outbox.deliverPending(1)
    assert.equal(await outbox.purgeBodies(60_000), 0)
    clock.advance(60_000)
    assert.equal(await outbox.purgeBodies(60_000), 1)
    assert.deepEqual(
      rows.map((r) => r.body),
      [null, 'your code is 123456'],
    )
  })
})
