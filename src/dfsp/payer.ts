// SPDX-License-Identifier: Apache-2.0
/**
 * The DFSP as payer: the synchronous "send money" of its outbound API, over FSPIOP's asynchronous
 * exchanges, as Mojaloop's SDK does with auto-accepted party and quote:
 *
 *   GET /parties (wait for PUT /parties) → POST /quotes (wait for PUT /quotes) → hold the customer's funds
 *   → POST /transfers (wait for PUT /transfers) → post the hold on COMMITTED, void it on an error
 *
 * The hold is two linked pending ledger transfers from the wallet: the transfer amount to SCHEME and the
 * payer fee to FEES. Each step is recorded before the next one starts, and every ledger id is derived from
 * the transfer id, so a callback that arrives after the caller gave up, or twice, still lands right.
 * What the API answers, and with which HTTP status, is one `SendOutcome`; nothing expected is thrown.
 */
import { HubError, ValidationError } from '../core/errors.ts'
import { type ErrorCode } from '../core/error-catalog.ts'
import { newCorrelationId } from '../core/ids.ts'
import { formatAmount, parseAmount } from '../core/money.ts'
import {
  decodeIlpPacket,
  decodeIlpV1Packet,
  ilpAmountOf,
  ilpVersionOf,
  type DecodedTransaction,
  hubErrorOf,
  parseErrorInformation,
  validateFspiopSchema,
  validateFulfilment,
  type ErrorInformation,
  type Money,
  type Party,
  type QuotesIDPutResponse,
  type QuotesPostRequest,
  type TransactionType,
  type TransfersPostRequest,
} from '../fspiop/index.ts'
import type { TransferInput } from '../ledger/index.ts'
import { isoOf, requestHash, waitKeys, type CallbackAnswer, type DfspDeps } from './context.ts'
import { dfspAccountId, ledgerTransferId, postId, voidId } from './ledger-ids.ts'
import type { Customer, QuoteChanges, QuoteRecord, TransferChanges, TransferRecord } from './ports.ts'
import { NO_FEE } from './fees.ts'
import { checkQuoteResponse, payerDebit, payerQuoteAmount, type AmountType } from './quote-math.ts'
import { fspiopPath, type SendOutcome as SwitchOutcome, type Trace } from './switch-api.ts'
import { statesAllowing, type AbortReason, type TransferState } from './transfer-state.ts'

export interface SendInput {
  /** The paying customer of this DFSP. */
  readonly from: { readonly msisdn?: string; readonly accountId?: string }
  /** The payee, by FSPIOP party id. */
  readonly to: { readonly idType: string; readonly idValue: string; readonly idSubValue?: string }
  /** A decimal amount ("10.5" or "10.50"). */
  readonly amount: string
  readonly currency: string
  /** SEND: `amount` is the total debited, fees included · RECEIVE: `amount` is what the payee receives. */
  readonly amountType: AmountType
  readonly note?: string
  /** The caller's own reference, echoed back. */
  readonly homeTransactionId?: string
  /** Set for a refund (scenario REFUND): the transaction it gives back, and why; no payer fee is charged. */
  readonly refundOf?: { readonly originalTransactionId: string; readonly reason?: string }
}

export type SendStage = 'payer' | 'party' | 'quote' | 'funds' | 'transfer'
/** ERROR_OCCURRED: it failed before any transfer was sent · RESERVED: sent, outcome not known yet. */
export type SendState = 'COMMITTED' | 'ABORTED' | 'RESERVED' | 'ERROR_OCCURRED'

export interface SendFailure {
  readonly stage: SendStage
  readonly code: ErrorCode
  readonly message: string
  /** The FSPIOP error the switch or the payee DFSP answered with, as received. */
  readonly fspiopError?: ErrorInformation
}

export interface QuoteSummary {
  readonly quoteId: string
  readonly transactionId: string
  readonly amountType: AmountType
  readonly currency: string
  /** What the customer asked for. */
  readonly amount: string
  /** What the FSPIOP quote asked for: SEND amount less the payer fee, or the RECEIVE amount. */
  readonly quoteAmount: string
  readonly transferAmount: string
  readonly payeeReceiveAmount?: string
  readonly payeeFspFee?: string
  readonly payerFee: string
  readonly totalDebit: string
  readonly expiration: string
}

export interface SendOutcome {
  /** The HTTP status the outbound API answers with. */
  readonly httpStatus: number
  readonly currentState: SendState
  readonly homeTransactionId?: string
  readonly transferId?: string
  readonly from?: Party
  readonly to?: Party
  readonly quote?: QuoteSummary
  readonly transfer?: { readonly transferState: TransferState; readonly completedTimestamp?: string; readonly fulfilment?: string }
  readonly error?: SendFailure
}

export type PartyLookup = { readonly ok: true; readonly party: Party } | { readonly ok: false; readonly httpStatus: number; readonly failure: SendFailure }

export class Payer {
  readonly #deps: DfspDeps
  /**
   * The final record a settling callback just wrote, for the send waiting on that transfer: it answers from
   * it instead of reading the row back. Set only while someone waits (see #tell), taken by the waiter.
   */
  readonly #finals = new Map<string, TransferRecord>()

