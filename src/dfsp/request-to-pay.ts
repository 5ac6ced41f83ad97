// SPDX-License-Identifier: Apache-2.0
/**
 * The DFSP as the payee of a payee-initiated transaction with OTP (reference §7): the ATM's or merchant's
 * bank. Its terminal gateway calls a synchronous API over FSPIOP's asynchronous exchanges:
 *
 *   requestToPay  GET /parties (the payer) → POST /transactionRequests → wait for the payer FSP's quote
 *                 (POST /quotes naming this transactionRequestId, answered by Payee.onQuoteRequest) and its
 *                 GET /authorizations → AWAITING_AUTHORIZATION with the amount to show (total debit) and
 *                 retriesLeft; or REJECTED with the FSPIOP error (3204, 4001, …); or FAILED on a timeout
 *   authorize     PUT /authorizations ENTERED with the OTP typed or the QR code scanned (the request's
 *                 authenticationType, OTP or QRCODE) → wait: a new GET /authorizations (RETRY, retriesLeft),
 *                 or POST /transfers (answered RESERVED, whatever payeeTransferState says, reference §4.5)
 *                 and then PATCH COMMITTED (COMMITTED: only now may the device dispense), or REJECTED
 *   resend        PUT /authorizations RESEND → wait for the new GET
 *   reject        PUT /authorizations REJECTED
 *   refund        for a committed cash-out whose dispense failed: a new FSPIOP transaction, scenario REFUND,
 *                 from the device's account to the customer, of the total the customer was debited (the
 *                 authorization amount): FSPIOP has no reversal
 *
 * The device's (or merchant's) account is the customer whose account id is the payee's idValue; the payee
 * fee of the quote goes to FEES, as for any incoming payment. When the transfer commits, that customer is
 * told by SMS through this DFSP's notifications outbox (when it has an MSISDN): the merchant learns of the
 * payment at its POS, with the amount and the payer's name. Progress is kept in memory (one process per
 * DFSP, as the waiters are) for an hour after a request starts (retained-sessions.ts); the quotes and
 * transfers are in the store. A DFSP restarted mid-request loses that request's progress: the device sees
 * its timeout, and what was held for it is released by the transfer's expiry.
 */
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.ts'
import { isCorrelationId, newCorrelationId } from '../core/ids.ts'
import { formatAmount, formatFixed, parseAmount } from '../core/money.ts'
import { errorInformationFor, type ErrorInformation, type FspiopSchemas, type Money, type Party } from '../fspiop/index.ts'
import type { CallbackAnswer, DfspDeps, Inbound } from './context.ts'
import type { NotificationOutbox } from './otp/notifications.ts'
import { QR_CODE_VALUE, type ChallengeKind } from './otp/otp.ts'
import { httpStatusForPeerError, type Payer, type SendOutcome } from './payer.ts'
import type { Customer, QuoteRecord } from './ports.ts'
import { fspiopPath, type Trace } from './switch-api.ts'
import { RetainedSessions, SESSION_RETENTION_MS } from './retained-sessions.ts'
import { nextPayeeRequestState, PAYEE_REQUEST_TRANSITIONS, type PayeeRequestEvent, type PayeeRequestState } from './txn-request-state.ts'

export interface RequestToPayInput {
  /** A UUID chosen by the caller: the same id answers the same request again. Default: a new one. */
  readonly transactionRequestId?: string
  readonly payer: { readonly idType: string; readonly idValue: string }
  /** The device or merchant: its idValue is the account id of this DFSP's customer credited. */
  readonly payee: { readonly idType: string; readonly idValue: string; readonly idSubValue?: string; readonly name?: string }
  readonly amount: string
  readonly currency: string
  readonly scenario: 'WITHDRAWAL' | 'PAYMENT'
  readonly initiatorType: 'DEVICE' | 'BUSINESS' | 'AGENT'
  readonly authenticationType: 'OTP' | 'QRCODE'
  readonly note?: string
}

