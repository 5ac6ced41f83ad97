// SPDX-License-Identifier: Apache-2.0
/**
 * One-time passwords of the payer DFSP, for payee-initiated payments (reference §7): the customer asks for
 * one (ATM, figure 35) or the DFSP issues one after quoting (POS, figure 37); the payee's device sends back
 * what the customer typed (PUT /authorizations/{transactionRequestId}) and this service checks it.
 *
 * The code comes from crypto.randomInt (uniform, leading zeros allowed). Only an HMAC-SHA-256 of it is
 * stored, keyed with a per-DFSP secret and bound to the DFSP, OTP and customer ids, and it is compared with
 * crypto.timingSafeEqual. The code and the SMS text are never logged. Each OTP is single use, bound to its
 * customer (and optionally to an amount and a transaction request), expires, and locks after too many wrong
 * attempts; every attempt is counted in the same committed transaction that answers it, so a crash cannot
 * reset the count. All of one customer's OTP operations serialize on that customer (the repository locks
 * its row), so two concurrent verifies of one code succeed exactly once.
 *
 * The same machinery serves QR codes (authenticationType QRCODE, issue 4: "the wallet app shows a one-time
 * code the POS scans"), told apart by the challenge's `kind`. A QR code is returned to the customer's app
 * (the app draws it) and never sent by SMS; it is otherwise an OTP: hashed (under its own domain tag), single
 * use, bound to the customer and optionally an amount, expiring, and locked after the same attempt limit. A
 * customer may hold one live OTP and one live QR code at once; RESEND applies to OTPs only.
 */
// The default import is node:crypto's mutable module object: tests can observe timingSafeEqual through it.
import crypto from 'node:crypto'
import { ConfigError } from '../../config/load-config.ts'
import { assert } from '../../core/assert.ts'
import type { Clock } from '../../core/clock.ts'
import { ConflictError, NotFoundError, RejectedError, ValidationError } from '../../core/errors.ts'
import type { DfspLogger } from '../ports.ts'
import type { Notification, NotificationInsert, NotificationOutbox } from './notifications.ts'

export type { NotificationInsert } from './notifications.ts'
import { nextOtpState, type OtpEvent, type OtpState } from './otp-state.ts'

export interface OtpConfigInput {
  /** The HMAC key for code hashes: at least 32 characters, no default. Changing it voids every live OTP. */
  readonly secret: string
  /** Digits per code, 4 to 10. */
  readonly digits?: number
  /** How long a code stays valid. */
  readonly ttlMs?: number
  /** Wrong attempts (codes or amounts) before the OTP locks, 1 to 10. */
  readonly maxAttempts?: number
  /** At most `max` OTPs issued per customer in any `windowMs` (fresh ones and resends alike). */
  readonly issueLimit?: { readonly max?: number; readonly windowMs?: number }
  /** The name the SMS is signed with. */
  readonly senderName?: string
}

export interface OtpConfig {
  readonly secret: string
  readonly digits: number
  readonly ttlMs: number
  readonly maxAttempts: number
  readonly issueLimit: { readonly max: number; readonly windowMs: number }
  readonly senderName: string
}

export const OTP_DEFAULTS = {
  digits: 6,
  ttlMs: 5 * 60_000,
  maxAttempts: 3,
  issueLimit: { max: 5, windowMs: 15 * 60_000 },
  senderName: 'Kivuko',
} as const