  constructor(deps: DfspDeps) {
    this.#deps = deps
  }

  // -------------------------------------------------------------------------------------------------
  // Party look-up

  async lookupParty(idType: string, idValue: string, idSubValue: string | undefined, trace: Trace = {}): Promise<PartyLookup> {
    const { waiters, switchApi, config } = this.#deps
    const key = waitKeys.party(idType, idValue, idSubValue)
    const waiting = waiters.wait(key, config.timeouts.partyMs)
    const sent = await switchApi.request('GET', fspiopPath('parties', idType, idValue, idSubValue), undefined, { trace })
    if (sent.kind !== 'accepted') {
      waiting.cancel()
      return { ok: false, ...requestFailure('party', sent) }
    }
    const answer = await waiting.answer
    if (answer === undefined) return { ok: false, httpStatus: 504, failure: timeoutFailure('party', `no party answer for ${idType} ${idValue} in ${config.timeouts.partyMs} ms`) }
    if (!answer.ok) return { ok: false, ...peerFailure('party', answer.errorInformation) }
    const party = (answer.body as { party: Party }).party
    if (party.partyIdInfo.fspId === undefined) {
      return { ok: false, httpStatus: 502, failure: { stage: 'party', code: 'DESTINATION_FSP_ERROR', message: 'the party answer names no fspId' } }
    }
    return { ok: true, party }
  }

  // -------------------------------------------------------------------------------------------------
  // Send money

  async send(input: SendInput, trace: Trace = {}): Promise<SendOutcome> {
    const { config, customers } = this.#deps
    const echo = input.homeTransactionId === undefined ? {} : { homeTransactionId: input.homeTransactionId }
    const fail = (httpStatus: number, failure: SendFailure, extra: Partial<SendOutcome> = {}): SendOutcome => ({
      httpStatus,
      currentState: 'ERROR_OCCURRED',
      ...echo,
      ...extra,
      error: failure,
    })

    const requested = checkSendInput(input, config.currency, config.schemeMaxMinor)
    const payerCustomer =
      input.from.msisdn !== undefined ? await customers.findByParty('MSISDN', input.from.msisdn) : await customers.findByParty('ACCOUNT_ID', input.from.accountId ?? '')
    if (payerCustomer === undefined) {
      return fail(404, { stage: 'payer', code: 'PARTY_NOT_FOUND', message: `the payer is not a customer of ${config.dfspId}` })
    }
    const from = customers.payerPartyOf(payerCustomer)
    // A refund gives back what was taken: no payer fee on it (reference §1.11, scenario REFUND).
    const feeRule = input.refundOf === undefined ? config.fees.payer : NO_FEE
    const transactionType: TransactionType =
      input.refundOf === undefined
        ? { scenario: 'TRANSFER', initiator: 'PAYER', initiatorType: 'CONSUMER' }
        : {
            scenario: 'REFUND',
            initiator: 'PAYER',
            initiatorType: 'BUSINESS',
            refundInfo: { originalTransactionId: input.refundOf.originalTransactionId, ...(input.refundOf.reason === undefined ? {} : { refundReason: input.refundOf.reason }) },
          }
    const quoteAmount = payerQuoteAmount(input.amountType, requested, feeRule)
    if (!quoteAmount.ok) return fail(422, { stage: 'quote', code: 'PAYER_REJECTION', message: `${input.amount} ${input.currency} cannot be sent: ${quoteAmount.status}` }, { from })

    const lookup = await this.lookupParty(input.to.idType, input.to.idValue, input.to.idSubValue, trace)
    if (!lookup.ok) return fail(lookup.httpStatus, lookup.failure, { from })
    const to = lookup.party

    // The SDK's convention: the transaction id is also the transfer id.
    const transferId = newCorrelationId()
    const quoted = await this.quote(
      { amountType: input.amountType, ...(input.note === undefined ? {} : { note: input.note }), transactionType, recordWithTransfer: true },
      transferId,
      from,
      to,
      quoteAmount.value,
      trace,
    )
    if (!quoted.ok) return fail(quoted.httpStatus, quoted.failure, { from, to })
    const { response, transferAmountMinor } = quoted
    const debit = payerDebit(input.amountType, requested, transferAmountMinor, feeRule)
    const money = (minor: bigint): string => formatAmount(minor, config.currency)
    const quote: QuoteSummary = {
      quoteId: quoted.quoteId,
      transactionId: transferId,
      amountType: input.amountType,
      currency: config.currency,
      amount: money(requested),
      quoteAmount: money(quoteAmount.value),
      transferAmount: response.transferAmount.amount,
      ...(response.payeeReceiveAmount === undefined ? {} : { payeeReceiveAmount: response.payeeReceiveAmount.amount }),
      ...(response.payeeFspFee === undefined ? {} : { payeeFspFee: response.payeeFspFee.amount }),
      payerFee: money(debit.payerFeeMinor),
      totalDebit: money(debit.totalDebitMinor),
      expiration: response.expiration,
    }

    return this.transferQuoted({
      customer: payerCustomer,
      from,
      to,
      transferId,
      quoteId: quoted.quoteId,
      response,
      quote,
      payerFeeMinor: debit.payerFeeMinor,
      note: input.note,
      echo,
      trace,
      ...(quoted.record === undefined ? {} : { quoteRecord: quoted.record }),
    })
  }

