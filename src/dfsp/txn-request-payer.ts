// SPDX-License-Identifier: Apache-2.0
/**
 * The DFSP as the payer of a payee-initiated transaction with OTP (reference §7.2, steps 3–15): the
 * customer's wallet. The payee FSP (an ATM's or merchant's bank) asks with POST /transactionRequests; this
 * DFSP checks the customer, acknowledges RECEIVED, quotes (POST /quotes with the transactionRequestId, type
 * copied, amountType RECEIVE), prices its own fee (fees.withdrawal for WITHDRAWAL, else fees.payer), and
 * challenges the device with GET /authorizations?authenticationType=OTP&retriesLeft=N&amount=<total debit>.
 * The OTP the device sends back (PUT /authorizations ENTERED) is checked by the OtpService, bound to the
 * customer, to the amount asked for at the device and to the request; the retry count is this DFSP's:
 *
 *   right code        hold the total debit, POST /transfers (Payer.transferQuoted); on commit, an SMS naming
 *                     the payee (the merchant, the ATM) and the amount
 *   wrong, tries left another GET /authorizations with retriesLeft one lower
 *   wrong, last try   PUT /transactionRequests REJECTED (the OTP is LOCKED)
 *   expired / used    PUT /transactionRequests REJECTED
 *   RESEND            a new code by SMS (OtpService.resend, attempts carried over), another GET
 *   REJECTED          the OTP is cancelled, PUT /transactionRequests REJECTED
 *
 * authenticationType QRCODE (a POS scans the one-time code the customer's wallet app shows) runs the same
 * table with the customer's live QR code in place of the OTP (OtpService kind QRCODE): the request is refused
 * up front (4100) when the customer has none, since a QR code cannot be sent, only shown; the challenge says
 * QRCODE and the PUT must carry authentication QRCODE; RESEND sends nothing and asks again with the live
 * code's retriesLeft (the app shows it, or a fresh one the customer asked for).
 *
 * Refusals before the challenge go as PUT /transactionRequests/{ID}/error: 3204 unknown payer, 4001 funds
 * short, 4100 no live QR code, 4102 no OTP support (or another authenticationType), 4103 currency; the payee
 * side treats both that and REJECTED as the end.
 *
 * The request's progress is kept in memory (one process per DFSP, as the waiters are) for an hour after it
 * starts (retained-sessions.ts); the OTPs, holds and transfers it drives are in the store. Messages for one
 * request are handled one at a time.
 */
import { HubError } from '../core/errors.ts'
import type { ErrorCode } from '../core/error-catalog.ts'
import { newCorrelationId } from '../core/ids.ts'
import { formatAmount, formatFixed, parseAmount } from '../core/money.ts'
import { errorInformationFor, type ErrorInformation, type FspiopSchemas, type Party, type QuotesIDPutResponse } from '../fspiop/index.ts'
import type { CallbackAnswer, DfspDeps, Inbound } from './context.ts'
import type { FeeRule } from './fees.ts'
import type { ChallengeKind, OtpService } from './otp/otp.ts'
import type { Payer, QuoteSummary } from './payer.ts'
import type { Customer, PartyIdType } from './ports.ts'
import { payerDebit } from './quote-math.ts'
import { fspiopPath } from './switch-api.ts'
import { RetainedSessions, SESSION_RETENTION_MS } from './retained-sessions.ts'
import { nextPayerRequestState, PAYER_REQUEST_TRANSITIONS, type PayerRequestEvent, type PayerRequestState } from './txn-request-state.ts'

export type TransactionRequestsPostRequest = FspiopSchemas['TransactionRequestsPostRequest']
export type AuthorizationsIDPutResponse = FspiopSchemas['AuthorizationsIDPutResponse']

interface PayerSession {
  readonly id: string
  state: PayerRequestState
  readonly inbound: Inbound
  readonly customer: Customer
  readonly from: Party
  readonly to: Party
  readonly payeeFsp: string
  readonly requestedMinor: bigint
  readonly feeRule: FeeRule
  readonly transactionId: string
  readonly note: string | undefined
  /** What the device collects: the OTP typed, or the QR code scanned. */
  readonly authentication: ChallengeKind
  quoted?: { readonly quoteId: string; readonly response: QuotesIDPutResponse; readonly transferAmountMinor: bigint; readonly payerFeeMinor: bigint; readonly totalDebitMinor: bigint }
  /** The answer last sent as PUT /transactionRequests (or its error), for a resent POST. */
  answered?: { readonly path: string; readonly body: object }
  /** Serializes the messages of this request. */
  queue: Promise<void>
}

export class PayerTransactionRequests {
  readonly #deps: DfspDeps
  readonly #payer: Payer
  readonly #otp: OtpService | undefined
  readonly #sessions: RetainedSessions<PayerSession>