export interface RequestToPayQuote {
  readonly currency: string
  /** What the device asked for (the cash, the goods). */
  readonly amount: string
  /** What the payer FSP transfers: amount + payee fee. */
  readonly transferAmount?: string
  readonly payeeFee?: string
  /** The payer FSP's own fee, as far as it shows: totalDebit − transferAmount. */
  readonly payerFee?: string
  /** All fees the customer pays: totalDebit − amount. */
  readonly fees?: string
  /** The authorization amount: what leaves the customer's account. Show it before asking for the OTP. */
  readonly totalDebit?: string
}

export interface RequestToPayView {
  readonly httpStatus: number
  readonly transactionRequestId: string
  /** The request's state; POST …/authorization answers RETRY for a wrong OTP with retries left. */
  readonly state: PayeeRequestState | 'RETRY'
  readonly quote?: RequestToPayQuote
  readonly retriesLeft?: number
  readonly transactionId?: string
  readonly transferId?: string
  readonly completedTimestamp?: string
  readonly amount?: string
  readonly refund?: { readonly transferId?: string; readonly state: string; readonly completedTimestamp?: string }
  readonly error?: { readonly errorCode: string; readonly errorDescription: string }
}

interface PayeeSession {
  readonly id: string
  state: PayeeRequestState
  readonly input: RequestToPayInput
  readonly account: Customer
  readonly amountMinor: bigint
  payerFsp?: string
  payerParty?: Party
  received: boolean
  quote?: QuoteRecord
  transactionId?: string
  authorization?: { readonly amount: string; readonly currency: string; readonly retriesLeft: number }
  transferId?: string
  completedTimestamp?: string
  error?: ErrorInformation
  /** Set while a step of the API works on the request, so that two calls do not both act. */
  busy: boolean
  refund?: SendOutcome
  readonly listeners: Set<() => void>
}

const PARTY_ID_TYPES = new Set(['MSISDN', 'EMAIL', 'PERSONAL_ID', 'BUSINESS', 'DEVICE', 'ACCOUNT_ID', 'IBAN', 'ALIAS'])
/** What a device may send per authenticationType: FSPIOP OtpValue, and QRCODE (1 to 64 printable characters). */
const AUTHENTICATION_VALUES: { readonly [K in ChallengeKind]: { readonly pattern: RegExp; readonly says: string } } = {
  OTP: { pattern: /^\d{3,10}$/, says: 'an OTP is 3 to 10 digits' },
  QRCODE: { pattern: QR_CODE_VALUE, says: 'a QR code is 1 to 64 printable characters without spaces' },
}

/** How the payee side tells its own customer (the merchant, the ATM's owner) of a committed payment. */
export interface PayeeNotices {
  readonly outbox: NotificationOutbox
  /** The name SMS are signed with. */
  readonly senderName: string
}

export class PayeeTransactionRequests {
  readonly #deps: DfspDeps
  readonly #payer: Payer
  readonly #notices: PayeeNotices | undefined
  readonly #byQuote = new Map<string, PayeeSession>()
  readonly #sessions: RetainedSessions<PayeeSession>

