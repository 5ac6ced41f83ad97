// SPDX-License-Identifier: Apache-2.0
/**
 * The DFSP as payee: it answers look-ups of its customers, prices quotes (building the ILP packet and
 * condition as Mojaloop's SDK does), and fulfils transfers against the quotes it gave.
 *
 * Every request is answered by a callback to the switch. What is answered is stored before it is sent,
 * so a resend of the same request (same id, same canonical body) gets the same answer again, and the same
 * id with another body gets 3106 (reference §1.7). A transfer still being worked on when its resend comes
 * is left alone: its answer is on the way. (A quote is stored only once priced, with its answer.)
 *
 * On POST /transfers the DFSP credits its customer from its SCHEME account (and its fee to FEES), then
 * answers with the fulfilment: at once and COMMITTED, or, configured so, pending and RESERVED, posting the
 * credit only when the switch's PATCH says COMMITTED and voiding it when it says ABORTED (reference §4.5).
 */
import { HubError, NotFoundError, RejectedError, ValidationError } from '../core/errors.ts'
import { formatAmount, parseAmount } from '../core/money.ts'
import {
  buildIlpPacket,
  conditionOf,
  decodeIlpPacket,
  ilpAmountOf,
  ILP_ADDRESS,
  errorInformationFor,
  errorInformationOf,
  matchTransferToIlpPacket,
  transactionFromQuote,
  type ErrorInformation,
  type DecodedIlpPacket,
  type ErrorInformationObject,
  type Money,
  type QuotesIDPutResponse,
  type QuotesPostRequest,
  type TransfersPostRequest,
} from '../fspiop/index.ts'
import type { TransferInput } from '../ledger/index.ts'
import { isoOf, requestHash, type DfspDeps, type Inbound } from './context.ts'
import { dfspAccountId, ledgerTransferId, postId, voidId } from './ledger-ids.ts'
import type { Customer, PartyIdType, QuoteRecord, TransferRecord } from './ports.ts'
import { FulfilmentKey } from './fulfilment.ts'
import { quoteAsPayee } from './quote-math.ts'
import { PayeeTransactionRequests } from './request-to-pay.ts'
import { fspiopPath } from './switch-api.ts'
import { statesAllowing, type AbortReason } from './transfer-state.ts'

/**
 * A quote this process gave, kept until it expires (at most GIVEN_QUOTES_MAX of them): a prepare carrying the
 * very packet built for it is checked against what was built (its parts, the stored quote, the fulfilment)
 * instead of reading the quote back, decoding the packet and deriving the fulfilment again, which give the
 * same. A quote row is never changed once written, so the kept one is the row; any other prepare (another
 * packet, a quote given before a restart or by another process of this DFSP) takes the full path.
 */
interface GivenQuote {
  readonly record: QuoteRecord
  readonly ilpPacket: string
  readonly packet: DecodedIlpPacket
  readonly fulfilment: string
}

const GIVEN_QUOTES_MAX = 2_048

interface CheckedPrepare {
  readonly quote: QuoteRecord
  readonly customer: Customer
  readonly fulfilment: string
  readonly counterparty: string
  readonly note: string | null
}

export class Payee {
  readonly #deps: DfspDeps

  readonly #fulfilmentKey: FulfilmentKey
  /** By condition, oldest first. */
  readonly #given = new Map<string, GivenQuote>()

  constructor(deps: DfspDeps) {
    this.#deps = deps
    this.#fulfilmentKey = new FulfilmentKey(deps.config.ilpSecret)
  }

  // -------------------------------------------------------------------------------------------------
  // GET /parties/{Type}/{ID}[/{SubId}]

  async onGetParty(inbound: Inbound, type: string, id: string, subId: string | undefined): Promise<void> {
    const path = fspiopPath('parties', type, id, subId)
    // This DFSP knows its customers by MSISDN and account id, with no sub-ids.
    const customer = (type === 'MSISDN' || type === 'ACCOUNT_ID') && subId === undefined ? await this.#deps.customers.findByParty(type, id) : undefined
    if (customer === undefined) {
      await this.#answer(inbound, `${path}/error`, errorInformationFor('PARTY_NOT_FOUND', `${type} ${id} is not a customer of ${this.#deps.config.dfspId}`))
      return
    }
    await this.#answer(inbound, path, { party: this.#deps.customers.partyOf(customer, type as PartyIdType, id) })
  }

