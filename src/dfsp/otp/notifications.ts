// SPDX-License-Identifier: Apache-2.0
/**
 * A DFSP's notifications outbox: the payer side's OTPs and payment notices, the payee side's notices to the
 * merchant whose POS was paid. An OTP's row is written in the same transaction as the OTP, so a customer is
 * never told of something that was rolled back and nothing committed is left unannounced: a row still PENDING
 * after a crash is delivered by the next `deliverPending`. A notice of something already committed elsewhere
 * (a payment) is written on its own with `enqueue`, after that commit. Delivery goes
 * through the SmsSender port and is at least once: two deliverers racing may both send one row, and only one
 * of them records the outcome (compare-and-set from PENDING).
 *
 * A notification body may hold an OTP in clear, because it is the message to the customer. Bodies are
 * therefore never logged, never put into errors or error details, and may be purged once delivered
 * (`purgeBodies`). Only ids and states are logged here.
 */
import { randomBytes } from 'node:crypto'
import { ConflictError } from '../../core/errors.ts'
import type { Clock } from '../../core/clock.ts'
import type { DfspLogger } from '../ports.ts'

/** PENDING: written, not yet handed to the sender · SENT: the sender took it · FAILED: the sender refused it. */
export type NotificationState = 'PENDING' | 'SENT' | 'FAILED'
export type NotificationEvent = 'sent' | 'fail'

export const NOTIFICATION_TRANSITIONS: { readonly [S in NotificationState]: Partial<Record<NotificationEvent, NotificationState>> } = {
  PENDING: { sent: 'SENT', fail: 'FAILED' },
  SENT: {},
  FAILED: {},
}

export function nextNotificationState(from: NotificationState, event: NotificationEvent): NotificationState {
  const to = NOTIFICATION_TRANSITIONS[from][event]
  if (to === undefined) throw new ConflictError(`a notification cannot ${event} from ${from}`, { from, event })
  return to
}

export interface Notification {
  readonly notificationId: string
  readonly customerId: string
  readonly msisdn: string
  readonly channel: 'SMS'
  /** The text sent; may hold an OTP, so it is never logged. Null once purged. */
  readonly body: string | null
  readonly state: NotificationState
  /** Why the sender refused it, for FAILED rows. */
  readonly error: string | null
  readonly createdAtMs: number
  readonly updatedAtMs: number
}

/** A notification as it is written: PENDING, to be handed to the sender after its transaction commits. */
export interface NotificationInsert {
  readonly notificationId: string
  readonly customerId: string
  readonly msisdn: string
  readonly channel: 'SMS'
  readonly body: string
  readonly createdAtMs: number
}

export interface SmsMessage {
  readonly notificationId: string
  readonly msisdn: string
  readonly body: string
}

export type SmsResult = { readonly ok: true } | { readonly ok: false; readonly error: string }

/** Delivers one SMS: an SMPP or HTTP gateway in production. A throw counts as a failure. */
export interface SmsSender {
  send(message: SmsMessage): Promise<SmsResult>
}

/**
 * The default sender: it sends nothing and reports success, so the row becomes SENT and its body stays
 * readable through `listNotifications(msisdn)`. That is how the demo and the tests read the code.
 */
export const keepingSmsSender: SmsSender = {
  async send() {
    return { ok: true }
  },
}

export interface NotificationRepository {
  /** Writes one PENDING notification in a transaction of its own. */
  insertNotification(notification: NotificationInsert): Promise<void>
  /** PENDING rows, oldest first; only those among `ids` when given. */
  pendingNotifications(limit: number, ids?: readonly string[]): Promise<Notification[]>
  /** Compare-and-set from `from`: false when another deliverer moved the row first. */
  updateNotification(notificationId: string, from: NotificationState, to: NotificationState, error: string | null, nowMs: number): Promise<boolean>
  /** A phone number's notifications (every one's when undefined), newest first. */
  listNotifications(msisdn: string | undefined, limit: number): Promise<Notification[]>
  /** Sets the body of SENT and FAILED rows last changed at or before `beforeMs` to null; answers how many. */
  purgeBodies(beforeMs: number): Promise<number>
}

export interface DeliveryReport {
  readonly sent: number
  readonly failed: number
}

export class NotificationOutbox {
  readonly #repo: NotificationRepository
  readonly #sender: SmsSender
  readonly #clock: Clock
  readonly #logger: DfspLogger | undefined

  constructor(repo: NotificationRepository, sender: SmsSender, clock: Clock, logger?: DfspLogger) {
    this.#repo = repo
    this.#sender = sender
    this.#clock = clock
    this.#logger = logger
  }

  /**
   * Hands PENDING notifications to the sender, oldest first: the ones named, or any. It runs outside every
   * store transaction (the sender is slow, and on SQLite a transaction must not wait on another).
   */
  async deliverPending(limit = 100, ids?: readonly string[]): Promise<DeliveryReport> {
    let sent = 0
    let failed = 0
    for (const row of await this.#repo.pendingNotifications(limit, ids)) {
      if (row.body === null) continue
      let result: SmsResult
      try {
        result = await this.#sender.send({ notificationId: row.notificationId, msisdn: row.msisdn, body: row.body })
      } catch (error) {
        // The error's text is kept, never the body; a sender must not put the body into its errors.
        result = { ok: false, error: error instanceof Error ? error.message : 'the SMS sender failed' }
      }
      const to = nextNotificationState(row.state, result.ok ? 'sent' : 'fail')
      const changed = await this.#repo.updateNotification(row.notificationId, row.state, to, result.ok ? null : result.error.slice(0, 500), this.#clock.nowMs())
      if (!changed) continue
      if (result.ok) sent += 1
      else {
        failed += 1
        this.#logger?.warn({ notificationId: row.notificationId }, 'SMS notification failed')
      }
    }
    return { sent, failed }
  }

  /**
   * Writes an SMS to a customer and hands it to the sender at once (a failure leaves it PENDING for the next
   * `deliverPending`). For notices that hold no secret and follow a commit made elsewhere. Answers its id.
   */
  async enqueue(to: { readonly customerId: string; readonly msisdn: string }, body: string): Promise<string> {
    const notificationId = randomBytes(16).toString('hex')
    await this.#repo.insertNotification({ notificationId, customerId: to.customerId, msisdn: to.msisdn, channel: 'SMS', body, createdAtMs: this.#clock.nowMs() })
    try {
      await this.deliverPending(1, [notificationId])
    } catch (error) {
      this.#logger?.warn({ notificationId, err: error instanceof Error ? error.message : String(error) }, 'notification not delivered yet')
    }
    return notificationId
  }

  /** A phone number's notifications (every one's when undefined), newest first, bodies included: for the demo and tests. */
  listNotifications(msisdn: string | undefined, limit = 50): Promise<Notification[]> {
    return this.#repo.listNotifications(msisdn, limit)
  }

  /** Drops the text of notifications delivered (or failed) more than `olderThanMs` ago. */
  purgeBodies(olderThanMs: number): Promise<number> {
    return this.#repo.purgeBodies(this.#clock.nowMs() - olderThanMs)
  }
}
