// SPDX-License-Identifier: Apache-2.0
/**
 * The payer DFSP's OTPs and notifications (migration 007) in the portable SQL subset, scoped by dfsp_id.
 * Every OTP operation runs in one transaction that first locks the customer's row (FOR UPDATE on
 * PostgreSQL; SQLite has one writer at a time), so one customer's issues and verifies never interleave;
 * state changes are also compare-and-set on state and attempts, and a partial unique index keeps at most one
 * ISSUED OTP per customer. The otp table never holds a code, only its HMAC. Notification bodies may hold a
 * code in clear: nothing here logs them or puts them into errors.
 */
import type { Notification, NotificationInsert, NotificationRepository, NotificationState } from '../../dfsp/otp/notifications.ts'
import type { ChallengeKind, OtpCustomer, OtpRecord, OtpRepository, OtpTx } from '../../dfsp/otp/otp.ts'
import type { OtpState } from '../../dfsp/otp/otp-state.ts'
import type { Row, SqlClient, SqlExecutor } from '../ports.ts'

const OTP_COLUMNS = `otp_id, customer_id, kind, issue_seq, code_hash, state, amount_minor, currency, transaction_request_id, attempts, max_attempts,
  expires_at_ms, used_for, created_at_ms, updated_at_ms`

const NOTIFICATION_COLUMNS = 'notification_id, customer_id, msisdn, channel, body, state, error, created_at_ms, updated_at_ms'

/** How often a transaction the store calls retryable (a PostgreSQL serialization failure or deadlock) is run. */
const TRANSACTION_ATTEMPTS_MAX = 5

interface OtpRow extends Row {
  otp_id: string
  customer_id: string
  kind: string
  issue_seq: bigint
  code_hash: string
  state: string
  amount_minor: bigint | null
  currency: string | null
  transaction_request_id: string | null
  attempts: bigint
  max_attempts: bigint
  expires_at_ms: bigint
  used_for: string | null
  created_at_ms: bigint
  updated_at_ms: bigint
}

interface NotificationRow extends Row {
  notification_id: string
  customer_id: string
  msisdn: string
  channel: string
  body: string | null
  state: string
  error: string | null
  created_at_ms: bigint
  updated_at_ms: bigint
}

function toOtp(row: OtpRow): OtpRecord {
  return {
    otpId: row.otp_id,
    customerId: row.customer_id,
    kind: row.kind as ChallengeKind,
    issueSeq: Number(row.issue_seq),
    codeHash: row.code_hash,
    state: row.state as OtpState,
    amountMinor: row.amount_minor,
    currency: row.currency,
    transactionRequestId: row.transaction_request_id,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    expiresAtMs: Number(row.expires_at_ms),
    usedFor: row.used_for,
    createdAtMs: Number(row.created_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
  }
}

function toNotification(row: NotificationRow): Notification {
  return {
    notificationId: row.notification_id,
    customerId: row.customer_id,
    msisdn: row.msisdn,
    channel: row.channel as 'SMS',
    body: row.body,
    state: row.state as NotificationState,
    error: row.error,
    createdAtMs: Number(row.created_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
  }
}

class SqlOtpTx implements OtpTx {
  readonly #tx: SqlExecutor
  readonly #dfspId: string

  constructor(tx: SqlExecutor, dfspId: string) {
    this.#tx = tx
    this.#dfspId = dfspId
  }

  async liveOtp(customerId: string, kind: ChallengeKind): Promise<OtpRecord | undefined> {
    const [row] = await this.#tx.query<OtpRow>(`SELECT ${OTP_COLUMNS} FROM dfsp_otp WHERE dfsp_id = ? AND customer_id = ? AND kind = ? AND state = 'ISSUED'`, [
      this.#dfspId,
      customerId,
      kind,
    ])
    return row === undefined ? undefined : toOtp(row)
  }

  async latestOtp(customerId: string, kind?: ChallengeKind): Promise<OtpRecord | undefined> {
    const [row] =
      kind === undefined
        ? await this.#tx.query<OtpRow>(`SELECT ${OTP_COLUMNS} FROM dfsp_otp WHERE dfsp_id = ? AND customer_id = ? ORDER BY issue_seq DESC LIMIT 1`, [this.#dfspId, customerId])
        : await this.#tx.query<OtpRow>(`SELECT ${OTP_COLUMNS} FROM dfsp_otp WHERE dfsp_id = ? AND customer_id = ? AND kind = ? ORDER BY issue_seq DESC LIMIT 1`, [
            this.#dfspId,
            customerId,
            kind,
          ])
    return row === undefined ? undefined : toOtp(row)
  }

  async countIssuedSince(customerId: string, kind: ChallengeKind, sinceMs: number): Promise<number> {
    const [row] = await this.#tx.query<{ n: bigint }>('SELECT COUNT(*) AS n FROM dfsp_otp WHERE dfsp_id = ? AND customer_id = ? AND kind = ? AND created_at_ms > ?', [
      this.#dfspId,
      customerId,
      kind,
      BigInt(sinceMs),
    ])
    return Number(row?.n ?? 0n)
  }

  async insertOtp(otp: OtpRecord): Promise<void> {
    await this.#tx.run(`INSERT INTO dfsp_otp (dfsp_id, ${OTP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
      this.#dfspId,
      otp.otpId,
      otp.customerId,
      otp.kind,
      BigInt(otp.issueSeq),
      otp.codeHash,
      otp.state,
      otp.amountMinor,
      otp.currency,
      otp.transactionRequestId,
      BigInt(otp.attempts),
      BigInt(otp.maxAttempts),
      BigInt(otp.expiresAtMs),
      otp.usedFor,
      BigInt(otp.createdAtMs),
      BigInt(otp.updatedAtMs),
    ])
  }

  async updateOtp(
    otpId: string,
    from: { readonly state: OtpState; readonly attempts: number },
    changes: { readonly state: OtpState; readonly attempts: number; readonly usedFor?: string | null; readonly updatedAtMs: number },
  ): Promise<boolean> {
    const changed = await this.#tx.run(
      `UPDATE dfsp_otp SET state = ?, attempts = ?, used_for = COALESCE(?, used_for), updated_at_ms = ?
        WHERE dfsp_id = ? AND otp_id = ? AND state = ? AND attempts = ?`,
      [changes.state, BigInt(changes.attempts), changes.usedFor ?? null, BigInt(changes.updatedAtMs), this.#dfspId, otpId, from.state, BigInt(from.attempts)],
    )
    return changed === 1
  }

  async insertNotification(notification: NotificationInsert): Promise<void> {
    await this.#tx.run(`INSERT INTO dfsp_notification (dfsp_id, ${NOTIFICATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 'PENDING', NULL, ?, ?)`, [
      this.#dfspId,
      notification.notificationId,
      notification.customerId,
      notification.msisdn,
      notification.channel,
      notification.body,
      BigInt(notification.createdAtMs),
      BigInt(notification.createdAtMs),
    ])
  }
}