  // -------------------------------------------------------------------------------------------------
  // POST /quotes

  /**
   * Priced first, then stored once with its answer (one write, not a claim and an update): pricing moves
   * no money and reads only what does not change, so a resend that races the original just prices too, and
   * whichever insert comes second finds the finished record and answers from it, as for any later resend.
   */
  async onQuoteRequest(inbound: Inbound, body: QuotesPostRequest): Promise<void> {
    const { repo, clock } = this.#deps
    const hash = requestHash(body)
    const nowMs = clock.nowMs()
    const path = fspiopPath('quotes', body.quoteId)
    const priced = await this.#priceQuote(inbound, body, nowMs)
    const received: QuoteRecord = {
      quoteId: body.quoteId,
      role: 'PAYEE',
      requestHash: hash,
      state: 'RECEIVED',
      transactionId: body.transactionId,
      customerId: null,
      amountType: body.amountType,
      currency: body.amount.currency,
      transferAmountMinor: null,
      payeeReceiveAmountMinor: null,
      payeeFspFeeMinor: null,
      condition: null,
      expiresAtMs: null,
      request: JSON.stringify(body),
      response: null,
      responseIsError: false,
      createdAtMs: nowMs,
      updatedAtMs: clock.nowMs(),
    }
    if (priced instanceof HubError) {
      const answer = errorInformationOf(priced)
      const claimed = await repo.claimQuote({ ...received, state: 'REJECTED', response: JSON.stringify(answer), responseIsError: true })
      if (!claimed.inserted) {
        await this.#resend(inbound, path, claimed.existing, hash)
        return
      }
      this.#deps.logger.info({ quoteId: body.quoteId, code: priced.code, reason: priced.message }, 'quote rejected')
      await this.#answer(inbound, `${path}/error`, answer)
      return
    }
    const record: QuoteRecord = {
      ...received,
      state: 'ACCEPTED',
      customerId: priced.customer.customerId,
      transferAmountMinor: priced.transferAmountMinor,
      payeeReceiveAmountMinor: priced.payeeReceiveAmountMinor,
      payeeFspFeeMinor: priced.payeeFspFeeMinor,
      condition: priced.response.condition,
      expiresAtMs: priced.expiresAtMs,
      response: JSON.stringify(priced.response),
    }
    const claimed = await repo.claimQuote(record)
    if (!claimed.inserted) {
      await this.#resend(inbound, path, claimed.existing, hash)
      return
    }
    this.#keepGiven({ record, ilpPacket: priced.response.ilpPacket, packet: priced.packet, fulfilment: priced.fulfilment })
    await this.#answer(inbound, path, priced.response)
  }