  /**
   * The second half of a payment, once the payee's quote is in hand: record, hold the customer's funds,
   * POST /transfers and wait for the switch's word. Shared by POST /send and the payee-initiated flow.
   */
  async transferQuoted(args: {
    readonly customer: Customer
    readonly from: Party
    readonly to: Party
    readonly transferId: string
    readonly quoteId: string
    readonly response: QuotesIDPutResponse
    readonly quote: QuoteSummary
    readonly payerFeeMinor: bigint
    readonly note: string | undefined
    readonly echo: { readonly homeTransactionId?: string }
    readonly trace: Trace
    /** The quote as answered, not yet recorded: it is inserted with the transfer, in one transaction. */
    readonly quoteRecord?: QuoteRecord
  }): Promise<SendOutcome> {
    const { config } = this.#deps
    const { customer: payerCustomer, from, to, transferId, response, quote, echo, trace } = args
    const payeeFsp = to.partyIdInfo.fspId as string
    const fail = (httpStatus: number, failure: SendFailure, extra: Partial<SendOutcome> = {}): SendOutcome => ({ httpStatus, currentState: 'ERROR_OCCURRED', ...echo, ...extra, error: failure })
    const prepare: TransfersPostRequest = {
      transferId,
      payeeFsp,
      payerFsp: config.dfspId,
      amount: response.transferAmount,
      ilpPacket: response.ilpPacket,
      condition: response.condition,
      expiration: isoOf(this.#deps.clock.nowMs() + config.transferExpiryMs),
    }
    const record = await this.#record(prepare, payerCustomer, to, args.quoteId, args.payerFeeMinor, args.note, args.quoteRecord)
    const held = await this.#hold(record, payerCustomer)
    if (held !== 'held') {
      const message = held === 'insufficient_funds' ? 'insufficient funds' : `the funds could not be held (${held})`
      await this.#abort(record, 'REJECTED', undefined, message)
      return fail(held === 'insufficient_funds' ? 422 : 500, { stage: 'funds', code: held === 'insufficient_funds' ? 'PAYER_REJECTION' : 'INTERNAL', message }, { from, to, quote, transferId })
    }

    const waiting = this.#deps.waiters.wait(waitKeys.transfer(transferId), config.timeouts.transferMs)
    const sent = await this.#deps.switchApi.request('POST', '/transfers', prepare, { destination: payeeFsp, trace })
    const partial = { from, to, quote, transferId, ...echo }
    if (sent.kind === 'refused' && sent.status < 500) {
      // The switch refused the request outright: nothing was reserved there, so the hold goes.
      waiting.cancel()
      const failure = requestFailure('transfer', sent)
      await this.#release(record, 'REJECTED', sent.errorInformation, failure.failure.message)
      return { ...partial, httpStatus: failure.httpStatus, currentState: 'ABORTED', transfer: { transferState: 'ABORTED' }, error: failure.failure }
    }
    if (sent.kind !== 'accepted') {
      // Whether the switch took the transfer is unknown: the hold stays until the switch says, or expiry.
      waiting.cancel()
      const failure = requestFailure('transfer', sent)
      return { ...partial, httpStatus: failure.httpStatus, currentState: 'RESERVED', transfer: { transferState: 'RESERVED' }, error: failure.failure }
    }
    const answer = await waiting.answer
    const final = this.#finals.get(transferId) ?? (await this.#deps.repo.findTransfer(transferId, 'PAYER'))
    this.#finals.delete(transferId)
    if (answer === undefined || final === undefined || (final.state !== 'COMMITTED' && final.state !== 'ABORTED')) {
      return {
        ...partial,
        httpStatus: 504,
        currentState: 'RESERVED',
        transfer: { transferState: 'RESERVED' },
        error: timeoutFailure('transfer', `no transfer answer in ${config.timeouts.transferMs} ms; the funds stay held until the switch says or the transfer expires`),
      }
    }
    return { ...partial, ...outcomeOf(final) }
  }

  /**
   * POST /quotes and its answer, checked. Public for the payee-initiated flow (transactionRequestId set, type
   * copied). The quote is recorded before this answers, except a usable one with `recordWithTransfer`: that
   * one comes back as `record`, for transferQuoted to insert with the transfer in one transaction.
   */
  async quote(
    input: {
      readonly amountType: AmountType
      readonly note?: string
      readonly transactionType?: TransactionType
      readonly transactionRequestId?: string
      readonly recordWithTransfer?: boolean
    },
    transactionId: string,
    from: Party,
    to: Party,
    quoteAmountMinor: bigint,
    trace: Trace,
  ): Promise<
    | { readonly ok: true; readonly quoteId: string; readonly response: QuotesIDPutResponse; readonly transferAmountMinor: bigint; readonly record?: QuoteRecord }
    | { readonly ok: false; readonly httpStatus: number; readonly failure: SendFailure }
  > {
    const { config, clock, repo, waiters, switchApi } = this.#deps
    const quoteId = newCorrelationId()
    const nowMs = clock.nowMs()
    const request: QuotesPostRequest = {
      quoteId,
      transactionId,
      payee: to,
      payer: from,
      amountType: input.amountType,
      amount: { amount: formatAmount(quoteAmountMinor, config.currency), currency: config.currency as Money['currency'] },
      transactionType: input.transactionType ?? { scenario: 'TRANSFER', initiator: 'PAYER', initiatorType: 'CONSUMER' },
      ...(input.transactionRequestId === undefined ? {} : { transactionRequestId: input.transactionRequestId }),
      ...(input.note === undefined ? {} : { note: input.note }),
      expiration: isoOf(nowMs + config.quoteExpiryMs),
    }
    // Recorded once, with the answer when one comes in time (see onQuoteAnswer): a quote moves no money, so
    // nothing needs its record before the request goes out.
    const sent: QuoteRecord = {
      quoteId,
      role: 'PAYER',
      requestHash: requestHash(request),
      state: 'RECEIVED',
      transactionId,
      customerId: null,
      amountType: input.amountType,
      currency: config.currency,
      transferAmountMinor: null,
      payeeReceiveAmountMinor: null,
      payeeFspFeeMinor: null,
      condition: null,
      expiresAtMs: nowMs + config.quoteExpiryMs,
      request: JSON.stringify(request),
      response: null,
      responseIsError: false,
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    }
    const waiting = waiters.wait(waitKeys.quote(quoteId), config.timeouts.quoteMs)
    const taken = await switchApi.request('POST', '/quotes', request, { destination: to.partyIdInfo.fspId as string, trace })
    if (taken.kind !== 'accepted') {
      waiting.cancel()
      await repo.claimQuote(sent)
      return { ok: false, ...requestFailure('quote', taken) }
    }
    const answer = await waiting.answer
    const record = answer === undefined ? sent : { ...sent, ...quoteAnswerChanges(answer), updatedAtMs: clock.nowMs() }
    const failed = async (failure: { readonly httpStatus: number; readonly failure: SendFailure }): Promise<{ readonly ok: false; readonly httpStatus: number; readonly failure: SendFailure }> => {
      await repo.claimQuote(record)
      return { ok: false, ...failure }
    }
    if (answer === undefined) return failed({ httpStatus: 504, failure: timeoutFailure('quote', `no quote answer in ${config.timeouts.quoteMs} ms`) })
    if (!answer.ok) return failed(peerFailure('quote', answer.errorInformation))
    const response = answer.body as QuotesIDPutResponse
    const problem = this.#checkQuote(request, response, quoteAmountMinor)
    if (problem !== undefined) return failed({ httpStatus: 502, failure: { stage: 'quote', code: 'PAYEE_FSP_REJECTED_QUOTE', message: `the payee's quote is unusable: ${problem}` } })
    const transferAmountMinor = parseAmount(response.transferAmount.amount, config.currency, { maxMinor: config.schemeMaxMinor })
    if (!transferAmountMinor.ok) return failed({ httpStatus: 502, failure: { stage: 'quote', code: 'PAYEE_FSP_REJECTED_QUOTE', message: 'the quoted transfer amount is unusable' } })
    if (input.recordWithTransfer === true) return { ok: true, quoteId, response, transferAmountMinor: transferAmountMinor.value, record }
    await repo.claimQuote(record)
    return { ok: true, quoteId, response, transferAmountMinor: transferAmountMinor.value }
  }

  /** The payee's quote must be for what was asked, consistent in itself, with a packet that says the same. */
  #checkQuote(request: QuotesPostRequest, response: QuotesIDPutResponse, quoteAmountMinor: bigint): string | undefined {
    const { config, clock } = this.#deps
    const currency = config.currency
    const minor = (money: { amount: string; currency: string } | undefined): bigint | undefined | null => {
      if (money === undefined) return undefined
      if (money.currency !== currency) return null
      const parsed = parseAmount(money.amount, currency, { maxMinor: config.schemeMaxMinor })
      return parsed.ok ? parsed.value : null
    }
    const transferAmountMinor = minor(response.transferAmount)
    const payeeReceiveAmountMinor = minor(response.payeeReceiveAmount)
    const payeeFspFeeMinor = minor(response.payeeFspFee)
    const payeeFspCommissionMinor = minor(response.payeeFspCommission)
    if (transferAmountMinor == null || payeeReceiveAmountMinor === null || payeeFspFeeMinor === null || payeeFspCommissionMinor === null) {
      return `amounts must be valid ${currency} amounts`
    }
    const consistent = checkQuoteResponse(request.amountType, quoteAmountMinor, {
      transferAmountMinor,
      ...(payeeReceiveAmountMinor === undefined ? {} : { payeeReceiveAmountMinor }),
      ...(payeeFspFeeMinor === undefined ? {} : { payeeFspFeeMinor }),
      ...(payeeFspCommissionMinor === undefined ? {} : { payeeFspCommissionMinor }),
    })
    if (consistent !== 'consistent') return consistent
    if (!(Date.parse(response.expiration) > clock.nowMs())) return 'it has expired'
    // A Mojaloop v1.x payee (the SDK's default, ILP_VERSION=1) answers with an ILP v1 packet, which carries the
    // amount but no condition: the condition is the payee's HMAC over the packet, proved only by the fulfilment.
    let transaction: DecodedTransaction
    if (ilpVersionOf(response.ilpPacket) === 1) {
      const decoded = decodeIlpV1Packet(response.ilpPacket)
      if (!decoded.ok) return `the ILP packet is invalid (${decoded.status})`
      const amount = ilpAmountOf(response.transferAmount)
      if (!amount.ok || amount.value !== decoded.value.amountMinor) return 'the ILP packet is for another amount'
      transaction = decoded.value.transaction
    } else {
      const decoded = decodeIlpPacket(response.ilpPacket)
      if (!decoded.ok) return `the ILP packet is invalid (${decoded.status})`
      if (decoded.value.condition !== response.condition) return 'the ILP packet carries another condition'
      transaction = decoded.value.transaction
    }
    if (transaction.quoteId !== request.quoteId || transaction.transactionId !== request.transactionId) return 'the ILP packet is for another quote'
    if (transaction.amount.amount !== response.transferAmount.amount || transaction.amount.currency !== currency) return 'the ILP packet is for another amount'
    if (transaction.payer.partyIdInfo.fspId !== config.dfspId) return 'the ILP packet names another payer DFSP'
    if (transaction.payee.partyIdInfo.fspId !== request.payee.partyIdInfo.fspId) return 'the ILP packet names another payee DFSP'
    return undefined
  }

