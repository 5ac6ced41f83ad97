// SPDX-License-Identifier: Apache-2.0
/**
 * One DFSP: its customers and wallets, its FSPIOP peer in both roles, its outbound API, the oracle
 * registration of its customers, and the sweeper that settles transfers the switch went quiet about.
 * The HTTP edges (http/dfsp) call the `on…` methods after answering 202/200, and the outbound and
 * customer methods directly. Nothing here knows Fastify, a database driver or the environment.
 */
import type { KeyObject } from 'node:crypto'
import { systemClock, type Clock } from '../core/clock.ts'
import { ConflictError, NotFoundError } from '../core/errors.ts'
import { formatAmount } from '../core/money.ts'
import type { QuotesPostRequest, TransfersPostRequest } from '../fspiop/index.ts'
import type { Ledger } from '../ledger/index.ts'
import type { DfspConfig } from './config.ts'
import { isoOf, waitKeys, type CallbackAnswer, type DfspDeps, type Inbound } from './context.ts'
import { dfspAccountId } from './ledger-ids.ts'
import { CustomerBook } from './customers.ts'
import type { Notification, NotificationOutbox } from './otp/notifications.ts'
import { OTP_DEFAULTS, type ChallengeKind, type IssuedOtp, type IssuedQrCode, type OtpService } from './otp/otp.ts'
import { Payee } from './payee.ts'
import { PayeeTransactionRequests, type RequestToPayInput, type RequestToPayView } from './request-to-pay.ts'
import { PayerTransactionRequests, type TransactionRequestsPostRequest } from './txn-request-payer.ts'
import type { PayerRequestState } from './txn-request-state.ts'
import { outcomeOf, Payer, type PartyLookup, type SendInput, type SendOutcome } from './payer.ts'
import type { Customer, DfspLogger, DfspRepository, FspiopTransport, PartyIdType, TransferRecord } from './ports.ts'
import { fspiopPath, SwitchApi, type Trace } from './switch-api.ts'
import type { Role } from './transfer-state.ts'
import { Waiters } from './waiters.ts'

export interface DfspOptions {
  readonly config: DfspConfig
  readonly repo: DfspRepository
  readonly ledger: Ledger
  readonly transport: FspiopTransport
  readonly logger: DfspLogger
  readonly clock?: Clock
  /** The payer side's OTPs and QR codes; without it, payee-initiated requests to pay this DFSP's customers are refused. */
  readonly otp?: OtpService
  /**
   * The SMS outbox (the OtpService's own, when there is one): the payee side tells its merchants of payments
   * through it, and `notifications` reads it. Without it, no payee notices are sent.
   */
  readonly notifications?: NotificationOutbox
  /** This DFSP's JWS key: when set, every request and callback it sends with a body carries FSPIOP-Signature. */
  readonly signingKey?: KeyObject
}

export interface RegistrationResult {
  readonly type: PartyIdType
  readonly id: string
  /** registered: the oracle confirmed (PUT /participants) · rejected: it answered an error · timeout · refused/unreachable: the request was not taken. */
  readonly status: 'registered' | 'rejected' | 'timeout' | 'refused' | 'unreachable'
  readonly errorCode?: string
}

/** A transfer as the outbound API reports it later (GET /transfers/{id}). */
export interface TransferStatus {
  readonly transferId: string
  readonly role: Role
  readonly state: TransferRecord['state']
  readonly abortReason: TransferRecord['abortReason']
  readonly currency: string
  readonly amount: string
  readonly fee: string
  readonly counterpartyFsp: string
  readonly counterparty: unknown
  readonly quoteId: string | null
  readonly note: string | null
  readonly fulfilment: string | null
  readonly expiration: string
  readonly completedTimestamp: string | null
  readonly error: { readonly errorCode: string | null; readonly errorDescription: string | null } | null
}

const SWEEP_BATCH_MAX = 100
const REGISTRATION_CONCURRENCY = 8

export class Dfsp {
  readonly config: DfspConfig
  readonly customers: CustomerBook
  readonly #deps: DfspDeps
  readonly #payer: Payer
  readonly #payee: Payee
  readonly #otp: OtpService | undefined
  readonly #outbox: NotificationOutbox | undefined
  readonly #payerRequests: PayerTransactionRequests
  readonly #payeeRequests: PayeeTransactionRequests
  readonly #tasks = new Set<Promise<void>>()
  #sweeper: ReturnType<typeof setInterval> | undefined
  #sweeping: Promise<number> | undefined
  #closed = false