  async #priceQuote(
    inbound: Inbound,
    body: QuotesPostRequest,
    nowMs: number,
  ): Promise<
    | HubError
    | {
        readonly customer: Customer
        readonly response: QuotesIDPutResponse
        readonly transferAmountMinor: bigint
        readonly payeeReceiveAmountMinor: bigint
        readonly payeeFspFeeMinor: bigint
        readonly expiresAtMs: number
        /** What decoding the packet gives, and its fulfilment. */
        readonly packet: DecodedIlpPacket
        readonly fulfilment: string
      }
  > {
    const { config } = this.#deps
    if (body.amount.currency !== config.currency) return new RejectedError('PAYEE_UNSUPPORTED_CURRENCY', `${config.dfspId} holds ${config.currency} only`)
    const currency = body.amount.currency
    if (body.payer.partyIdInfo.fspId !== undefined && body.payer.partyIdInfo.fspId !== inbound.source) {
      return new ValidationError(`payer.partyIdInfo.fspId ${body.payer.partyIdInfo.fspId} is not the sender ${inbound.source}`)
    }
    const payee = body.payee.partyIdInfo
    if (payee.fspId !== undefined && payee.fspId !== config.dfspId) return new ValidationError(`payee.partyIdInfo.fspId ${payee.fspId} is not ${config.dfspId}`)
    // A device (ATM, POS) or a business is paid into the account whose account id is its identifier; its
    // sub-id (the merchant or acceptor id) is kept in the packet but not needed to find the account.
    const byAccount = payee.partyIdType === 'DEVICE' || payee.partyIdType === 'BUSINESS'
    const customer =
      byAccount || ((payee.partyIdType === 'MSISDN' || payee.partyIdType === 'ACCOUNT_ID') && payee.partySubIdOrType === undefined)
        ? await this.#deps.customers.findByParty(byAccount ? 'ACCOUNT_ID' : (payee.partyIdType as PartyIdType), payee.partyIdentifier)
        : undefined
    if (customer === undefined) return new NotFoundError('PARTY_NOT_FOUND', `${payee.partyIdType} ${payee.partyIdentifier} is not a customer of ${config.dfspId}`)
    const amount = parseAmount(body.amount.amount, currency, { maxMinor: config.schemeMaxMinor })
    if (!amount.ok) return new ValidationError(`amount ${body.amount.amount} ${currency} is not acceptable (${amount.status})`, { element: 'amount' })
    const payerExpiresAtMs = body.expiration === undefined ? undefined : Date.parse(body.expiration)
    if (payerExpiresAtMs !== undefined && payerExpiresAtMs <= nowMs) return new HubError('QUOTE_EXPIRED', `the quote request expired at ${body.expiration}`)
    const amounts = quoteAsPayee(body.amountType, amount.value, config.fees.payee, config.schemeMaxMinor)
    if (!amounts.ok) return new RejectedError('PAYEE_FSP_REJECTED_QUOTE', `${body.amountType} ${body.amount.amount} ${currency}: ${amounts.status}`)
    // The payer's expiration is a quick-failure hint: the quote never outlives it.
    const expiresAtMs = Math.min(nowMs + config.quoteExpiryMs, payerExpiresAtMs ?? Number.POSITIVE_INFINITY)
    const money = (minor: bigint): Money => ({ amount: formatAmount(minor, currency), currency })
    const transferAmount = money(amounts.value.transferAmountMinor)
    const expiration = isoOf(expiresAtMs)
    const transaction = transactionFromQuote(body, { transferAmount, expiration, ...(body.note === undefined ? {} : { note: body.note }) })
    const ilp = buildIlpPacket(transaction, config.ilpSecret)
    if (!ilp.ok) return new HubError('INTERNAL', `the ILP packet could not be built (${ilp.status})`)
    // buildIlpPacket checked the amount already; the packet's amount is the transfer amount in minor units.
    const ilpAmount = ilpAmountOf(transferAmount)
    if (!ilpAmount.ok) return new HubError('INTERNAL', `the ILP amount could not be made (${ilpAmount.status})`)
    return {
      // The packet's data is the canonical JSON of `transaction`: decoding gives it back, key order aside.
      packet: { amountMinor: ilpAmount.value, expiresAtMs, condition: ilp.value.condition, destination: ILP_ADDRESS, transaction },
      fulfilment: ilp.value.fulfilment,
      customer,
      transferAmountMinor: amounts.value.transferAmountMinor,
      payeeReceiveAmountMinor: amounts.value.payeeReceiveAmountMinor,
      payeeFspFeeMinor: amounts.value.payeeFspFeeMinor,
      expiresAtMs,
      response: {
        transferAmount,
        payeeReceiveAmount: money(amounts.value.payeeReceiveAmountMinor),
        payeeFspFee: money(amounts.value.payeeFspFeeMinor),
        expiration,
        ilpPacket: ilp.value.ilpPacket,
        condition: ilp.value.condition,
      },
    }
  }

  // -------------------------------------------------------------------------------------------------
  // POST /transfers

  /**
   * Answers the quote id of the transfer's record (null when it has none), so that the caller can tell
   * whether a transaction request follows it without reading the record again.
   *
   * A resend is recognised by the claim (the insert finds the row), not by a read before it: a read would
   * cost every new transfer a SELECT to spare the rare resend the checks below.
   */
  async onTransferPrepare(inbound: Inbound, body: TransfersPostRequest): Promise<string | null> {
    const { repo, clock, config, logger } = this.#deps
    const hash = requestHash(body)
    const path = fspiopPath('transfers', body.transferId)
    const nowMs = clock.nowMs()
    const amount = parseAmount(body.amount.amount, body.amount.currency)
    const base: TransferRecord = {
      transferId: body.transferId,
      role: 'PAYEE',
      requestHash: hash,
      state: 'RECEIVED',
      abortReason: null,
      quoteId: null,
      customerId: null,
      counterpartyFsp: body.payerFsp,
      counterparty: null,
      currency: body.amount.currency,
      amountMinor: amount.ok ? amount.value : 0n,
      principalMinor: 0n,
      feeMinor: 0n,
      note: null,
      condition: body.condition,
      fulfilment: null,
      expiresAtMs: Date.parse(body.expiration),
      request: JSON.stringify(body),
      response: null,
      responseIsError: false,
      errorCode: null,
      errorDescription: null,
      checkedAtMs: null,
      completedAtMs: null,
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    }
    const checked = await this.#checkPrepare(inbound, body, nowMs)
    if (checked instanceof HubError) {
      const answer = errorInformationOf(checked)
      const claimed = await repo.claimTransfer({
        ...base,
        state: 'ABORTED',
        abortReason: 'REJECTED',
        response: JSON.stringify(answer),
        responseIsError: true,
        errorCode: answer.errorInformation.errorCode,
        errorDescription: answer.errorInformation.errorDescription,
        completedAtMs: nowMs,
      })
      if (!claimed.inserted) {
        await this.#resend(inbound, path, claimed.existing, hash)
        return claimed.existing.quoteId
      }
      logger.info({ transferId: body.transferId, code: checked.code, reason: checked.message }, 'transfer rejected')
      await this.#answer(inbound, `${path}/error`, answer)
      return null
    }
    const record: TransferRecord = {
      ...base,
      quoteId: checked.quote.quoteId,
      customerId: checked.customer.customerId,
      counterparty: checked.counterparty,
      principalMinor: checked.quote.payeeReceiveAmountMinor ?? 0n,
      feeMinor: checked.quote.payeeFspFeeMinor ?? 0n,
      note: checked.note,
    }
    const claimed = await repo.claimTransfer(record)
    if (!claimed.inserted) {
      await this.#resend(inbound, path, claimed.existing, hash)
      return claimed.existing.quoteId
    }
    // Cash-out and merchant payments (a quote for a transaction request) always wait for the switch's
    // PATCH before the device releases anything (reference §4.5, §7.4 point 6).
    const mode = PayeeTransactionRequests.isRequestQuote(checked.quote) ? 'RESERVED' : config.payeeTransferState
    const booked = await this.#deps.ledger.createTransfers(this.#creditEntries(record, checked.customer, mode === 'RESERVED' ? 'pending' : 'posted'))
    const failed = booked.find((outcome) => outcome.status !== 'created' && outcome.status !== 'exists')
    if (failed !== undefined) {
      const error = new HubError('PAYEE_FSP_REJECTED_TRANSACTION', `the credit could not be booked (${failed.status})`)
      logger.error({ transferId: body.transferId, status: failed.status }, 'payee credit failed')
      const answer = errorInformationOf(error)
      await this.#abort(record, 'ERROR', answer.errorInformation, answer)
      await this.#answer(inbound, `${path}/error`, answer)
      return record.quoteId
    }
    const completedMs = clock.nowMs()
    const answer = { fulfilment: checked.fulfilment, completedTimestamp: isoOf(completedMs), transferState: mode }
    const moved = await repo.updateTransfer(body.transferId, 'PAYEE', ['RECEIVED'], {
      state: mode,
      fulfilment: checked.fulfilment,
      response: JSON.stringify(answer),
      responseIsError: false,
      ...(mode === 'COMMITTED' ? { completedAtMs: completedMs } : {}),
      updatedAtMs: completedMs,
    })
    if (!moved) {
      // Only the sweeper moves a RECEIVED payee transfer, and only long after its expiration: the credit
      // just booked must not stand, and no fulfilment goes out.
      logger.error({ transferId: body.transferId }, 'transfer was expired while being fulfilled; credit undone')
      await this.#undoCredit(record)
      return record.quoteId
    }
    await this.#answer(inbound, path, answer)
    return record.quoteId
  }

  async #checkPrepare(inbound: Inbound, body: TransfersPostRequest, nowMs: number): Promise<HubError | CheckedPrepare> {
    const { config, repo } = this.#deps
    if (body.payeeFsp !== config.dfspId) return new ValidationError(`payeeFsp ${body.payeeFsp} is not ${config.dfspId}`)
    if (body.payerFsp !== inbound.source) return new ValidationError(`payerFsp ${body.payerFsp} is not the sender ${inbound.source}`)
    if (body.amount.currency !== config.currency) return new RejectedError('PAYEE_UNSUPPORTED_CURRENCY', `${config.dfspId} holds ${config.currency} only`)
    if (!(Date.parse(body.expiration) > nowMs)) return new HubError('TRANSFER_EXPIRED', `the transfer expired at ${body.expiration}`)
    const given = this.#given.get(body.condition)
    const built = given !== undefined && given.ilpPacket === body.ilpPacket ? given : undefined
    let packet: DecodedIlpPacket
    if (built !== undefined) packet = built.packet
    else {
      const decoded = decodeIlpPacket(body.ilpPacket)
      if (!decoded.ok) return new ValidationError(`ilpPacket is not a valid ILP packet (${decoded.status})`, { element: 'ilpPacket' })
      packet = decoded.value
    }
    const match = matchTransferToIlpPacket(body, packet)
    if (match !== 'matches') return new ValidationError(`the transfer does not match its ILP packet (${match})`, { element: 'ilpPacket' })
    const { transaction } = packet
    const quote = built?.record ?? (await repo.findQuote(transaction.quoteId, 'PAYEE'))
    if (quote === undefined || quote.state !== 'ACCEPTED') return new NotFoundError('QUOTE_NOT_FOUND', `quote ${transaction.quoteId} was not given by ${config.dfspId}`)
    if (quote.condition !== body.condition) return new ValidationError('the condition is not the one quoted', { element: 'condition' })
    if (quote.transactionId !== transaction.transactionId) return new ValidationError('the transaction is not the one quoted', { element: 'ilpPacket' })
    const amount = parseAmount(body.amount.amount, body.amount.currency)
    if (!amount.ok || amount.value !== quote.transferAmountMinor) return new ValidationError('the amount is not the one quoted', { element: 'amount' })
    if (quote.expiresAtMs === null || quote.expiresAtMs < nowMs) return new HubError('QUOTE_EXPIRED', `quote ${quote.quoteId} expired`)
    const customer = quote.customerId === null ? undefined : await repo.findCustomer(quote.customerId)
    if (customer === undefined) return new NotFoundError('PARTY_NOT_FOUND', 'the quoted payee is no longer a customer')
    // The fulfilment is re-derived from the packet (its transaction, decoded above) with our secret; it must
    // fulfil the condition, which proves the packet is the one this DFSP built and nobody changed a byte of it.
    const fulfilment = built?.fulfilment ?? this.#fulfilmentKey.fulfilmentOf(transaction)
    const condition = conditionOf(fulfilment)
    if (!condition.ok || condition.value !== body.condition) {
      return new ValidationError('the condition was not made by this DFSP for this packet', { element: 'condition' })
    }
    const payer = transaction.payer
    return {
      quote,
      customer,
      fulfilment,
      counterparty: JSON.stringify({
        idType: payer.partyIdInfo.partyIdType,
        idValue: payer.partyIdInfo.partyIdentifier,
        fspId: payer.partyIdInfo.fspId ?? body.payerFsp,
        ...(payer.name === undefined ? {} : { name: payer.name }),
      }),
      note: transaction.note ?? null,
    }
  }

  /** Keeps a quote just given, first forgetting the expired and, past the bound, the oldest. */
  #keepGiven(given: GivenQuote): void {
    const nowMs = this.#deps.clock.nowMs()
    for (const [condition, kept] of this.#given) {
      if (this.#given.size < GIVEN_QUOTES_MAX && (kept.record.expiresAtMs ?? 0) >= nowMs) break
      this.#given.delete(condition)
    }
    this.#given.set(given.packet.condition, given)
  }

  #creditEntries(record: TransferRecord, customer: Customer, type: 'posted' | 'pending'): TransferInput[] {
    const { dfspId } = this.#deps.config
    const scheme = dfspAccountId(dfspId, record.currency, 'SCHEME')
    const entries: TransferInput[] = [
      {
        id: ledgerTransferId(dfspId, 'cp', record.transferId),
        type,
        debitAccountId: scheme,
        creditAccountId: customer.walletAccountId,
        amountMinor: record.principalMinor,
        currency: record.currency,
        reference: record.transferId,
        linked: record.feeMinor > 0n,
      },
    ]
    if (record.feeMinor > 0n) {
      entries.push({
        id: ledgerTransferId(dfspId, 'cf', record.transferId),
        type,
        debitAccountId: scheme,
        creditAccountId: dfspAccountId(dfspId, record.currency, 'FEES'),
        amountMinor: record.feeMinor,
        currency: record.currency,
        reference: record.transferId,
      })
    }
    return entries
  }

  // -------------------------------------------------------------------------------------------------
  // The switch's word on a transfer this DFSP fulfilled: PATCH, a PUT answering our GET, or an error.

  /**
   * RESERVED + COMMITTED: post the credit. RESERVED + ABORTED: void it. COMMITTED + ABORTED (this DFSP
   * answered COMMITTED, then the switch failed to commit, e.g. it expired): take the credit back. Anything
   * else is a repeat or news about a state this DFSP is already past, and changes nothing.
   */
  async settle(record: TransferRecord, word: 'COMMITTED' | 'ABORTED', error?: ErrorInformation): Promise<void> {
    const { logger } = this.#deps
    if (record.state === 'RESERVED' && word === 'COMMITTED') {
      await this.#postCredit(record)
      return
    }
    if (record.state === 'RESERVED' && word === 'ABORTED') {
      await this.#voidCredit(record, error)
      return
    }
    if (record.state === 'COMMITTED' && word === 'ABORTED') {
      await this.#reverseCredit(record, error)
      return
    }
    if (record.state === 'RECEIVED') logger.warn({ transferId: record.transferId, word }, 'the switch spoke of a transfer not yet answered; ignored')
  }

  async #postCredit(record: TransferRecord): Promise<void> {
    const { dfspId } = this.#deps.config
    const kinds = record.feeMinor > 0n ? (['cp', 'cf'] as const) : (['cp'] as const)
    const outcomes = await this.#deps.ledger.createTransfers(
      kinds.map((kind, index) => ({
        id: postId(dfspId, kind, record.transferId),
        type: 'post_pending' as const,
        pendingId: ledgerTransferId(dfspId, kind, record.transferId),
        reference: record.transferId,
        linked: index < kinds.length - 1,
      })),
    )
    const failed = outcomes.find((outcome) => outcome.status !== 'created' && outcome.status !== 'exists')
    if (failed !== undefined) {
      this.#deps.logger.error({ transferId: record.transferId, status: failed.status }, 'committed incoming transfer could not be posted: reconcile')
      return
    }
    const nowMs = this.#deps.clock.nowMs()
    await this.#deps.repo.updateTransfer(record.transferId, 'PAYEE', statesAllowing('commit'), { state: 'COMMITTED', completedAtMs: nowMs, updatedAtMs: nowMs })
  }

  async #voidCredit(record: TransferRecord, error: ErrorInformation | undefined): Promise<void> {
    const { dfspId } = this.#deps.config
    const kinds = record.feeMinor > 0n ? (['cp', 'cf'] as const) : (['cp'] as const)
    const outcomes = await this.#deps.ledger.createTransfers(
      kinds.map((kind, index) => ({
        id: voidId(dfspId, kind, record.transferId),
        type: 'void_pending' as const,
        pendingId: ledgerTransferId(dfspId, kind, record.transferId),
        reference: record.transferId,
        linked: index < kinds.length - 1,
      })),
    )
    const failed = outcomes.find((outcome) => outcome.status !== 'created' && outcome.status !== 'exists' && outcome.status !== 'pending_transfer_not_found')
    if (failed !== undefined) {
      this.#deps.logger.error({ transferId: record.transferId, status: failed.status }, 'aborted incoming transfer could not be voided: reconcile')
      return
    }
    await this.#abort(record, abortReasonOf(error), error)
  }

  async #reverseCredit(record: TransferRecord, error: ErrorInformation | undefined): Promise<void> {
    const { dfspId } = this.#deps.config
    const customer = record.customerId === null ? undefined : await this.#deps.repo.findCustomer(record.customerId)
    if (customer === undefined) return
    const scheme = dfspAccountId(dfspId, record.currency, 'SCHEME')
    const entries: TransferInput[] = [
      {
        id: ledgerTransferId(dfspId, 'rp', record.transferId),
        type: 'posted',
        debitAccountId: customer.walletAccountId,
        creditAccountId: scheme,
        amountMinor: record.principalMinor,
        currency: record.currency,
        reference: record.transferId,
        linked: record.feeMinor > 0n,
      },
    ]
    if (record.feeMinor > 0n) {
      entries.push({
        id: ledgerTransferId(dfspId, 'rf', record.transferId),
        type: 'posted',
        debitAccountId: dfspAccountId(dfspId, record.currency, 'FEES'),
        creditAccountId: scheme,
        amountMinor: record.feeMinor,
        currency: record.currency,
        reference: record.transferId,
      })
    }
    const outcomes = await this.#deps.ledger.createTransfers(entries)
    const failed = outcomes.find((outcome) => outcome.status !== 'created' && outcome.status !== 'exists')
    if (failed !== undefined) {
      // Typically exceeds_credits: the customer already spent the money. The books keep the credit and say so.
      this.#deps.logger.error({ transferId: record.transferId, status: failed.status }, 'the switch aborted a transfer already credited and the credit could not be reversed: reconcile')
      const nowMs = this.#deps.clock.nowMs()
      await this.#deps.repo.updateTransfer(record.transferId, 'PAYEE', ['COMMITTED'], {
        errorCode: error?.errorCode ?? null,
        errorDescription: `aborted by the switch after crediting; reversal failed (${failed.status})`,
        updatedAtMs: nowMs,
      })
      return
    }
    this.#deps.logger.warn({ transferId: record.transferId, code: error?.errorCode }, 'the switch aborted a transfer already credited; credit reversed')
    const nowMs = this.#deps.clock.nowMs()
    await this.#deps.repo.updateTransfer(record.transferId, 'PAYEE', statesAllowing('reverse'), {
      state: 'ABORTED',
      abortReason: abortReasonOf(error),
      errorCode: error?.errorCode ?? null,
      errorDescription: error?.errorDescription ?? null,
      completedAtMs: nowMs,
      updatedAtMs: nowMs,
    })
  }

  /**
   * For a transfer abandoned while RECEIVED (the process stopped between booking and answering): whatever
   * credit was booked goes, since no fulfilment was ever sent and the switch cannot have committed.
   */
  async undoUnanswered(record: TransferRecord): Promise<void> {
    await this.#undoCredit(record)
    await this.#abort(record, 'EXPIRED', undefined)
  }

  async #undoCredit(record: TransferRecord): Promise<void> {
    const { dfspId } = this.#deps.config
    const [principal] = await this.#deps.ledger.lookupTransfers([ledgerTransferId(dfspId, 'cp', record.transferId)])
    if (principal === undefined) return
    if (principal.type === 'pending') {
      await this.#voidCredit({ ...record, state: 'RESERVED' }, undefined)
      return
    }
    await this.#reverseCredit({ ...record, state: 'COMMITTED' }, undefined)
  }

  async #abort(record: TransferRecord, reason: AbortReason, error: ErrorInformation | undefined, answer?: ErrorInformationObject): Promise<void> {
    const nowMs = this.#deps.clock.nowMs()
    await this.#deps.repo.updateTransfer(record.transferId, 'PAYEE', statesAllowing('abort'), {
      state: 'ABORTED',
      abortReason: reason,
      errorCode: error?.errorCode ?? null,
      errorDescription: error?.errorDescription ?? null,
      ...(answer === undefined ? {} : { response: JSON.stringify(answer), responseIsError: true }),
      completedAtMs: nowMs,
      updatedAtMs: nowMs,
    })
  }

  // -------------------------------------------------------------------------------------------------

  /** A request seen before: the same answer again, 3106 when the body differs, nothing while in progress. */
  async #resend(inbound: Inbound, path: string, stored: { readonly requestHash: string; readonly response: string | null; readonly responseIsError: boolean }, hash: string): Promise<void> {
    if (stored.requestHash !== hash) {
      await this.#answer(inbound, `${path}/error`, errorInformationFor('MODIFIED_REQUEST', 'the same id was sent with a different body'))
      return
    }
    if (stored.response === null) return
    await this.#answer(inbound, stored.responseIsError ? `${path}/error` : path, JSON.parse(stored.response) as object)
  }

  async #answer(inbound: Inbound, path: string, body: object): Promise<void> {
    await this.#deps.switchApi.callback(path, body, { destination: inbound.source, version: inbound.version, trace: inbound.trace })
  }
}

function abortReasonOf(error: ErrorInformation | undefined): AbortReason {
  if (error === undefined) return 'REJECTED'
  return error.errorCode === '3303' ? 'EXPIRED' : 'REJECTED'
}