  async #record(
    prepare: TransfersPostRequest,
    customer: Customer,
    to: Party,
    quoteId: string,
    payerFeeMinor: bigint,
    note: string | undefined,
    quoteRecord: QuoteRecord | undefined,
  ): Promise<TransferRecord> {
    const nowMs = this.#deps.clock.nowMs()
    const amountMinor = parseAmount(prepare.amount.amount, prepare.amount.currency)
    const record: TransferRecord = {
      transferId: prepare.transferId,
      role: 'PAYER',
      requestHash: requestHash(prepare),
      // RESERVED from the start, before the hold and the POST: the sweeper then asks the switch before it
      // releases anything (after a crash before the POST, the switch's 3208 releases it). A RECEIVED record,
      // released without asking, had to be moved to RESERVED before the POST: one write more per transfer.
      state: 'RESERVED',
      abortReason: null,
      quoteId,
      customerId: customer.customerId,
      counterpartyFsp: prepare.payeeFsp,
      counterparty: JSON.stringify({
        idType: to.partyIdInfo.partyIdType,
        idValue: to.partyIdInfo.partyIdentifier,
        fspId: prepare.payeeFsp,
        ...(to.name === undefined ? {} : { name: to.name }),
      }),
      currency: prepare.amount.currency,
      amountMinor: amountMinor.ok ? amountMinor.value : 0n,
      principalMinor: amountMinor.ok ? amountMinor.value : 0n,
      feeMinor: payerFeeMinor,
      note: note ?? null,
      condition: prepare.condition,
      fulfilment: null,
      expiresAtMs: Date.parse(prepare.expiration),
      request: JSON.stringify(prepare),
      response: null,
      responseIsError: false,
      errorCode: null,
      errorDescription: null,
      checkedAtMs: null,
      completedAtMs: null,
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    }
    const claimed = await this.#deps.repo.claimTransfer(record, quoteRecord)
    if (!claimed.inserted) throw new HubError('INTERNAL', `transfer id ${prepare.transferId} is already in use`)
    return record
  }

  async #hold(record: TransferRecord, customer: Customer): Promise<'held' | 'insufficient_funds' | string> {
    const { dfspId } = this.#deps.config
    const entries: TransferInput[] = [
      {
        id: ledgerTransferId(dfspId, 'hp', record.transferId),
        type: 'pending',
        debitAccountId: customer.walletAccountId,
        creditAccountId: dfspAccountId(dfspId, record.currency, 'SCHEME'),
        amountMinor: record.principalMinor,
        currency: record.currency,
        reference: record.transferId,
        linked: record.feeMinor > 0n,
      },
    ]
    if (record.feeMinor > 0n) {
      entries.push({
        id: ledgerTransferId(dfspId, 'hf', record.transferId),
        type: 'pending',
        debitAccountId: customer.walletAccountId,
        creditAccountId: dfspAccountId(dfspId, record.currency, 'FEES'),
        amountMinor: record.feeMinor,
        currency: record.currency,
        reference: record.transferId,
      })
    }
    const outcomes = await this.#deps.ledger.createTransfers(entries)
    // In a linked chain the failing rule is reported on its own transfer, the others say linked_event_failed.
    const failed = outcomes.find((outcome) => outcome.status !== 'created' && outcome.status !== 'exists' && outcome.status !== 'linked_event_failed')
    if (failed === undefined) return 'held'
    return failed.status === 'exceeds_credits' ? 'insufficient_funds' : failed.status
  }

  // -------------------------------------------------------------------------------------------------
  // Callbacks: quotes and transfers this DFSP sent

  /**
   * A send still waiting is given the answer and records it with its quote, in one write. A later answer
   * (the send gave up and recorded the quote RECEIVED) is recorded here, on the quote still RECEIVED; only
   * when none was changed is the quote looked for, to tell a repeat from an answer to no quote of ours.
   */
  async onQuoteAnswer(quoteId: string, answer: CallbackAnswer): Promise<void> {
    const { repo, clock, waiters, logger } = this.#deps
    if (waiters.resolve(waitKeys.quote(quoteId), answer) > 0) return
    const recorded = await repo.updateQuote(quoteId, 'PAYER', 'RECEIVED', { ...quoteAnswerChanges(answer), updatedAtMs: clock.nowMs() })
    if (!recorded && (await repo.findQuote(quoteId, 'PAYER')) === undefined) logger.warn({ quoteId }, 'quote answer for a quote this DFSP did not ask for; ignored')
  }

  /**
   * The switch's word on a transfer this DFSP sent: PUT /transfers/{ID} (COMMITTED, or any state in answer
   * to a GET) or PUT /transfers/{ID}/error. The ledger is settled first, then the record, then the waiting
   * caller is told; a word about a transfer already final is a repeat and changes nothing.
   */
  async settle(record: TransferRecord, answer: CallbackAnswer): Promise<void> {
    const { logger } = this.#deps
    if (record.state === 'COMMITTED' || record.state === 'ABORTED') return
    if (!answer.ok) {
      const final = await this.#release(record, answer.errorInformation.errorCode === '3303' ? 'EXPIRED' : 'REJECTED', answer.errorInformation)
      this.#tell(record.transferId, answer, final)
      return
    }
    const body = answer.body as { transferState: TransferState; fulfilment?: string; completedTimestamp?: string }
    if (body.transferState === 'ABORTED') {
      const final = await this.#release(record, 'REJECTED', undefined, 'the switch reports the transfer ABORTED')
      this.#tell(record.transferId, answer, final)
      return
    }
    if (body.transferState !== 'COMMITTED') {
      // RECEIVED or RESERVED in answer to our GET: still in flight at the switch.
      await this.#deps.repo.updateTransfer(record.transferId, 'PAYER', ['RESERVED'], { checkedAtMs: this.#deps.clock.nowMs(), updatedAtMs: this.#deps.clock.nowMs() })
      return
    }
    if (body.fulfilment !== undefined && validateFulfilment(body.fulfilment, record.condition) !== 'valid') {
      // The switch checked it and committed: its ledger has moved, so ours follows; the mismatch is logged.
      logger.error({ transferId: record.transferId }, 'the switch committed with a fulfilment that does not match the condition')
    }
    const posted = await this.#resolveHolds(record, 'post')
    if (posted !== 'done') {
      logger.error({ transferId: record.transferId, status: posted }, 'the switch committed a transfer whose hold is gone: reconcile')
    }
    const nowMs = this.#deps.clock.nowMs()
    const final = await this.#update(record, statesAllowing('commit'), {
      state: 'COMMITTED',
      ...(body.fulfilment === undefined ? {} : { fulfilment: body.fulfilment }),
      response: JSON.stringify(body),
      responseIsError: false,
      ...(posted === 'done' ? {} : { errorDescription: `committed by the switch but the hold could not be posted (${posted})` }),
      completedAtMs: nowMs,
      updatedAtMs: nowMs,
    })
    this.#tell(record.transferId, answer, final)
  }

  /** Tells the send waiting on the transfer (if one still does) its answer, and the final record when known. */
  #tell(transferId: string, answer: CallbackAnswer, final: TransferRecord | undefined): void {
    if (final !== undefined) this.#finals.set(transferId, final)
    if (this.#deps.waiters.resolve(waitKeys.transfer(transferId), answer) === 0) this.#finals.delete(transferId)
  }

  /** Compare-and-set on the record; answers the record as it now is when it moved, undefined when it did not. */
  async #update(record: TransferRecord, fromStates: readonly TransferState[], changes: TransferChanges & { readonly updatedAtMs: number }): Promise<TransferRecord | undefined> {
    const moved = await this.#deps.repo.updateTransfer(record.transferId, 'PAYER', fromStates, changes)
    return moved ? { ...record, ...changes } : undefined
  }

  /**
   * The sweeper's turn on an open transfer past its expiration and grace: ask the switch (GET /transfers)
   * every grace period; after abandonAfterMs without its word, release. A RECEIVED one (recorded by an
   * earlier version, which moved it to RESERVED before sending) was never sent: release.
   */
  async sweep(record: TransferRecord, nowMs: number): Promise<void> {
    const { config, logger } = this.#deps
    if (record.state === 'RECEIVED') {
      await this.#release(record, 'EXPIRED', undefined, 'never sent to the switch')
      return
    }
    if (nowMs >= record.expiresAtMs + config.abandonAfterMs) {
      logger.warn({ transferId: record.transferId }, 'no word from the switch long after expiry; hold released')
      const final = await this.#release(record, 'EXPIRED', undefined, 'no answer from the switch before the transfer was abandoned')
      this.#tell(record.transferId, { ok: false, errorInformation: { errorCode: '3303', errorDescription: 'Transfer expired' } }, final)
      return
    }
    await this.#deps.repo.updateTransfer(record.transferId, 'PAYER', ['RESERVED'], { checkedAtMs: nowMs, updatedAtMs: nowMs })
    await this.#deps.switchApi.request('GET', fspiopPath('transfers', record.transferId), undefined, {})
  }

  /**
   * Voids the holds, then records the abort; a hold already posted means the transfer committed after all.
   * Answers the record as written, or undefined when it was not changed.
   */
  async #release(record: TransferRecord, reason: AbortReason, error: ErrorInformation | undefined, description?: string): Promise<TransferRecord | undefined> {
    const voided = await this.#resolveHolds(record, 'void')
    if (voided === 'pending_transfer_already_posted') {
      // Posted by an earlier COMMITTED whose record update did not happen (the process stopped between).
      const nowMs = this.#deps.clock.nowMs()
      return this.#update(record, statesAllowing('commit'), { state: 'COMMITTED', completedAtMs: nowMs, updatedAtMs: nowMs })
    }
    if (voided !== 'done') {
      this.#deps.logger.error({ transferId: record.transferId, status: voided }, 'the hold could not be released')
      return undefined
    }
    return this.#abort(record, reason, error, description)
  }

  async #abort(record: TransferRecord, reason: AbortReason, error: ErrorInformation | undefined, description?: string): Promise<TransferRecord | undefined> {
    const nowMs = this.#deps.clock.nowMs()
    return this.#update(record, statesAllowing('abort'), {
      state: 'ABORTED',
      abortReason: reason,
      errorCode: error?.errorCode ?? null,
      errorDescription: error?.errorDescription ?? description ?? null,
      ...(error === undefined ? {} : { response: JSON.stringify({ errorInformation: error }), responseIsError: true }),
      completedAtMs: nowMs,
      updatedAtMs: nowMs,
    })
  }

  async #resolveHolds(record: TransferRecord, how: 'post' | 'void'): Promise<'done' | string> {
    const { dfspId } = this.#deps.config
    const kinds = record.feeMinor > 0n ? (['hp', 'hf'] as const) : (['hp'] as const)
    const outcomes = await this.#deps.ledger.createTransfers(
      kinds.map((kind, index) => ({
        id: how === 'post' ? postId(dfspId, kind, record.transferId) : voidId(dfspId, kind, record.transferId),
        type: how === 'post' ? ('post_pending' as const) : ('void_pending' as const),
        pendingId: ledgerTransferId(dfspId, kind, record.transferId),
        reference: record.transferId,
        linked: index < kinds.length - 1,
      })),
    )
    // Releasing holds that were never made (the process stopped before) leaves nothing to release.
    const fine = new Set(how === 'void' ? ['created', 'exists', 'pending_transfer_not_found', 'linked_event_failed'] : ['created', 'exists', 'linked_event_failed'])
    const failed = outcomes.find((outcome) => !fine.has(outcome.status))
    if (failed !== undefined) return failed.status
    if (outcomes.every((outcome) => outcome.status === 'linked_event_failed')) return 'linked_event_failed'
    return 'done'
  }
}