/** Input → checked, frozen configuration; throws ConfigError listing every problem at once. */
export function resolveOtpConfig(input: OtpConfigInput): OtpConfig {
  const problems: string[] = []
  const need = (ok: boolean, message: string): void => {
    if (!ok) problems.push(`otp: ${message}`)
  }
  const whole = (value: number | undefined, fallback: number, field: string, min: number, max: number): number => {
    const n = value ?? fallback
    need(Number.isInteger(n) && n >= min && n <= max, `${field} must be a whole number from ${min} to ${max}`)
    return n
  }
  need(typeof input.secret === 'string' && input.secret.length >= 32, 'secret must be at least 32 characters')
  const senderName = input.senderName ?? OTP_DEFAULTS.senderName
  need(/^[\x20-\x7e]{1,32}$/.test(senderName), 'senderName must be 1 to 32 printable characters')
  const config: OtpConfig = {
    secret: input.secret,
    digits: whole(input.digits, OTP_DEFAULTS.digits, 'digits', 4, 10),
    ttlMs: whole(input.ttlMs, OTP_DEFAULTS.ttlMs, 'ttlMs', 10_000, 3_600_000),
    maxAttempts: whole(input.maxAttempts, OTP_DEFAULTS.maxAttempts, 'maxAttempts', 1, 10),
    issueLimit: {
      max: whole(input.issueLimit?.max, OTP_DEFAULTS.issueLimit.max, 'issueLimit.max', 1, 100),
      windowMs: whole(input.issueLimit?.windowMs, OTP_DEFAULTS.issueLimit.windowMs, 'issueLimit.windowMs', 1_000, 86_400_000),
    },
    senderName,
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return Object.freeze(config)
}

/** What a challenge is: a code sent by SMS and typed at the device, or a code the wallet app shows as a QR code. */
export type ChallengeKind = 'OTP' | 'QRCODE'

/** Crockford's base32 (no I, L, O, U): a QR code's characters, still typeable when a scan fails. */
const QR_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
/** Characters of randomness in a QR code: 16 × 5 bits = 80 bits. */
export const QR_CODE_RANDOM_CHARS = 16
/** Every QR code starts so; it tells a scanned Kivuko code from anything else a scanner reads. */
export const QR_CODE_PREFIX = 'KQ'

/**
 * An FSPIOP QRCODE authentication value as a device may send it (api-snippets v1.1: a string of 1 to 64
 * characters, `^\S{1,64}$`), kept to printable ASCII here since it also travels in ISO 8583 field 62.
 */
export const QR_CODE_VALUE = /^[\x21-\x7e]{1,64}$/

/** A fresh QR code: the prefix and 16 uniformly random base32 characters, e.g. `KQ7M3XQ0C9RZ4T8HNV`. */
export function generateQrCode(): string {
  let code = QR_CODE_PREFIX
  for (let i = 0; i < QR_CODE_RANDOM_CHARS; i += 1) code += QR_ALPHABET[crypto.randomInt(0, QR_ALPHABET.length)]
  return code
}

/** A uniformly random code of `digits` decimal digits; leading zeros are kept. */
export function generateCode(digits: number): string {
  assert(Number.isInteger(digits) && digits >= 4 && digits <= 10, 'an OTP has 4 to 10 digits')
  return crypto.randomInt(0, 10 ** digits).toString().padStart(digits, '0')
}

/** The HMAC's domain tag per kind: an OTP's hash can never stand for a QR code's, nor the reverse. */
const HASH_TAGS: { readonly [K in ChallengeKind]: string } = { OTP: 'kivuko-otp/v1', QRCODE: 'kivuko-qrcode/v1' }

/** What an OTP row stores instead of its code: HMAC-SHA-256 over the code and the ids it belongs to, in hex. */
export function hashCode(secret: string, binding: { readonly dfspId: string; readonly otpId: string; readonly customerId: string }, code: string, kind: ChallengeKind = 'OTP'): string {
  return crypto.createHmac('sha256', secret).update(`${HASH_TAGS[kind]}\n${binding.dfspId}\n${binding.otpId}\n${binding.customerId}\n${code}`).digest('hex')
}

/** Compares a candidate code with a stored hash in constant time. */
export function codeMatches(
  secret: string,
  binding: { readonly dfspId: string; readonly otpId: string; readonly customerId: string },
  storedHash: string,
  candidate: string,
  kind: ChallengeKind = 'OTP',
): boolean {
  const expected = Buffer.from(storedHash, 'hex')
  const actual = Buffer.from(hashCode(secret, binding, candidate, kind), 'hex')
  assert(expected.length === 32, 'a stored OTP hash is 32 bytes')
  return crypto.timingSafeEqual(expected, actual)
}

/** An OTP as the store keeps it: never the code. */
export interface OtpRecord {
  readonly otpId: string
  readonly customerId: string
  readonly kind: ChallengeKind
  /** 1, 2, 3… per customer: orders a customer's OTPs even when issued in the same millisecond. */
  readonly issueSeq: number
  readonly codeHash: string
  readonly state: OtpState
  readonly amountMinor: bigint | null
  readonly currency: string | null
  readonly transactionRequestId: string | null
  readonly attempts: number
  readonly maxAttempts: number
  readonly expiresAtMs: number
  readonly usedFor: string | null
  readonly createdAtMs: number
  readonly updatedAtMs: number
}

export interface OtpCustomer {
  readonly customerId: string
  readonly msisdn: string | null
}

/** The statements of one transaction that holds the customer's lock. */
export interface OtpTx {
  /** The customer's one ISSUED challenge of this kind, if any. */
  liveOtp(customerId: string, kind: ChallengeKind): Promise<OtpRecord | undefined>
  /** The customer's most recent challenge of this kind (of any kind when not given), whatever its state. */
  latestOtp(customerId: string, kind?: ChallengeKind): Promise<OtpRecord | undefined>
  /** How many challenges of this kind the customer was issued after `sinceMs`. */
  countIssuedSince(customerId: string, kind: ChallengeKind, sinceMs: number): Promise<number>
  insertOtp(otp: OtpRecord): Promise<void>
  /** Compare-and-set on state and attempts: false when the row moved since it was read. */
  updateOtp(otpId: string, from: { readonly state: OtpState; readonly attempts: number }, changes: { readonly state: OtpState; readonly attempts: number; readonly usedFor?: string | null; readonly updatedAtMs: number }): Promise<boolean>
  insertNotification(notification: NotificationInsert): Promise<void>
}

export interface OtpRepository {
  /**
   * Runs `work` in one transaction that first locks the customer (undefined when there is no such customer),
   * running it again when the store says a conflict is retryable. The work must use only the `tx` it is given.
   */
  withCustomer<T>(customerId: string, work: (tx: OtpTx, customer: OtpCustomer | undefined) => Promise<T>): Promise<T>
}

export interface OtpBinding {
  /** The payer's total debit the code confirms (reference §2.5: the `amount` of GET /authorizations). */
  readonly amountMinor?: bigint
  readonly currency?: string
  /** The transaction request the code is for; verify must then name the same one. */
  readonly transactionRequestId?: string
}

export interface IssuedOtp {
  readonly otpId: string
  readonly notificationId: string
  readonly expiresAtMs: number
  /** What GET /authorizations sends as retriesLeft. */
  readonly retriesLeft: number
}

/** A QR code for the customer's app to show: the code is in the answer, and only there. */
export interface IssuedQrCode {
  readonly qrCodeId: string
  /** The value the QR code encodes and the POS sends back; never logged, stored only as a hash. */
  readonly code: string
  readonly expiresAtMs: number
  readonly retriesLeft: number
}

/** The answer to a verification; only `ok: true` authorizes the payment. */
export type VerifyResult =
  | { readonly ok: true; readonly otpId: string }
  | { readonly ok: false; readonly reason: 'wrong' | 'amount_mismatch'; readonly retriesLeft: number }
  | { readonly ok: false; readonly reason: 'expired' | 'locked' | 'used' | 'not_found' }

/** A live OTP without its hash, for the wiring (retriesLeft, expiry, bindings). */
export interface LiveOtp {
  readonly otpId: string
  readonly retriesLeft: number
  readonly expiresAtMs: number
  readonly amountMinor: bigint | null
  readonly currency: string | null
  readonly transactionRequestId: string | null
}

export interface OtpServiceOptions {
  readonly dfspId: string
  readonly config: OtpConfig
  readonly repo: OtpRepository
  readonly outbox: NotificationOutbox
  readonly clock: Clock
  readonly logger?: DfspLogger
}

const CURRENCY = /^[A-Z]{3}$/

export class OtpService {
  readonly #dfspId: string
  readonly #config: OtpConfig
  readonly #repo: OtpRepository
  readonly #outbox: NotificationOutbox
  readonly #clock: Clock
  readonly #logger: DfspLogger | undefined

  constructor(options: OtpServiceOptions) {
    this.#dfspId = options.dfspId
    this.#config = options.config
    this.#repo = options.repo
    this.#outbox = options.outbox
    this.#clock = options.clock
    this.#logger = options.logger
  }

  /**
   * Issues a fresh OTP for the customer, optionally bound to an amount and/or a transaction request, and
   * sends it by SMS. A live OTP the customer had is superseded. Throws NotFoundError for an unknown customer,
   * ValidationError for one without an MSISDN or a bad binding, RejectedError past the issue limit.
   */
  async issue(customerId: string, binding: OtpBinding = {}): Promise<IssuedOtp> {
    checkBinding(binding)
    const issued = await this.#repo.withCustomer(customerId, async (tx, customer) => {
      const live = await tx.liveOtp(customerId, 'OTP')
      return this.#issueOtpIn(tx, customerId, customer, live, binding, 0)
    })
    await this.#deliver(issued.notificationId)
    return issued
  }

  /**
   * Issues a fresh QR code for the customer's wallet app to show (the POS scans it), optionally bound to an
   * amount; a live QR code the customer had is superseded. The code is in the answer and nowhere else: no
   * SMS, no log. Same errors as `issue`, except that no MSISDN is needed.
   */
  async issueQrCode(customerId: string, binding: Omit<OtpBinding, 'transactionRequestId'> = {}): Promise<IssuedQrCode> {
    checkBinding(binding)
    const issued = await this.#repo.withCustomer(customerId, async (tx, customer) => {
      if (customer === undefined) throw new NotFoundError('PARTY_NOT_FOUND', 'no such customer', { customerId })
      const live = await tx.liveOtp(customerId, 'QRCODE')
      return this.#insertChallenge(tx, customerId, 'QRCODE', live, binding, 0)
    })
    this.#logger?.info({ customerId, qrCodeId: issued.otp.otpId }, 'QR code issued')
    return { qrCodeId: issued.otp.otpId, code: issued.code, expiresAtMs: issued.otp.expiresAtMs, retriesLeft: issued.otp.maxAttempts - issued.otp.attempts }
  }

  /**
   * RESEND (reference §7.3): a new code with the live OTP's bindings, the old one SUPERSEDED. The attempts
   * already used carry over (retriesLeft is unchanged in the spec's figure), so resending never buys more
   * guesses. Throws ConflictError when the customer has no live OTP. QR codes are not resent: the app shows
   * the live one, or asks for a new one.
   */
  async resend(customerId: string): Promise<IssuedOtp> {
    const issued = await this.#repo.withCustomer(customerId, async (tx, customer) => {
      const live = await tx.liveOtp(customerId, 'OTP')
      if (live === undefined) throw new ConflictError('there is no live OTP to resend', { customerId })
      const binding: OtpBinding = {
        ...(live.amountMinor === null ? {} : { amountMinor: live.amountMinor, currency: live.currency ?? undefined }),
        ...(live.transactionRequestId === null ? {} : { transactionRequestId: live.transactionRequestId }),
      }
      return this.#issueOtpIn(tx, customerId, customer, live, binding, live.attempts)
    })
    await this.#deliver(issued.notificationId)
    return issued
  }

  /**
   * Checks a code the customer entered (an OTP) or the device scanned (a QR code). Wrong codes and wrong
   * amounts count against the attempt limit; the last one locks the challenge (answered as `wrong` with
   * retriesLeft 0; later attempts get `locked`).
   */
  async verify(customerId: string, code: string, against: OtpBinding = {}, kind: ChallengeKind = 'OTP'): Promise<VerifyResult> {
    const result = await this.#repo.withCustomer(customerId, async (tx, customer): Promise<VerifyResult> => {
      if (customer === undefined) return { ok: false, reason: 'not_found' }
      const live = await tx.liveOtp(customerId, kind)
      if (live === undefined) return finalReason(await tx.latestOtp(customerId, kind))
      const nowMs = this.#clock.nowMs()
      if (nowMs >= live.expiresAtMs) {
        await this.#move(tx, live, 'expire', live.attempts, nowMs)
        return { ok: false, reason: 'expired' }
      }
      // An OTP issued for one transaction request answers for no other one, and such a try costs no attempt.
      if (live.transactionRequestId !== null && live.transactionRequestId !== against.transactionRequestId) return { ok: false, reason: 'not_found' }
      const codeOk = codeMatches(this.#config.secret, { dfspId: this.#dfspId, otpId: live.otpId, customerId }, live.codeHash, code, kind)
      const amountOk = live.amountMinor === null || (live.amountMinor === against.amountMinor && live.currency === against.currency)
      if (codeOk && amountOk) {
        await this.#move(tx, live, 'verify', live.attempts, nowMs, against.transactionRequestId ?? null)
        return { ok: true, otpId: live.otpId }
      }
      const attempts = live.attempts + 1
      await this.#move(tx, live, attempts >= live.maxAttempts ? 'exhaust' : 'miss', attempts, nowMs)
      return { ok: false, reason: codeOk ? 'amount_mismatch' : 'wrong', retriesLeft: live.maxAttempts - attempts }
    })
    // Ids and outcomes only: never the code.
    this.#logger?.info({ customerId, kind, ok: result.ok, reason: result.ok ? undefined : result.reason }, 'OTP verified')
    return result
  }

  /** Ends the customer's live OTP (or QR code): the customer rejected the payment, or the request was cancelled. */
  async cancel(customerId: string, kind: ChallengeKind = 'OTP'): Promise<boolean> {
    return this.#repo.withCustomer(customerId, async (tx) => {
      const live = await tx.liveOtp(customerId, kind)
      if (live === undefined) return false
      await this.#move(tx, live, 'cancel', live.attempts, this.#clock.nowMs())
      return true
    })
  }

  /** The customer's live OTP (or QR code), unexpired, without its hash; undefined when there is none. */
  async findLive(customerId: string, kind: ChallengeKind = 'OTP'): Promise<LiveOtp | undefined> {
    const live = await this.#repo.withCustomer(customerId, (tx) => tx.liveOtp(customerId, kind))
    if (live === undefined || this.#clock.nowMs() >= live.expiresAtMs) return undefined
    return {
      otpId: live.otpId,
      retriesLeft: live.maxAttempts - live.attempts,
      expiresAtMs: live.expiresAtMs,
      amountMinor: live.amountMinor,
      currency: live.currency,
      transactionRequestId: live.transactionRequestId,
    }
  }

  /**
   * Sends the customer an SMS that holds no code (a payment confirmation), through the same outbox: written
   * in one transaction, delivered after it. False when the customer has no MSISDN.
   */
  async notify(customerId: string, text: string): Promise<boolean> {
    const notificationId = await this.#repo.withCustomer(customerId, async (tx, customer) => {
      if (customer === undefined || customer.msisdn === null) return undefined
      const id = crypto.randomBytes(16).toString('hex')
      await tx.insertNotification({ notificationId: id, customerId, msisdn: customer.msisdn, channel: 'SMS', body: `${this.#config.senderName}: ${text}`, createdAtMs: this.#clock.nowMs() })
      return id
    })
    if (notificationId === undefined) return false
    await this.#deliver(notificationId)
    return true
  }

  /** The SMS sent to a phone number, newest first: how the demo and tests read codes. */
  listNotifications(msisdn: string, limit?: number): Promise<Notification[]> {
    return this.#outbox.listNotifications(msisdn, limit)
  }

  /** A fresh OTP and the SMS that carries it, in the customer's transaction. */
  async #issueOtpIn(tx: OtpTx, customerId: string, customer: OtpCustomer | undefined, live: OtpRecord | undefined, binding: OtpBinding, attempts: number): Promise<IssuedOtp> {
    if (customer === undefined) throw new NotFoundError('PARTY_NOT_FOUND', 'no such customer', { customerId })
    if (customer.msisdn === null) throw new ValidationError('the customer has no MSISDN to send an OTP to', { customerId })
    const { otp, code } = await this.#insertChallenge(tx, customerId, 'OTP', live, binding, attempts)
    const notificationId = crypto.randomBytes(16).toString('hex')
    const minutes = Math.max(1, Math.round(this.#config.ttlMs / 60_000))
    await tx.insertNotification({
      notificationId,
      customerId,
      msisdn: customer.msisdn,
      channel: 'SMS',
      body: `${this.#config.senderName}: your one-time code is ${code}. It expires in ${minutes} min. Never share it.`,
      createdAtMs: otp.createdAtMs,
    })
    return { otpId: otp.otpId, notificationId, expiresAtMs: otp.expiresAtMs, retriesLeft: otp.maxAttempts - attempts }
  }

  /** Rate limit, supersede the live one, insert the new challenge: the code is returned, only its hash stored. */
  async #insertChallenge(
    tx: OtpTx,
    customerId: string,
    kind: ChallengeKind,
    live: OtpRecord | undefined,
    binding: OtpBinding,
    attempts: number,
  ): Promise<{ readonly otp: OtpRecord; readonly code: string }> {
    const nowMs = this.#clock.nowMs()
    const { max, windowMs } = this.#config.issueLimit
    if ((await tx.countIssuedSince(customerId, kind, nowMs - windowMs)) >= max) {
      const what = kind === 'OTP' ? 'OTPs' : 'QR codes'
      throw new RejectedError('PAYER_REJECTION', `at most ${max} ${what} may be issued per ${windowMs / 60_000} minutes`, { customerId })
    }
    if (live !== undefined) await this.#move(tx, live, 'supersede', live.attempts, nowMs)
    // issue_seq orders all of a customer's challenges, whatever their kind.
    const latest = await tx.latestOtp(customerId)
    const otpId = crypto.randomBytes(16).toString('hex')
    const code = kind === 'OTP' ? generateCode(this.#config.digits) : generateQrCode()
    const maxAttempts = this.#config.maxAttempts
    assert(attempts < maxAttempts, 'a live OTP has attempts left')
    const otp: OtpRecord = {
      otpId,
      customerId,
      kind,
      issueSeq: (latest?.issueSeq ?? 0) + 1,
      codeHash: hashCode(this.#config.secret, { dfspId: this.#dfspId, otpId, customerId }, code, kind),
      state: 'ISSUED',
      amountMinor: binding.amountMinor ?? null,
      currency: binding.currency ?? null,
      transactionRequestId: binding.transactionRequestId ?? null,
      attempts,
      maxAttempts,
      expiresAtMs: nowMs + this.#config.ttlMs,
      usedFor: null,
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    }
    await tx.insertOtp(otp)
    return { otp, code }
  }

  /** One edge of the table, written as a compare-and-set; a lost race is a conflict (the lock prevents it). */
  async #move(tx: OtpTx, otp: OtpRecord, event: OtpEvent, attempts: number, nowMs: number, usedFor?: string | null): Promise<void> {
    const state = nextOtpState(otp.state, event)
    const changed = await tx.updateOtp(otp.otpId, { state: otp.state, attempts: otp.attempts }, { state, attempts, usedFor, updatedAtMs: nowMs })
    if (!changed) throw new ConflictError('the OTP changed while it was being checked', { otpId: otp.otpId })
  }

  /** After the commit, outside every transaction: the SMS goes out; a failure leaves the row for a retry. */
  async #deliver(notificationId: string): Promise<void> {
    try {
      await this.#outbox.deliverPending(1, [notificationId])
    } catch (error) {
      this.#logger?.warn({ notificationId, err: error instanceof Error ? error.message : String(error) }, 'OTP notification not delivered yet')
    }
  }
}

function checkBinding(binding: OtpBinding): void {
  if ((binding.amountMinor === undefined) !== (binding.currency === undefined)) throw new ValidationError('an OTP amount needs its currency, and a currency its amount')
  if (binding.amountMinor !== undefined && binding.amountMinor <= 0n) throw new ValidationError('an OTP amount must be positive')
  if (binding.currency !== undefined && !CURRENCY.test(binding.currency)) throw new ValidationError('an OTP currency is an ISO 4217 code')
  if (binding.transactionRequestId !== undefined && (binding.transactionRequestId.length === 0 || binding.transactionRequestId.length > 64)) {
    throw new ValidationError('a transaction request id has 1 to 64 characters')
  }
}

/** Why a customer without a live OTP cannot verify, from their latest one. */
function finalReason(latest: OtpRecord | undefined): VerifyResult {
  switch (latest?.state) {
    case 'USED':
      return { ok: false, reason: 'used' }
    case 'EXPIRED':
      return { ok: false, reason: 'expired' }
    case 'LOCKED':
      return { ok: false, reason: 'locked' }
    default:
      return { ok: false, reason: 'not_found' }
  }
}