  constructor(options: DfspOptions) {
    const clock = options.clock ?? systemClock
    this.config = options.config
    this.customers = new CustomerBook(options.config, options.repo, options.ledger, clock)
    this.#deps = {
      config: options.config,
      repo: options.repo,
      ledger: options.ledger,
      switchApi: new SwitchApi(options.config, options.transport, clock, options.logger, options.signingKey),
      customers: this.customers,
      clock,
      logger: options.logger,
      waiters: new Waiters<CallbackAnswer>(),
    }
    this.#payer = new Payer(this.#deps)
    this.#payee = new Payee(this.#deps)
    this.#otp = options.otp
    this.#outbox = options.notifications
    this.#payerRequests = new PayerTransactionRequests(this.#deps, this.#payer, options.otp)
    const senderName = options.config.otp?.senderName ?? OTP_DEFAULTS.senderName
    this.#payeeRequests = new PayeeTransactionRequests(this.#deps, this.#payer, options.notifications === undefined ? undefined : { outbox: options.notifications, senderName })
  }

  /** Opens the DFSP's accounts and creates the configured customers; safe on every start. */
  async start(): Promise<Customer[]> {
    await this.customers.openAccounts()
    return this.customers.seed(this.config.customers)
  }

  // -------------------------------------------------------------------------------------------------
  // Inbound FSPIOP, called after the 202 (requests) or 200 (callbacks) has been answered

  onGetParty(inbound: Inbound, type: string, id: string, subId?: string): Promise<void> {
    return this.#payee.onGetParty(inbound, type, id, subId)
  }

  onPartyAnswer(type: string, id: string, subId: string | undefined, answer: CallbackAnswer): void {
    this.#deps.waiters.resolve(waitKeys.party(type, id, subId), answer)
  }

  onParticipantAnswer(type: string, id: string, subId: string | undefined, answer: CallbackAnswer): void {
    this.#deps.waiters.resolve(waitKeys.participant(type, id, subId), answer)
  }

  async onQuoteRequest(inbound: Inbound, body: QuotesPostRequest): Promise<void> {
    await this.#payee.onQuoteRequest(inbound, body)
    if (body.transactionRequestId !== undefined) await this.#payeeRequests.onQuote(body.transactionRequestId, body.quoteId)
  }

  onQuoteAnswer(quoteId: string, answer: CallbackAnswer): Promise<void> {
    return this.#payer.onQuoteAnswer(quoteId, answer)
  }

  async onTransferPrepare(inbound: Inbound, body: TransfersPostRequest): Promise<void> {
    const quoteId = await this.#payee.onTransferPrepare(inbound, body)
    await this.#payeeRequests.onTransfer(body.transferId, quoteId)
  }

  // -------------------------------------------------------------------------------------------------
  // Payee-initiated transactions with OTP (reference §7)

  /** POST /transactionRequests: this DFSP is the payer's. */
  onTransactionRequest(inbound: Inbound, body: TransactionRequestsPostRequest): Promise<void> {
    return this.#payerRequests.onRequest(inbound, body)
  }

  /** PUT /transactionRequests/{ID} and its /error: the payer FSP's word on a request this DFSP sent. */
  onTransactionRequestAnswer(id: string, answer: CallbackAnswer): void {
    this.#payeeRequests.onAnswer(id, answer)
  }

  /** GET /authorizations/{ID}?…: the payer FSP asks this DFSP's device for the OTP. */
  onAuthorizationRequest(inbound: Inbound, id: string, query: Readonly<Record<string, string | undefined>>): Promise<void> {
    return this.#payeeRequests.onChallenge(inbound, id, query)
  }

  /** PUT /authorizations/{ID} and its /error: what the customer did at the payee's device. */
  onAuthorizationAnswer(id: string, answer: CallbackAnswer): Promise<void> {
    return this.#payerRequests.onAuthorization(id, answer)
  }

  requestToPay(input: RequestToPayInput, trace: Trace = {}): Promise<RequestToPayView> {
    return this.#payeeRequests.requestToPay(input, trace)
  }

  /** The OTP typed or the QR code scanned at the device; `as` names which the caller means to send. */
  authorizeRequest(id: string, value: string, trace: Trace = {}, as?: ChallengeKind): Promise<RequestToPayView> {
    return this.#payeeRequests.authorize(id, value, trace, as)
  }

  resendRequestOtp(id: string, trace: Trace = {}): Promise<RequestToPayView> {
    return this.#payeeRequests.resend(id, trace)
  }

  rejectRequest(id: string, trace: Trace = {}): Promise<RequestToPayView> {
    return this.#payeeRequests.reject(id, trace)
  }

  refundRequest(id: string, reason: string | undefined, trace: Trace = {}): Promise<RequestToPayView> {
    return this.#payeeRequests.refund(id, reason, trace)
  }

  requestStatus(id: string): RequestToPayView {
    return this.#payeeRequests.status(id)
  }

  /** The payer side's state of a request it was sent, for tests and support. */
  payerRequestState(id: string): PayerRequestState | undefined {
    return this.#payerRequests.stateOf(id)
  }

  /** The customer asks for an OTP (reference §7.2 step 0); it goes by SMS, never in the answer. */
  async issueOtp(msisdn: string, amountMinor?: bigint): Promise<IssuedOtp> {
    const customer = await this.customers.byMsisdn(msisdn)
    return this.#otpService().issue(customer.customerId, amountMinor === undefined ? {} : { amountMinor, currency: this.config.currency })
  }

  /**
   * The customer asks its wallet app for a QR code to show at a POS (authenticationType QRCODE): the code is
   * in the answer, for the app to draw, and is sent nowhere else.
   */
  async issueQrCode(msisdn: string, amountMinor?: bigint): Promise<IssuedQrCode> {
    const customer = await this.customers.byMsisdn(msisdn)
    return this.#otpService().issueQrCode(customer.customerId, amountMinor === undefined ? {} : { amountMinor, currency: this.config.currency })
  }

  /**
   * The SMS kept for a phone number (for every number when none is given), newest first (the keeping
   * sender): how the demo, `kivuko sms` and the tests read codes and payment notices.
   */
  async notifications(msisdn?: string, limit?: number): Promise<Notification[]> {
    if (msisdn !== undefined) await this.customers.byMsisdn(msisdn)
    if (this.#outbox !== undefined) return this.#outbox.listNotifications(msisdn, limit)
    if (msisdn === undefined) throw new ConflictError(`${this.config.dfspId} has no notifications outbox`)
    return this.#otpService().listNotifications(msisdn, limit)
  }

  #otpService(): OtpService {
    if (this.#otp === undefined) throw new ConflictError(`${this.config.dfspId} has no OTP configuration`)
    return this.#otp
  }

  /**
   * PUT /transfers/{ID} and its /error. The switch sends these to the payer; a payee gets one only in
   * answer to its own GET (or an error when the switch aborts what it fulfilled). A transfer this DFSP
   * is both payer and payee of (on-us through the switch) is the payer's business here: the payee side
   * hears through PATCH.
   */
  async onTransferAnswer(transferId: string, answer: CallbackAnswer): Promise<void> {
    const { repo, logger } = this.#deps
    const asPayer = await repo.findTransfer(transferId, 'PAYER')
    if (asPayer !== undefined) {
      await this.#payer.settle(asPayer, answer)
      return
    }
    const asPayee = await repo.findTransfer(transferId, 'PAYEE')
    if (asPayee === undefined) {
      logger.warn({ transferId }, 'transfer answer for a transfer this DFSP does not know; ignored')
      return
    }
    if (!answer.ok) await this.#payee.settle(asPayee, 'ABORTED', answer.errorInformation)
    else {
      const state = (answer.body as { transferState: string }).transferState
      if (state === 'COMMITTED' || state === 'ABORTED') await this.#payee.settle(asPayee, state)
    }
    await this.#payeeRequests.onTransfer(transferId, asPayee.quoteId)
  }

  /** PATCH /transfers/{ID}: the switch's commit notification to a payee that answered RESERVED. */
  async onTransferPatch(transferId: string, body: { readonly transferState: string }): Promise<void> {
    const { repo, logger } = this.#deps
    const record = await repo.findTransfer(transferId, 'PAYEE')
    if (record === undefined) {
      logger.warn({ transferId }, 'PATCH for a transfer this DFSP did not fulfil; ignored')
      return
    }
    if (body.transferState !== 'COMMITTED' && body.transferState !== 'ABORTED') {
      logger.warn({ transferId, transferState: body.transferState }, 'PATCH with a state that is not final; ignored')
      return
    }
    await this.#payee.settle(record, body.transferState)
    await this.#payeeRequests.onTransfer(transferId, record.quoteId)
  }

  // -------------------------------------------------------------------------------------------------
  // Outbound API

  send(input: SendInput, trace: Trace = {}): Promise<SendOutcome> {
    return this.#payer.send(input, trace)
  }

  lookupParty(idType: string, idValue: string, idSubValue?: string, trace: Trace = {}): Promise<PartyLookup> {
    return this.#payer.lookupParty(idType, idValue, idSubValue, trace)
  }

  async transferStatus(transferId: string): Promise<TransferStatus[]> {
    const records = await this.#deps.repo.findTransfers([transferId])
    if (records.length === 0) throw new NotFoundError('TRANSFER_NOT_FOUND', `transfer ${transferId} is not known to ${this.config.dfspId}`)
    return records.map((record) => ({
      transferId: record.transferId,
      role: record.role,
      state: record.state,
      abortReason: record.abortReason,
      currency: record.currency,
      amount: formatAmount(record.amountMinor, record.currency),
      fee: formatAmount(record.feeMinor, record.currency),
      counterpartyFsp: record.counterpartyFsp,
      counterparty: record.counterparty === null ? null : (JSON.parse(record.counterparty) as unknown),
      quoteId: record.quoteId,
      note: record.note,
      fulfilment: record.state === 'COMMITTED' || record.state === 'RESERVED' ? record.fulfilment : null,
      expiration: isoOf(record.expiresAtMs),
      completedTimestamp: record.completedAtMs === null ? null : isoOf(record.completedAtMs),
      error: record.errorCode === null && record.errorDescription === null ? null : { errorCode: record.errorCode, errorDescription: record.errorDescription },
    }))
  }

  /** The outbound outcome of a payer transfer in a final state, as POST /send would have answered. */
  async payerOutcome(transferId: string): Promise<SendOutcome | undefined> {
    const record = await this.#deps.repo.findTransfer(transferId, 'PAYER')
    if (record === undefined || (record.state !== 'COMMITTED' && record.state !== 'ABORTED')) return undefined
    return { transferId, ...outcomeOf(record) }
  }

  // -------------------------------------------------------------------------------------------------
  // Oracle registration

  /**
   * POST /participants/{Type}/{ID} {fspId, currency} for each party id of the given customers (all by
   * default), waiting for the oracle's PUT for each. Failures are reported, not thrown: a DFSP starts even
   * when the switch is not up yet, and registering again is harmless.
   */
  async registerParties(customers?: readonly Customer[]): Promise<RegistrationResult[]> {
    const list = customers ?? (await this.customers.list())
    const ids = list.flatMap((customer) => [
      ...(customer.msisdn === null ? [] : [{ type: 'MSISDN' as const, id: customer.msisdn }]),
      ...(customer.accountId === null ? [] : [{ type: 'ACCOUNT_ID' as const, id: customer.accountId }]),
    ])
    const results: RegistrationResult[] = []
    for (let start = 0; start < ids.length; start += REGISTRATION_CONCURRENCY) {
      results.push(...(await Promise.all(ids.slice(start, start + REGISTRATION_CONCURRENCY).map(({ type, id }) => this.#register(type, id)))))
    }
    const failed = results.filter((result) => result.status !== 'registered')
    if (failed.length > 0) this.#deps.logger.warn({ failed }, 'some party ids were not registered with the oracle')
    return results
  }

  async #register(type: PartyIdType, id: string): Promise<RegistrationResult> {
    const { waiters, switchApi, config } = this.#deps
    const waiting = waiters.wait(waitKeys.participant(type, id), config.timeouts.participantMs)
    const sent = await switchApi.request('POST', fspiopPath('participants', type, id), { fspId: config.dfspId, currency: config.currency })
    if (sent.kind !== 'accepted') {
      waiting.cancel()
      return { type, id, status: sent.kind, ...(sent.kind === 'refused' && sent.errorInformation !== undefined ? { errorCode: sent.errorInformation.errorCode } : {}) }
    }
    const answer = await waiting.answer
    if (answer === undefined) return { type, id, status: 'timeout' }
    return answer.ok ? { type, id, status: 'registered' } : { type, id, status: 'rejected', errorCode: answer.errorInformation.errorCode }
  }

  // -------------------------------------------------------------------------------------------------
  // Sweeper

  /**
   * One pass over open transfers past their expiration and grace (bounded, least recently checked
   * first): payer transfers are asked about and at last released, payee ones asked about; see Payer.sweep
   * and Payee.settle. Answers how many were looked at.
   */
  sweep(): Promise<number> {
    this.#sweeping ??= this.#sweepOnce().finally(() => {
      this.#sweeping = undefined
    })
    return this.#sweeping
  }

  async #sweepOnce(): Promise<number> {
    const { repo, clock, config, logger } = this.#deps
    const nowMs = clock.nowMs()
    const due = await repo.dueTransfers(nowMs - config.expiryGraceMs, SWEEP_BATCH_MAX)
    for (const record of due) {
      try {
        if (record.role === 'PAYER') await this.#payer.sweep(record, nowMs)
        else if (record.state === 'RECEIVED') await this.#payee.undoUnanswered(record)
        else {
          // Answered RESERVED and no PATCH came: ask. A payee never rolls back without the switch's word.
          await repo.updateTransfer(record.transferId, 'PAYEE', ['RESERVED'], { checkedAtMs: nowMs, updatedAtMs: nowMs })
          await this.#deps.switchApi.request('GET', fspiopPath('transfers', record.transferId), undefined, {})
        }
      } catch (error) {
        logger.error({ err: error, transferId: record.transferId }, 'sweeping a transfer failed')
      }
    }
    return due.length
  }

  startSweeper(): void {
    if (this.#sweeper !== undefined || this.#closed) return
    this.#sweeper = setInterval(() => this.run('sweep', async () => void (await this.sweep())), this.config.sweepIntervalMs)
    this.#sweeper.unref()
  }

  // -------------------------------------------------------------------------------------------------
  // Background work and shutdown

  /** Runs inbound work after the HTTP answer; failures are logged, and close() waits for what runs. */
  run(what: string, work: () => Promise<void>): void {
    if (this.#closed) return
    const task: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(work)
      .catch((error: unknown) => this.#deps.logger.error({ err: error, what }, 'background work failed'))
      .finally(() => this.#tasks.delete(task))
    this.#tasks.add(task)
  }

  /** Resolves when no background work is running: for tests and shutdown. */
  async idle(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks])
  }

  /**
   * The DFSP's own view of its position in the scheme, from its SCHEME account: what its customers sent
   * out (credits) and received (debits), what is held for transfers in flight, and the fees it earned.
   * A positive net position is what it owes the scheme, as a switch position reads.
   */
  async position(): Promise<{ readonly currency: string; readonly sentMinor: bigint; readonly receivedMinor: bigint; readonly inFlightMinor: bigint; readonly netMinor: bigint; readonly feesMinor: bigint }> {
    const { dfspId, currency } = this.config
    const [scheme, fees] = await this.#deps.ledger.lookupAccounts([dfspAccountId(dfspId, currency, 'SCHEME'), dfspAccountId(dfspId, currency, 'FEES')])
    const sentMinor = scheme?.creditsPostedMinor ?? 0n
    const receivedMinor = scheme?.debitsPostedMinor ?? 0n
    return {
      currency,
      sentMinor,
      receivedMinor,
      inFlightMinor: scheme?.creditsPendingMinor ?? 0n,
      netMinor: sentMinor - receivedMinor,
      feesMinor: (fees?.creditsPostedMinor ?? 0n) - (fees?.debitsPostedMinor ?? 0n),
    }
  }

  /** Ends every wait of the outbound API now (its callers get their 504): the first step of a shutdown. */
  cancelWaits(): void {
    this.#deps.waiters.cancelAll()
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper)
    this.#deps.switchApi.stop()
    this.#deps.waiters.cancelAll()
    await this.idle()
    await this.#sweeping
  }
}