/** What a quote answer changes on the payer's quote record. */
function quoteAnswerChanges(answer: CallbackAnswer): QuoteChanges {
  if (!answer.ok) return { state: 'REJECTED', response: JSON.stringify({ errorInformation: answer.errorInformation }), responseIsError: true }
  const body = answer.body as QuotesIDPutResponse
  const amount = parseAmount(body.transferAmount.amount, body.transferAmount.currency)
  return {
    state: 'ACCEPTED',
    ...(amount.ok ? { transferAmountMinor: amount.value } : {}),
    condition: body.condition,
    expiresAtMs: Date.parse(body.expiration),
    response: JSON.stringify(body),
    responseIsError: false,
  }
}

/** What the outbound API answers for a transfer record in a final state. */
export function outcomeOf(record: TransferRecord): Pick<SendOutcome, 'httpStatus' | 'currentState' | 'transfer' | 'error'> {
  if (record.state === 'COMMITTED') {
    return {
      httpStatus: 200,
      currentState: 'COMMITTED',
      transfer: {
        transferState: 'COMMITTED',
        ...(record.completedAtMs === null ? {} : { completedTimestamp: isoOf(record.completedAtMs) }),
        ...(record.fulfilment === null ? {} : { fulfilment: record.fulfilment }),
      },
    }
  }
  const fspiopError =
    record.errorCode === null ? undefined : { errorCode: record.errorCode, errorDescription: record.errorDescription ?? 'no description' }
  const received = fspiopError === undefined ? undefined : parseErrorInformation({ errorInformation: fspiopError })
  const code: ErrorCode = received?.ok === true ? hubErrorOf(received.value).code : record.abortReason === 'EXPIRED' ? 'TRANSFER_EXPIRED' : 'PAYER_REJECTION'
  return {
    httpStatus: fspiopError === undefined ? 422 : httpStatusForPeerError(fspiopError.errorCode),
    currentState: 'ABORTED',
    transfer: { transferState: 'ABORTED', ...(record.completedAtMs === null ? {} : { completedTimestamp: isoOf(record.completedAtMs) }) },
    error: {
      stage: 'transfer',
      code,
      message: record.errorDescription ?? `the transfer was aborted (${record.abortReason ?? 'unknown'})`,
      ...(fspiopError === undefined ? {} : { fspiopError }),
    },
  }
}