  constructor(deps: DfspDeps, payer: Payer, notices?: PayeeNotices) {
    this.#sessions = new RetainedSessions<PayeeSession>({
      retentionMs: SESSION_RETENTION_MS,
      max: deps.config.requestSessionsMax,
      clock: deps.clock,
      isSettled: (session) => !session.busy && (session.state === 'COMMITTED' || session.state === 'REJECTED' || session.state === 'FAILED' || session.state === 'REFUNDED'),
      onForget: (_id, session) => {
        if (session.quote !== undefined) this.#byQuote.delete(session.quote.quoteId)
      },
    })
    this.#deps = deps
    this.#payer = payer
    this.#notices = notices
  }

  // -------------------------------------------------------------------------------------------------
  // The terminal gateway's API

  async requestToPay(input: RequestToPayInput, trace: Trace = {}): Promise<RequestToPayView> {
    const { config, customers, switchApi } = this.#deps
    const amountMinor = checkInput(input, config.currency, config.schemeMaxMinor)
    const id = input.transactionRequestId ?? newCorrelationId()
    const existing = this.#sessions.get(id)
    if (existing !== undefined) {
      await this.#waitFor(existing, (s) => s.state !== 'REQUESTED')
      return this.#view(existing)
    }
    const account = await customers.findByParty('ACCOUNT_ID', input.payee.idValue)
    if (account === undefined) throw new NotFoundError('PARTY_NOT_FOUND', `${input.payee.idType} ${input.payee.idValue} has no account at ${config.dfspId}`)
    if (this.#sessions.has(id)) return this.#view(this.#sessions.get(id) as PayeeSession)
    const session: PayeeSession = { id, state: 'REQUESTED', input, account, amountMinor, received: false, busy: true, listeners: new Set() }
    this.#sessions.set(id, session)
    try {
      const lookup = await this.#payer.lookupParty(input.payer.idType, input.payer.idValue, undefined, trace)
      if (!lookup.ok) {
        // A look-up that timed out or never reached the switch is 2004/1001 (the device says "try later"), not 3204.
        this.#end(session, 'reject', lookup.failure.fspiopError ?? errorInformationFor(lookup.failure.code, lookup.failure.message).errorInformation)
        return this.#view(session)
      }
      session.payerParty = lookup.party
      const payerFsp = lookup.party.partyIdInfo.fspId as string
      session.payerFsp = payerFsp
      const request: FspiopSchemas['TransactionRequestsPostRequest'] = {
        transactionRequestId: id,
        payee: {
          partyIdInfo: {
            partyIdType: input.payee.idType as Party['partyIdInfo']['partyIdType'],
            partyIdentifier: input.payee.idValue,
            ...(input.payee.idSubValue === undefined ? {} : { partySubIdOrType: input.payee.idSubValue }),
            fspId: config.dfspId,
          },
          ...(input.payee.name === undefined ? { name: account.name } : { name: input.payee.name }),
        },
        payer: { partyIdType: lookup.party.partyIdInfo.partyIdType, partyIdentifier: lookup.party.partyIdInfo.partyIdentifier, fspId: payerFsp },
        amount: { amount: formatAmount(amountMinor, config.currency), currency: config.currency as Money['currency'] },
        transactionType: { scenario: input.scenario, initiator: 'PAYEE', initiatorType: input.initiatorType },
        authenticationType: input.authenticationType,
        ...(input.note === undefined ? {} : { note: input.note }),
        expiration: new Date(this.#deps.clock.nowMs() + config.timeouts.requestToPayMs).toISOString(),
      }
      const sent = await switchApi.request('POST', '/transactionRequests', request, { destination: payerFsp, trace })
      if (sent.kind !== 'accepted') {
        const error = sent.kind === 'refused' && sent.errorInformation !== undefined ? sent.errorInformation : errorInformationFor('DESTINATION_COMMUNICATION', 'the switch did not take the request').errorInformation
        this.#end(session, 'fail', error)
        return this.#view(session)
      }
      const moved = await this.#waitFor(session, (s) => s.state !== 'REQUESTED')
      if (!moved) this.#end(session, 'fail', errorInformationFor('SERVER_TIMED_OUT', 'the payer FSP did not challenge in time').errorInformation)
      return this.#view(session)
    } finally {
      session.busy = false
    }
  }

  /**
   * POST /requestToPay/{id}/authorization: the OTP the customer typed, or the QR code the device scanned, as
   * the request's authenticationType says. `as`, when given, is what the caller thinks it sends: a mismatch is
   * refused rather than spending one of the customer's tries.
   */
  async authorize(id: string, value: string, trace: Trace = {}, as?: ChallengeKind): Promise<RequestToPayView> {
    const kind = this.#get(id).input.authenticationType
    if (as !== undefined && as !== kind) throw new ValidationError(`transaction request ${id} is authorized by ${kind}, not ${as}`, { authenticationType: kind })
    const rule = AUTHENTICATION_VALUES[kind]
    if (typeof value !== 'string' || !rule.pattern.test(value)) throw new ValidationError(rule.says, { authenticationType: kind })
    return this.#submit(id, { authenticationInfo: { authentication: kind, authenticationValue: value }, responseType: 'ENTERED' }, trace)
  }

  /** POST /requestToPay/{id}/resend: the customer did not get the code. */
  resend(id: string, trace: Trace = {}): Promise<RequestToPayView> {
    return this.#submit(id, { responseType: 'RESEND' }, trace)
  }

  /** POST /requestToPay/{id}/reject: the customer declined at the device. */
  async reject(id: string, trace: Trace = {}): Promise<RequestToPayView> {
    const session = this.#get(id)
    if (session.state !== 'AWAITING_AUTHORIZATION' || session.busy) throw new ConflictError(`transaction request ${id} is ${session.state}, not awaiting authorization`, { state: session.state })
    this.#end(session, 'reject', errorInformationFor('PAYER_REJECTED_TRANSACTION_REQUEST', 'the customer declined at the device').errorInformation)
    await this.#deps.switchApi.callback(fspiopPath('authorizations', id), { responseType: 'REJECTED' }, { destination: session.payerFsp as string, trace })
    return this.#view(session)
  }

  /** POST /requestToPay/{id}/refund: gives a committed cash-out back (the dispense failed). */
  async refund(id: string, reason: string | undefined, trace: Trace = {}): Promise<RequestToPayView> {
    const { config } = this.#deps
    const session = this.#get(id)
    if (session.state === 'REFUNDED') return this.#view(session)
    if (session.state !== 'COMMITTED' || session.busy) throw new ConflictError(`transaction request ${id} is ${session.state}: only a committed one can be refunded`, { state: session.state })
    const account = session.account
    if (account.accountId === null || session.payerParty === undefined || session.transactionId === undefined) throw new ConflictError(`transaction request ${id} cannot be refunded`)
    session.busy = true
    try {
      // The customer gets back all they were debited: the authorization amount, fees included.
      const amount = session.authorization?.amount ?? formatAmount(session.amountMinor, config.currency)
      const outcome = await this.#payer.send(
        {
          from: { accountId: account.accountId },
          to: { idType: session.payerParty.partyIdInfo.partyIdType, idValue: session.payerParty.partyIdInfo.partyIdentifier },
          amount,
          currency: config.currency,
          amountType: 'RECEIVE',
          note: `Refund ${session.transactionId}`.slice(0, 128),
          refundOf: { originalTransactionId: session.transactionId, ...(reason === undefined ? {} : { reason }) },
        },
        trace,
      )
      session.refund = outcome
      if (outcome.currentState === 'COMMITTED') this.#move(session, 'refund')
      return { ...this.#view(session), ...(outcome.currentState === 'COMMITTED' ? {} : { httpStatus: outcome.httpStatus }) }
    } finally {
      session.busy = false
    }
  }

  status(id: string): RequestToPayView {
    return this.#view(this.#get(id))
  }

  // -------------------------------------------------------------------------------------------------
  // FSPIOP, from the payer FSP through the switch

  /** PUT /transactionRequests/{ID} or its /error. */
  onAnswer(id: string, answer: CallbackAnswer): void {
    const session = this.#sessions.get(id)
    if (session === undefined) {
      this.#deps.logger.warn({ transactionRequestId: id }, 'answer for a transaction request this DFSP did not send; ignored')
      return
    }
    if (!answer.ok) {
      this.#end(session, 'reject', answer.errorInformation)
      return
    }
    const body = answer.body as FspiopSchemas['TransactionRequestsIDPutResponse']
    if (body.transactionId !== undefined) session.transactionId ??= body.transactionId
    if (body.transactionRequestState === 'REJECTED') {
      this.#end(session, 'reject', errorInformationFor('PAYER_REJECTED_TRANSACTION_REQUEST', 'the payer FSP rejected the transaction request').errorInformation)
      return
    }
    session.received = true
    this.#changed(session)
  }

  /** After Payee.onQuoteRequest answered a POST /quotes: links a quote naming one of our requests. */
  async onQuote(transactionRequestId: string, quoteId: string): Promise<void> {
    const session = this.#sessions.get(transactionRequestId)
    if (session === undefined) return
    const quote = await this.#deps.repo.findQuote(quoteId, 'PAYEE')
    if (quote === undefined || quote.state !== 'ACCEPTED') return
    if (quote.payeeReceiveAmountMinor !== session.amountMinor) {
      this.#deps.logger.warn({ transactionRequestId, quoteId }, 'the payer FSP quoted another amount than requested')
    }
    session.quote = quote
    session.transactionId = quote.transactionId
    this.#byQuote.set(quoteId, session)
    this.#changed(session)
  }

  /** GET /authorizations/{ID}?authenticationType=…&retriesLeft=…&amount=…&currency=… */
  async onChallenge(inbound: Inbound, id: string, query: Readonly<Record<string, string | undefined>>): Promise<void> {
    const path = fspiopPath('authorizations', id)
    const session = this.#sessions.get(id)
    const answer = (body: object): Promise<unknown> => this.#deps.switchApi.callback(path, body, { destination: inbound.source, version: inbound.version, trace: inbound.trace })
    if (session === undefined) {
      await answer(errorInformationFor('TRANSACTION_REQUEST_NOT_FOUND', `transaction request ${id} is not known to ${this.#deps.config.dfspId}`))
      return
    }
    const retriesLeft = Number(query.retriesLeft)
    const kind = session.input.authenticationType
    if (query.authenticationType !== kind || !Number.isInteger(retriesLeft) || retriesLeft < 1 || query.amount === undefined || query.currency === undefined) {
      await answer(errorInformationFor('VALIDATION', `authenticationType ${kind} (as requested), retriesLeft, amount and currency are required`))
      return
    }
    if (PAYEE_REQUEST_TRANSITIONS[session.state].challenge === undefined) {
      // The device is no longer there (the request failed or was declined here): tell the payer FSP.
      if (session.state === 'FAILED' || session.state === 'REJECTED') await answer({ responseType: 'REJECTED' })
      return
    }
    session.authorization = { amount: query.amount, currency: query.currency, retriesLeft }
    this.#move(session, 'challenge')
  }

  /**
   * After the payee side handled POST /transfers, PATCH or a PUT about a transfer: follows its record.
   * `quoteId` is the record's quote (null: none): a transfer for no request of ours (every P2P one) is
   * passed over without reading the record.
   */
  async onTransfer(transferId: string, quoteId: string | null): Promise<void> {
    if (quoteId === null || !this.#byQuote.has(quoteId)) return
    const record = await this.#deps.repo.findTransfer(transferId, 'PAYEE')
    if (record?.quoteId === null || record === undefined) return
    const session = this.#byQuote.get(record.quoteId)
    if (session === undefined) return
    session.transferId = transferId
    if (record.completedAtMs !== null) session.completedTimestamp = new Date(record.completedAtMs).toISOString()
    if (record.state === 'RESERVED' || record.state === 'COMMITTED') this.#tryMove(session, 'prepare')
    if (record.state === 'COMMITTED' && this.#tryMove(session, 'commit')) await this.#notifyPayee(session)
    if (record.state === 'ABORTED') this.#end(session, 'fail', { errorCode: record.errorCode ?? '5105', errorDescription: record.errorDescription ?? 'the transfer was aborted' })
  }

  /** True when the quote belongs to a transaction request: its transfer is answered RESERVED. */
  static isRequestQuote(quote: QuoteRecord): boolean {
    // JSON text without the key cannot have it: most quotes (P2P) are answered without parsing the request.
    if (!quote.request.includes('"transactionRequestId"')) return false
    try {
      return (JSON.parse(quote.request) as { transactionRequestId?: unknown }).transactionRequestId !== undefined
    } catch {
      return false
    }
  }

  // -------------------------------------------------------------------------------------------------

  async #submit(id: string, body: FspiopSchemas['AuthorizationsIDPutResponse'], trace: Trace): Promise<RequestToPayView> {
    const session = this.#get(id)
    if (session.state !== 'AWAITING_AUTHORIZATION' || session.busy) throw new ConflictError(`transaction request ${id} is ${session.state}, not awaiting authorization`, { state: session.state })
    session.busy = true
    try {
      this.#move(session, 'submit')
      const sent = await this.#deps.switchApi.callback(fspiopPath('authorizations', id), body, { destination: session.payerFsp as string, trace })
      if (sent.kind !== 'accepted') {
        this.#end(session, 'fail', errorInformationFor('DESTINATION_COMMUNICATION', 'the switch did not take the authorization').errorInformation)
        return this.#view(session)
      }
      const settled = await this.#waitFor(session, (s) => s.state !== 'AUTHORIZING' && s.state !== 'TRANSFERRING')
      const view = this.#view(session)
      if (!settled) return { ...view, httpStatus: 504, error: errorInformationFor('SERVER_TIMED_OUT', 'no outcome yet: ask GET /requestToPay/{id}; do not dispense').errorInformation }
      if (body.responseType === 'ENTERED' && session.state === 'AWAITING_AUTHORIZATION') return { ...view, state: 'RETRY' }
      return view
    } finally {
      session.busy = false
    }
  }

  #view(session: PayeeSession): RequestToPayView {
    const { currency } = this.#deps.config
    const money = (minor: bigint): string => formatAmount(minor, currency)
    const quote = session.quote
    const totalMinor = session.authorization === undefined ? undefined : parseAmount(session.authorization.amount, currency)
    const total = totalMinor?.ok === true ? totalMinor.value : undefined
    const quoteView: RequestToPayQuote = {
      currency,
      amount: money(session.amountMinor),
      ...(quote?.transferAmountMinor == null ? {} : { transferAmount: money(quote.transferAmountMinor) }),
      ...(quote?.payeeFspFeeMinor == null ? {} : { payeeFee: money(quote.payeeFspFeeMinor) }),
      ...(total === undefined ? {} : { totalDebit: money(total), fees: money(total - session.amountMinor) }),
      ...(total === undefined || quote?.transferAmountMinor == null || total < quote.transferAmountMinor ? {} : { payerFee: money(total - quote.transferAmountMinor) }),
    }
    const httpStatus =
      session.state === 'REJECTED' || session.state === 'FAILED'
        ? session.error?.errorCode === '2004'
          ? 504
          : httpStatusForPeerError(session.error?.errorCode ?? '4101')
        : 200
    return {
      httpStatus,
      transactionRequestId: session.id,
      state: session.state,
      quote: quoteView,
      ...(session.authorization === undefined || session.state !== 'AWAITING_AUTHORIZATION' ? {} : { retriesLeft: session.authorization.retriesLeft }),
      ...(session.transactionId === undefined ? {} : { transactionId: session.transactionId }),
      ...(session.transferId === undefined ? {} : { transferId: session.transferId }),
      ...(session.completedTimestamp === undefined || (session.state !== 'COMMITTED' && session.state !== 'REFUNDED') ? {} : { completedTimestamp: session.completedTimestamp }),
      ...(session.state === 'COMMITTED' || session.state === 'REFUNDED' ? { amount: money(session.amountMinor) } : {}),
      ...(session.refund === undefined
        ? {}
        : {
            refund: {
              state: session.refund.currentState,
              ...(session.refund.transferId === undefined ? {} : { transferId: session.refund.transferId }),
              ...(session.refund.transfer?.completedTimestamp === undefined ? {} : { completedTimestamp: session.refund.transfer.completedTimestamp }),
            },
          }),
      ...(session.error === undefined || (session.state !== 'REJECTED' && session.state !== 'FAILED') ? {} : { error: { errorCode: session.error.errorCode, errorDescription: session.error.errorDescription } }),
    }
  }

  #get(id: string): PayeeSession {
    const session = this.#sessions.get(id)
    if (session === undefined) throw new NotFoundError('TRANSACTION_REQUEST_NOT_FOUND', `transaction request ${id} is not known to ${this.#deps.config.dfspId}`)
    return session
  }

  /** Ends the request with a reason, when its state allows the event; news about a final request changes nothing. */
  #end(session: PayeeSession, event: 'reject' | 'fail', error: ErrorInformation): void {
    if (PAYEE_REQUEST_TRANSITIONS[session.state][event] === undefined) return
    session.error = error
    this.#move(session, event)
  }

  /** Moves when the table allows the event; answers whether it moved. */
  #tryMove(session: PayeeSession, event: PayeeRequestEvent): boolean {
    if (PAYEE_REQUEST_TRANSITIONS[session.state][event] === undefined) return false
    this.#move(session, event)
    return true
  }

  /**
   * The payee's own customer (the merchant owning the POS, the ATM's owner) hears of the committed payment by
   * SMS when it has an MSISDN: once, on the move to COMMITTED. A failure to write it never fails the payment.
   */
  async #notifyPayee(session: PayeeSession): Promise<void> {
    const msisdn = session.account.msisdn
    if (this.#notices === undefined || msisdn === null) return
    const { currency } = this.#deps.config
    const payer = session.payerParty?.name ?? `a customer of ${session.payerFsp ?? 'another DFSP'}`
    const where = session.input.payee.name ?? session.account.name
    const amount = `${formatFixed(session.amountMinor, currency)} ${currency}`
    const what = session.input.scenario === 'PAYMENT' ? `payment of ${amount} received from ${payer} at ${where}` : `cash withdrawal of ${amount} by ${payer} at ${where}`
    try {
      await this.#notices.outbox.enqueue({ customerId: session.account.customerId, msisdn }, `${this.#notices.senderName}: ${what}. Ref ${session.transactionId ?? session.id}.`)
    } catch (error) {
      this.#deps.logger.warn({ transactionRequestId: session.id, err: error instanceof Error ? error.message : String(error) }, 'the payee notification was not written')
    }
  }

  #move(session: PayeeSession, event: PayeeRequestEvent): void {
    session.state = nextPayeeRequestState(session.state, event)
    this.#changed(session)
  }

  #changed(session: PayeeSession): void {
    for (const listener of [...session.listeners]) listener()
  }

  /** Resolves true once `done(session)` holds, false when the request's timeout passes first. */
  #waitFor(session: PayeeSession, done: (session: PayeeSession) => boolean): Promise<boolean> {
    if (done(session)) return Promise.resolve(true)
    return new Promise((resolve) => {
      const listener = (): void => {
        if (!done(session)) return
        clearTimeout(timer)
        session.listeners.delete(listener)
        resolve(true)
      }
      const timer = setTimeout(() => {
        session.listeners.delete(listener)
        resolve(false)
      }, this.#deps.config.timeouts.requestToPayMs)
      session.listeners.add(listener)
    })
  }
}