export class SqlOtpRepository implements OtpRepository, NotificationRepository {
  readonly #db: SqlClient
  readonly #dfspId: string

  constructor(db: SqlClient, dfspId: string) {
    this.#db = db
    this.#dfspId = dfspId
  }

  async withCustomer<T>(customerId: string, work: (tx: OtpTx, customer: OtpCustomer | undefined) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.#db.transaction(async (tx) => {
          const lock = tx.dialect === 'postgres' ? ' FOR UPDATE' : ''
          const [row] = await tx.query<{ customer_id: string; msisdn: string | null }>(
            `SELECT customer_id, msisdn FROM dfsp_customer WHERE dfsp_id = ? AND customer_id = ?${lock}`,
            [this.#dfspId, customerId],
          )
          const customer = row === undefined ? undefined : { customerId: row.customer_id, msisdn: row.msisdn }
          return work(new SqlOtpTx(tx, this.#dfspId), customer)
        })
      } catch (error) {
        if (attempt >= TRANSACTION_ATTEMPTS_MAX || !this.#db.isRetryable(error)) throw error
      }
    }
  }

  /** For tests and audits: every OTP row of a customer, oldest first. */
  async listOtps(customerId: string): Promise<OtpRecord[]> {
    const rows = await this.#db.query<OtpRow>(`SELECT ${OTP_COLUMNS} FROM dfsp_otp WHERE dfsp_id = ? AND customer_id = ? ORDER BY issue_seq`, [this.#dfspId, customerId])
    return rows.map(toOtp)
  }

  async pendingNotifications(limit: number, ids?: readonly string[]): Promise<Notification[]> {
    if (ids !== undefined && ids.length === 0) return []
    const only = ids === undefined ? '' : ` AND notification_id IN (${ids.map(() => '?').join(', ')})`
    const rows = await this.#db.query<NotificationRow>(
      `SELECT ${NOTIFICATION_COLUMNS} FROM dfsp_notification WHERE dfsp_id = ? AND state = 'PENDING'${only} ORDER BY created_at_ms, notification_id LIMIT ?`,
      [this.#dfspId, ...(ids ?? []), limit],
    )
    return rows.map(toNotification)
  }

  async updateNotification(notificationId: string, from: NotificationState, to: NotificationState, error: string | null, nowMs: number): Promise<boolean> {
    const changed = await this.#db.run('UPDATE dfsp_notification SET state = ?, error = ?, updated_at_ms = ? WHERE dfsp_id = ? AND notification_id = ? AND state = ?', [
      to,
      error,
      BigInt(nowMs),
      this.#dfspId,
      notificationId,
      from,
    ])
    return changed === 1
  }

  async listNotifications(msisdn: string | undefined, limit: number): Promise<Notification[]> {
    const rows =
      msisdn === undefined
        ? await this.#db.query<NotificationRow>(`SELECT ${NOTIFICATION_COLUMNS} FROM dfsp_notification WHERE dfsp_id = ? ORDER BY created_at_ms DESC, notification_id DESC LIMIT ?`, [
            this.#dfspId,
            limit,
          ])
        : await this.#db.query<NotificationRow>(
            `SELECT ${NOTIFICATION_COLUMNS} FROM dfsp_notification WHERE dfsp_id = ? AND msisdn = ? ORDER BY created_at_ms DESC, notification_id DESC LIMIT ?`,
            [this.#dfspId, msisdn, limit],
          )
    return rows.map(toNotification)
  }

  async insertNotification(notification: NotificationInsert): Promise<void> {
    await this.#db.transaction((tx) => new SqlOtpTx(tx, this.#dfspId).insertNotification(notification))
  }

  async purgeBodies(beforeMs: number): Promise<number> {
    return this.#db.run("UPDATE dfsp_notification SET body = NULL WHERE dfsp_id = ? AND state IN ('SENT', 'FAILED') AND body IS NOT NULL AND updated_at_ms <= ?", [
      this.#dfspId,
      BigInt(beforeMs),
    ])
  }
}