/**
 * How the outbound API reports an FSPIOP error from the switch or a peer: 32xx (not found) → 404; a
 * payer or payee decision (4xxx, 5xxx) or an expiry (33xx) → 422; a server or communication failure
 * (1xxx, 2xxx) or our message judged invalid (30xx, 31xx) → 502, since that is not the caller's doing.
 */
export function httpStatusForPeerError(errorCode: string): number {
  if (errorCode.startsWith('32')) return 404
  if (errorCode.startsWith('33') || errorCode.startsWith('4') || errorCode.startsWith('5')) return 422
  return 502
}

function peerFailure(stage: SendStage, errorInformation: ErrorInformation): { readonly httpStatus: number; readonly failure: SendFailure } {
  const received = parseErrorInformation({ errorInformation })
  const code: ErrorCode = received.ok ? hubErrorOf(received.value).code : 'VALIDATION'
  return {
    httpStatus: httpStatusForPeerError(errorInformation.errorCode),
    failure: { stage, code, message: errorInformation.errorDescription, fspiopError: errorInformation },
  }
}

function timeoutFailure(stage: SendStage, message: string): SendFailure {
  return { stage, code: 'SERVER_TIMED_OUT', message }
}

/** The switch did not take a request: refused it (502, with its error) or could not be reached (503/504). */
function requestFailure(stage: SendStage, sent: Exclude<SwitchOutcome, { kind: 'accepted' }>): { readonly httpStatus: number; readonly failure: SendFailure } {
  if (sent.kind === 'unreachable') {
    return {
      httpStatus: sent.error === 'timeout' ? 504 : 503,
      failure: { stage, code: sent.error === 'timeout' ? 'SERVER_TIMED_OUT' : 'DESTINATION_COMMUNICATION', message: `the switch could not be reached (${sent.detail})` },
    }
  }
  return {
    httpStatus: 502,
    failure: {
      stage,
      code: 'DESTINATION_FSP_ERROR',
      message: `the switch refused the request with HTTP ${sent.status}`,
      ...(sent.errorInformation === undefined ? {} : { fspiopError: sent.errorInformation }),
    },
  }
}