function checkInput(input: RequestToPayInput, currency: string, schemeMaxMinor: bigint): bigint {
  const problems: string[] = []
  if (input.transactionRequestId !== undefined && !isCorrelationId(input.transactionRequestId)) problems.push('transactionRequestId must be a lowercase UUID')
  if (typeof input.payer?.idType !== 'string' || !PARTY_ID_TYPES.has(input.payer.idType)) problems.push('payer.idType must be an FSPIOP party id type')
  if (typeof input.payer?.idValue !== 'string' || input.payer.idValue.length < 1 || input.payer.idValue.length > 128) problems.push('payer.idValue must be 1 to 128 characters')
  if (typeof input.payee?.idType !== 'string' || !PARTY_ID_TYPES.has(input.payee.idType)) problems.push('payee.idType must be an FSPIOP party id type')
  if (typeof input.payee?.idValue !== 'string' || input.payee.idValue.length < 1 || input.payee.idValue.length > 128) problems.push('payee.idValue must be 1 to 128 characters')
  if (input.currency !== currency) problems.push(`currency must be ${currency}, the currency of this DFSP`)
  if (input.scenario !== 'WITHDRAWAL' && input.scenario !== 'PAYMENT') problems.push('scenario must be WITHDRAWAL or PAYMENT')
  if (input.authenticationType !== 'OTP' && input.authenticationType !== 'QRCODE') problems.push('authenticationType must be OTP or QRCODE')
  const amount = typeof input.amount === 'string' ? parseAmount(input.amount, currency, { grammar: 'decimal', maxMinor: schemeMaxMinor }) : undefined
  if (amount === undefined || !amount.ok || amount.value <= 0n) problems.push(`amount must be a positive decimal ${currency} amount`)
  if (problems.length > 0 || amount === undefined || !amount.ok) throw new ValidationError(problems.join('; '), { problems })
  return amount.value
}