  constructor(deps: DfspDeps, payer: Payer, otp: OtpService | undefined) {
    this.#sessions = new RetainedSessions<PayerSession>({
      retentionMs: SESSION_RETENTION_MS,
      max: deps.config.requestSessionsMax,
      clock: deps.clock,
      isSettled: (session) => session.state === 'COMMITTED' || session.state === 'REJECTED',
    })
    this.#deps = deps
    this.#payer = payer
    this.#otp = otp
  }

  /** POST /transactionRequests from a payee FSP. */
  async onRequest(inbound: Inbound, body: TransactionRequestsPostRequest): Promise<void> {
    const { config, customers, logger } = this.#deps
    const id = body.transactionRequestId
    const path = fspiopPath('transactionRequests', id)
    const existing = this.#sessions.get(id)
    if (existing !== undefined) {
      // A resend: the same answer again (none yet while the first is being worked on).
      if (existing.answered !== undefined) await this.#callback(inbound, existing.answered.path, existing.answered.body)
      return
    }
    const refuse = async (code: ErrorCode, message: string): Promise<void> => {
      logger.info({ transactionRequestId: id, code, reason: message }, 'transaction request refused')
      await this.#callback(inbound, `${path}/error`, errorInformationFor(code, message))
    }
    const authentication = body.authenticationType
    if (this.#otp === undefined || (authentication !== 'OTP' && authentication !== 'QRCODE')) {
      await refuse('PAYER_UNSUPPORTED_TRANSACTION_TYPE', `${config.dfspId} approves payee-initiated payments by OTP or QR code only`)
      return
    }
    if (body.amount.currency !== config.currency) {
      await refuse('PAYER_UNSUPPORTED_CURRENCY', `${config.dfspId} holds ${config.currency} only`)
      return
    }
    const payerId = body.payer
    const customer =
      (payerId.partyIdType === 'MSISDN' || payerId.partyIdType === 'ACCOUNT_ID') && payerId.partySubIdOrType === undefined
        ? await customers.findByParty(payerId.partyIdType as PartyIdType, payerId.partyIdentifier)
        : undefined
    if (customer === undefined) {
      await refuse('PARTY_NOT_FOUND', `${payerId.partyIdType} ${payerId.partyIdentifier} is not a customer of ${config.dfspId}`)
      return
    }
    const amount = parseAmount(body.amount.amount, config.currency, { maxMinor: config.schemeMaxMinor })
    if (!amount.ok || amount.value <= 0n) {
      await refuse('VALIDATION', `amount ${body.amount.amount} is not acceptable`)
      return
    }
    if ((await customers.balance(customer)).availableMinor < amount.value) {
      await refuse('PAYER_INSUFFICIENT_LIQUIDITY', 'insufficient funds')
      return
    }
    // A QR code cannot be sent to the customer: the wallet app must have shown one before the POS asks.
    if (authentication === 'QRCODE' && (await this.#otp.findLive(customer.customerId, 'QRCODE')) === undefined) {
      await refuse('PAYER_REJECTION', 'the customer has no live QR code: show one in the wallet app first')
      return
    }
    if (this.#sessions.has(id)) return
    const payeeFsp = body.payee.partyIdInfo.fspId ?? inbound.source
    const session: PayerSession = {
      id,
      state: 'QUOTING',
      inbound,
      customer,
      from: customers.payerPartyOf(customer),
      to: { ...body.payee, partyIdInfo: { ...body.payee.partyIdInfo, fspId: payeeFsp } },
      payeeFsp,
      requestedMinor: amount.value,
      feeRule: body.transactionType.scenario === 'WITHDRAWAL' ? config.fees.withdrawal : config.fees.payer,
      // The SDK's convention: the transaction id is also the transfer id.
      transactionId: newCorrelationId(),
      note: body.note,
      authentication,
      queue: Promise.resolve(),
    }
    this.#sessions.set(id, session)
    session.answered = { path, body: { transactionId: session.transactionId, transactionRequestState: 'RECEIVED' } }
    await this.#callback(inbound, path, session.answered.body)
    await this.#serially(session, () => this.#quoteAndChallenge(session, body))
  }

  /** PUT /authorizations/{ID} (or its /error) from the payee FSP: what the customer did at the device. */
  onAuthorization(id: string, answer: CallbackAnswer): Promise<void> {
    const session = this.#sessions.get(id)
    if (session === undefined) {
      this.#deps.logger.warn({ transactionRequestId: id }, 'authorization for a transaction request this DFSP does not know; ignored')
      return Promise.resolve()
    }
    return this.#serially(session, () => this.#authorization(session, answer))
  }

  /** The request's state, for tests and support. */
  stateOf(id: string): PayerRequestState | undefined {
    return this.#sessions.get(id)?.state
  }

  async #quoteAndChallenge(session: PayerSession, body: TransactionRequestsPostRequest): Promise<void> {
    const { config } = this.#deps
    const quoted = await this.#payer.quote(
      { amountType: 'RECEIVE', transactionType: body.transactionType, transactionRequestId: session.id, ...(body.note === undefined ? {} : { note: body.note }) },
      session.transactionId,
      session.from,
      session.to,
      session.requestedMinor,
      session.inbound.trace,
    )
    if (!quoted.ok) {
      await this.#reject(session, quoted.failure.fspiopError ?? errorInformationFor('PAYER_REJECTION', `the quote failed: ${quoted.failure.message}`).errorInformation)
      return
    }
    const debit = payerDebit('RECEIVE', session.requestedMinor, quoted.transferAmountMinor, session.feeRule)
    session.quoted = { quoteId: quoted.quoteId, response: quoted.response, transferAmountMinor: quoted.transferAmountMinor, ...debit }
    if ((await this.#deps.customers.balance(session.customer)).availableMinor < debit.totalDebitMinor) {
      await this.#reject(session, errorInformationFor('PAYER_INSUFFICIENT_LIQUIDITY', 'insufficient funds for the amount with fees').errorInformation)
      return
    }
    const otp = this.#otp as OtpService
    let retriesLeft: number
    if (session.authentication === 'QRCODE') {
      const live = await otp.findLive(session.customer.customerId, 'QRCODE')
      if (live === undefined) {
        await this.#reject(session, errorInformationFor('PAYER_REJECTION', 'the customer no longer has a live QR code').errorInformation)
        return
      }
      this.#move(session, 'challenge')
      await this.#challenge(session, live.retriesLeft)
      return
    }
    try {
      const live = await otp.findLive(session.customer.customerId)
      // No code asked for in advance (the POS case, figure 37): one is issued now, bound to this request.
      retriesLeft =
        live !== undefined && (live.transactionRequestId === null || live.transactionRequestId === session.id)
          ? live.retriesLeft
          : (await otp.issue(session.customer.customerId, { amountMinor: session.requestedMinor, currency: config.currency, transactionRequestId: session.id })).retriesLeft
    } catch (error) {
      await this.#reject(session, errorInformationFor('PAYER_REJECTION', error instanceof HubError ? error.message : 'no OTP could be issued').errorInformation)
      return
    }
    this.#move(session, 'challenge')
    await this.#challenge(session, retriesLeft)
  }

  async #authorization(session: PayerSession, answer: CallbackAnswer): Promise<void> {
    const { logger, config } = this.#deps
    const otp = this.#otp as OtpService
    const customerId = session.customer.customerId
    if (session.state !== 'AWAITING_AUTHORIZATION') {
      logger.warn({ transactionRequestId: session.id, state: session.state }, 'authorization for a transaction request not waiting for one; ignored')
      return
    }
    const kind = session.authentication
    if (!answer.ok) {
      await otp.cancel(customerId, kind)
      await this.#reject(session)
      return
    }
    const body = answer.body as AuthorizationsIDPutResponse
    if (body.responseType === 'REJECTED') {
      await otp.cancel(customerId, kind)
      await this.#reject(session)
      return
    }
    if (body.responseType === 'RESEND' && kind === 'QRCODE') {
      // Nothing to send: the app shows the live code (or a fresh one the customer asked for). Ask again.
      const live = await otp.findLive(customerId, 'QRCODE')
      if (live === undefined) {
        await this.#reject(session, errorInformationFor('PAYER_REJECTION', 'the customer no longer has a live QR code').errorInformation)
        return
      }
      this.#move(session, 'retry')
      await this.#challenge(session, live.retriesLeft)
      return
    }
    if (body.responseType === 'RESEND') {
      try {
        const live = await otp.findLive(customerId)
        const issued =
          live === undefined
            ? await otp.issue(customerId, { amountMinor: session.requestedMinor, currency: config.currency, transactionRequestId: session.id })
            : await otp.resend(customerId)
        this.#move(session, 'retry')
        await this.#challenge(session, issued.retriesLeft)
      } catch (error) {
        await this.#reject(session, errorInformationFor('PAYER_REJECTION', error instanceof HubError ? error.message : 'the OTP could not be sent again').errorInformation)
      }
      return
    }
    const code = body.authenticationInfo?.authenticationValue
    if (typeof code !== 'string') {
      await this.#reject(session, errorInformationFor('VALIDATION', 'ENTERED without an authentication value').errorInformation)
      return
    }
    if (body.authenticationInfo?.authentication !== kind) {
      await otp.cancel(customerId, kind)
      await this.#reject(session, errorInformationFor('VALIDATION', `the transaction request is authorized by ${kind}, not ${String(body.authenticationInfo?.authentication)}`).errorInformation)
      return
    }
    const verified = await otp.verify(customerId, code, { amountMinor: session.requestedMinor, currency: config.currency, transactionRequestId: session.id }, kind)
    if (!verified.ok) {
      if ((verified.reason === 'wrong' || verified.reason === 'amount_mismatch') && verified.retriesLeft > 0) {
        this.#move(session, 'retry')
        await this.#challenge(session, verified.retriesLeft)
        return
      }
      // Exhausted (LOCKED), expired, used or none: the OTP is already final; the request ends.
      logger.info({ transactionRequestId: session.id, kind, reason: verified.reason }, 'code not accepted; transaction request rejected')
      await this.#reject(session)
      return
    }
    this.#move(session, 'authorize')
    await this.#transfer(session)
  }

  async #transfer(session: PayerSession): Promise<void> {
    const { config } = this.#deps
    const quoted = session.quoted
    if (quoted === undefined) return
    const money = (minor: bigint): string => formatAmount(minor, config.currency)
    const quote: QuoteSummary = {
      quoteId: quoted.quoteId,
      transactionId: session.transactionId,
      amountType: 'RECEIVE',
      currency: config.currency,
      amount: money(session.requestedMinor),
      quoteAmount: money(session.requestedMinor),
      transferAmount: quoted.response.transferAmount.amount,
      payerFee: money(quoted.payerFeeMinor),
      totalDebit: money(quoted.totalDebitMinor),
      expiration: quoted.response.expiration,
    }
    const outcome = await this.#payer.transferQuoted({
      customer: session.customer,
      from: session.from,
      to: session.to,
      transferId: session.transactionId,
      quoteId: quoted.quoteId,
      response: quoted.response,
      quote,
      payerFeeMinor: quoted.payerFeeMinor,
      note: session.note,
      echo: {},
      trace: session.inbound.trace,
    })
    if (outcome.currentState === 'COMMITTED') {
      this.#move(session, 'commit')
      const fee = quoted.payerFeeMinor + (quoted.transferAmountMinor - session.requestedMinor)
      const fixed = (minor: bigint): string => formatFixed(minor, config.currency)
      await this.#otp?.notify(
        session.customer.customerId,
        `${fixed(quoted.totalDebitMinor)} ${config.currency} paid to ${session.to.name ?? session.to.partyIdInfo.partyIdentifier} (amount ${fixed(session.requestedMinor)}, fees ${fixed(fee)}). Ref ${session.transactionId}.`,
      )
      return
    }
    // RESERVED: the switch has not said yet; the transfer's own sweeper settles it. Otherwise it failed.
    if (outcome.currentState === 'RESERVED') return
    await this.#reject(session, outcome.error?.fspiopError)
  }

  async #challenge(session: PayerSession, retriesLeft: number): Promise<void> {
    const { config, switchApi } = this.#deps
    const amount = formatAmount(session.quoted?.totalDebitMinor ?? session.requestedMinor, config.currency)
    const query = new URLSearchParams({ authenticationType: session.authentication, retriesLeft: String(retriesLeft), amount, currency: config.currency })
    const sent = await switchApi.request('GET', `${fspiopPath('authorizations', session.id)}?${query.toString()}`, undefined, { destination: session.payeeFsp, trace: session.inbound.trace })
    if (sent.kind !== 'accepted') {
      this.#deps.logger.warn({ transactionRequestId: session.id, sent }, 'GET /authorizations was not taken; transaction request rejected')
      await this.#otp?.cancel(session.customer.customerId, session.authentication)
      await this.#reject(session)
    }
  }

  /** Ends the request: PUT /transactionRequests REJECTED, or its /error when there is a reason to give. */
  async #reject(session: PayerSession, error?: ErrorInformation): Promise<void> {
    if (PAYER_REQUEST_TRANSITIONS[session.state].reject === undefined) return
    this.#move(session, 'reject')
    const path = fspiopPath('transactionRequests', session.id)
    session.answered = error === undefined ? { path, body: { transactionId: session.transactionId, transactionRequestState: 'REJECTED' } } : { path: `${path}/error`, body: { errorInformation: error } }
    await this.#callback(session.inbound, session.answered.path, session.answered.body)
  }

  #move(session: PayerSession, event: PayerRequestEvent): void {
    session.state = nextPayerRequestState(session.state, event)
  }

  #serially(session: PayerSession, work: () => Promise<void>): Promise<void> {
    const run = session.queue.then(work)
    session.queue = run.catch(() => undefined)
    return run
  }

  async #callback(inbound: Inbound, path: string, body: object): Promise<void> {
    await this.#deps.switchApi.callback(path, body, { destination: inbound.source, version: inbound.version, trace: inbound.trace })
  }
}