const PARTY_ID_TYPES = new Set(['MSISDN', 'EMAIL', 'PERSONAL_ID', 'BUSINESS', 'DEVICE', 'ACCOUNT_ID', 'IBAN', 'ALIAS'])

/** Checks the outbound request; answers the requested amount in minor units or throws a ValidationError (400). */
function checkSendInput(input: SendInput, currency: string, schemeMaxMinor: bigint): bigint {
  const problems: string[] = []
  const from = input.from as { msisdn?: unknown; accountId?: unknown } | undefined
  if (from === undefined || from === null || (typeof from.msisdn !== 'string') === (typeof from.accountId !== 'string')) {
    problems.push('from needs exactly one of msisdn and accountId')
  }
  const to = input.to as { idType?: unknown; idValue?: unknown; idSubValue?: unknown } | undefined
  if (to === undefined || to === null || typeof to.idType !== 'string' || !PARTY_ID_TYPES.has(to.idType)) problems.push(`to.idType must be one of ${[...PARTY_ID_TYPES].join(', ')}`)
  if (to !== undefined && to !== null && !validateFspiopSchema('PartyIdentifier', to.idValue).ok) problems.push('to.idValue must be a party identifier of 1 to 128 characters')
  if (to?.idSubValue !== undefined && !validateFspiopSchema('PartySubIdOrType', to.idSubValue).ok) problems.push('to.idSubValue must be 1 to 128 characters')
  if (input.amountType !== 'SEND' && input.amountType !== 'RECEIVE') problems.push('amountType must be SEND or RECEIVE')
  if (input.note !== undefined && !validateFspiopSchema('Note', input.note).ok) problems.push('note must be 1 to 128 characters')
  if (input.currency !== currency) problems.push(`currency must be ${currency}, the currency of this DFSP`)
  const amount = typeof input.amount === 'string' ? parseAmount(input.amount, currency, { grammar: 'decimal', maxMinor: schemeMaxMinor }) : undefined
  if (amount === undefined || !amount.ok) problems.push(`amount must be a decimal ${currency} amount${amount === undefined || amount.ok ? '' : ` (${amount.status})`}`)
  else if (amount.value <= 0n) problems.push('amount must be positive')
  if (problems.length > 0 || amount === undefined || !amount.ok) throw new ValidationError(problems.join('; '), { problems })
  return amount.value
}
