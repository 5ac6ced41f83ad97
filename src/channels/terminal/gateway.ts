// SPDX-License-Identifier: Apache-2.0
/**
 * The terminal gateway: decoded ISO 8583 requests in, responses out, the payee DFSP behind the
 * PayeeDfsp port. No sockets here (server.ts owns them), so every rule below is testable on messages.
 *
 * The two-message OTP flow (reference §7.2, §8.6 "gateway design"):
 *
 *   0100 cash withdrawal (processing code 01xxxx, ATM) or purchase (00xxxx, POS)
 *        → requestToPay(WITHDRAWAL/DEVICE or PAYMENT/BUSINESS, OTP; QRCODE when field 22 says 03x)
 *        → 0110 00 with the amount (field 4), the fee (field 28, 'D' + 8 digits) and, in field 63,
 *          AMOUNT/FEE/TOTAL/CURRENCY/TRIES for the customer to confirm; or a decline code.
 *   0200 same RRN (field 37), the OTP in field 62 → authorize
 *        → COMMITTED: 0210 00, approval code in field 38, receipt in field 63 (dispense / print);
 *        → RETRY: 0210 55 ("incorrect PIN") with TRIES=n in field 63, the terminal prompts again
 *          and sends a new 0200 (new STAN, same RRN);
 *        → REJECTED: 0210 75 when it was the last try, otherwise the mapped decline code.
 *   0200 same RRN, no field 62, ACTION=RESEND in field 63 ("didn't get the code?") → resend
 *        → 0210 55 with ACTION=RESEND;TRIES=n in field 63: not approved, prompt for the code again (a new
 *          SMS is on its way; tries unchanged); or the mapped decline code when the payer FSP gave up.
 *   0420 / 0400 same RRN: before authorization → reject, 0430 00; after commit (dispense failed)
 *        → refund, 0430 00 when refunded; nothing to reverse → 0430 21.
 *   0800 → 0810 00 for sign-on, sign-off and echo (network management code 001, 002, 301).
 *
 * Field choices: the customer's MSISDN travels in field 102 (account identification 1), as
 * mojaloop-adapter does; field 2 is a card number and is masked as one. The OTP travels in field 62,
 * which the codec masks entirely in every description and log object.
 *
 * QR code (authenticationType QRCODE, POS only): the customer's wallet app shows a one-time code and the
 * POS scans it. The POS says so in the 0100's field 22 (POS entry mode), whose first two digits are the
 * ISO 8583:1987 PAN entry mode, where 03 is "bar code reader": the closest standard value for a scanned QR
 * code, and one a terminal application can set without a private code; the third digit (PIN capability) is
 * ignored. 03 → the transaction
 * request goes out with authenticationType QRCODE; anything else, or no field 22, → OTP. The scanned code
 * then travels exactly as an OTP does: in the 0200's field 62, masked in every log, checked as FSPIOP's
 * QRCODE value (1 to 64 printable characters, no spaces). An ATM that sends 03 is answered 58: QR codes are
 * offered for merchant payments only. Wrong code, last try, receipt: as for the OTP.
 *
 * RESEND ("didn't get the code? press R") is a 0200 with the transaction's RRN and no field 62, carrying
 * ACTION=RESEND in field 63 (our KEY=value private data, display-data.ts). Why so: it stays in phase 2,
 * so the transaction is found by its RRN, one-in-flight and duplicate rules apply (a new STAN per press),
 * and a 0420 still reverses it; field 62 is not used for a marker because it is masked in logs (the action
 * would be invisible) and because any short string, "RESEND" included, is a valid QR code value; a private
 * processing code is not used because field 3 names the financial transaction (the 0200's must match the
 * 0100's) and positions 1–2 have no "resend"; a separate MTI (0600 administrative) would need routing and
 * matching of its own to the open transaction. The answer is 0210 55, the code every terminal already treats
 * as "prompt again", with ACTION=RESEND;TRIES=n in field 63 so that the terminal says "new code sent" rather
 * than "wrong code". For a QR transaction nothing is sent (the app shows the code): the payer FSP just asks
 * again, and the same answer tells the POS to scan again.
 *
 * Rules per terminal (field 41):
 * - One transaction in flight. A different request while one is in flight is answered 94 (duplicate
 *   transmission): the terminal already has a transaction running, so the newcomer is a duplicate of
 *   its work, and the host is not faulty (96 would invite a stand-in or a retry storm). A reversal
 *   advice is the exception: it waits for the in-flight request and then reverses its result, since an
 *   ATM that timed out on its 0200 must be able to undo it.
 * - Duplicates: the same terminal, MTI (a repeat MTI such as 0101 counts as its original), STAN and RRN
 *   within the duplicate window get the previous response again and never reach the DFSP twice; a
 *   duplicate of a request still in flight waits for that request's response.
 */
import { randomUUID } from 'node:crypto'
import { systemClock, type Clock } from '../../core/clock.ts'
import { decodeDisplayData, encodeDisplayData } from './display-data.ts'
import {
  amountToFeeField,
  amountToField4,
  field4ToAmount,
  Iso8583Error,
  MTI,
  networkManagementCodeName,
  parseMti,
  parseProcessingCode,
  RESPONSE_CODES,
  responseMtiFor,
  toLogObject,
  type Iso8583Fields,
  type Iso8583Message,
  type ResponseCode,
} from './iso8583/index.ts'
import { silentTerminalLogger, type TerminalLogger } from './logger.ts'
import type { PayeeDfsp, RequestOutcome } from './payee-port.ts'
import type { Terminal, TerminalRegistry } from './registry.ts'
import { responseCodeForRejection } from './response-codes.ts'

export interface TerminalGatewayOptions {
  readonly registry: TerminalRegistry
  readonly payee: PayeeDfsp
  readonly clock?: Clock
  readonly logger?: TerminalLogger
  /** Ids for FSPIOP transaction requests; default random UUIDs. */
  readonly newTransactionRequestId?: () => string
  /** How long a response is kept to answer a duplicate; default 10 minutes. */
  readonly duplicateWindowMs?: number
  /** How long a transaction stays open to its 0200 and 0420; default 30 minutes. */
  readonly transactionTtlMs?: number
  /**
   * Bound on remembered responses and transactions, whatever their age; default 20,000 each, as many as
   * the DFSP keeps request sessions (SESSIONS_RETAINED_MAX), so a 0420 that finds its transaction here
   * finds its session there. A cash-out keeps ~2.7 KB here (two responses, one transaction), so the bound
   * holds the gateway to ~55 MB of heap (kivuko start gives a part 512 MB); at 10 cash-outs/s it is not
   * reached before the windows end, at 130/s it still keeps the last 2½ minutes for a 0420.
   */
  readonly rememberedMax?: number
}

export const TERMINAL_GATEWAY_DEFAULTS = {
  duplicateWindowMs: 10 * 60_000,
  transactionTtlMs: 30 * 60_000,
  rememberedMax: 20_000,
} as const

/**
 * QUOTED      the 0110 showed the quote; waiting for the OTP (0200) or a cancellation (0420)
 * COMMITTED   the transfer committed; the terminal dispensed or printed unless a 0420 says otherwise
 * REFUNDING   a 0420 after commit is being refunded
 * REFUNDED    the refund committed
 * CANCELLED   a 0420 before authorization rejected the transaction request
 * DECLINED    the DFSP rejected the OTP entry (tries exhausted, funds, timeout…) or its adapter failed
 */
type TransactionState = 'QUOTED' | 'COMMITTED' | 'REFUNDING' | 'REFUNDED' | 'CANCELLED' | 'DECLINED'

interface TerminalTransaction {
  readonly terminal: Terminal
  readonly rrn: string
  readonly transactionRequestId: string
  readonly processingCode: string
  readonly amountMinor: bigint
  readonly feeMinor: bigint
  readonly totalDebitMinor: bigint
  /** What the terminal sends in field 62: the OTP typed, or the QR code scanned (field 22 of the 0100). */
  readonly authentication: 'OTP' | 'QRCODE'
  readonly createdAtMs: number
  state: TransactionState
  retriesLeft: number
  transferId: string | undefined
}

interface Remembered {
  readonly response: Iso8583Message
  readonly atMs: number
}

/** The fields a response copies from its request, when present. */
const ECHOED_FIELDS = [
  'processingCode',
  'amountTransaction',
  'transmissionDateTime',
  'stan',
  'localTime',
  'localDate',
  'rrn',
  'terminalId',
  'cardAcceptorId',
  'currencyCode',
  'networkManagementCode',
] as const satisfies readonly (keyof Iso8583Fields)[]

/** FSPIOP MSISDN (api-snippets): 5 to 15 digits, no leading zero; a leading '+' is tolerated and dropped. */
const MSISDN = /^\+?([1-9][0-9]{4,14})$/
/** What field 62 may hold per authentication: an OTP as typed on a keypad (1 to 32 letters or digits); a scanned QR code as FSPIOP's QRCODE (1 to 64 characters, no spaces). */
const CODE_IN_FIELD_62 = { OTP: /^[0-9A-Za-z]{1,32}$/, QRCODE: /^[\x21-\x7e]{1,64}$/ } as const
/** FSPIOP's OtpValue: what a payer FSP can accept as an OTP. */
const FSPIOP_OTP_VALUE = /^\d{3,10}$/
/** Field 22 positions 1–2 (PAN entry mode) for a bar code reader: a QR code scanned. */
const ENTRY_MODE_BAR_CODE = '03'
/** Field 63's key and value for "send me the code again". */
export const RESEND_ACTION = { key: 'ACTION', value: 'RESEND' } as const

export class TerminalGateway {
  readonly #registry: TerminalRegistry
  readonly #payee: PayeeDfsp
  readonly #clock: Clock
  readonly #logger: TerminalLogger
  readonly #newId: () => string
  readonly #duplicateWindowMs: number
  readonly #transactionTtlMs: number
  readonly #rememberedMax: number
  /** Responses by duplicate key, oldest first. */
  readonly #responses = new Map<string, Remembered>()
  /** Requests being processed, by duplicate key, so a duplicate can wait for the same response. */
  readonly #pending = new Map<string, Promise<Iso8583Message>>()
  /** The request each terminal has in flight. */
  readonly #inFlight = new Map<string, Promise<Iso8583Message>>()
  /** Open transactions by terminal id and RRN, oldest first. */
  readonly #transactions = new Map<string, TerminalTransaction>()

  constructor(options: TerminalGatewayOptions) {
    this.#registry = options.registry
    this.#payee = options.payee
    this.#clock = options.clock ?? systemClock
    this.#logger = options.logger ?? silentTerminalLogger
    this.#newId = options.newTransactionRequestId ?? randomUUID
    this.#duplicateWindowMs = options.duplicateWindowMs ?? TERMINAL_GATEWAY_DEFAULTS.duplicateWindowMs
    this.#transactionTtlMs = options.transactionTtlMs ?? TERMINAL_GATEWAY_DEFAULTS.transactionTtlMs
    this.#rememberedMax = options.rememberedMax ?? TERMINAL_GATEWAY_DEFAULTS.rememberedMax
  }

  /**
   * Answers one request or advice; resolves undefined for messages that get no answer (responses and
   * notifications sent to us). Never rejects: a failure is answered 96.
   */
  async handle(request: Iso8583Message): Promise<Iso8583Message | undefined> {
    let parts: ReturnType<typeof parseMti>
    try {
      parts = parseMti(request.mti)
    } catch {
      return undefined
    }
    if (parts.messageFunction !== '0' && parts.messageFunction !== '2') {
      this.#logger.warn({ message: toLogObject(request) }, 'terminal sent a message that is not a request: ignored')
      return undefined
    }
    if (parts.version !== '0') return respond(request, RESPONSE_CODES.formatError.code)
    // The original MTI of a repeat (0101 → 0100, 0421 → 0420).
    const baseMti = `0${parts.messageClass}${parts.messageFunction}0`
    if (baseMti === MTI.networkManagementRequest) return this.#networkManagement(request)
    if (baseMti !== MTI.authorizationRequest && baseMti !== MTI.financialRequest && baseMti !== MTI.reversalAdvice && baseMti !== MTI.reversalRequest) {
      return respond(request, RESPONSE_CODES.invalidTransaction.code)
    }
    const { terminalId, stan, rrn } = request.fields
    if (terminalId === undefined || stan === undefined || rrn === undefined) {
      this.#logger.warn({ message: toLogObject(request) }, 'terminal request without terminal id, STAN or RRN')
      return respond(request, RESPONSE_CODES.formatError.code)
    }
    const terminal = this.#registry.find(terminalId)
    if (terminal === undefined) {
      this.#logger.warn({ terminalId }, 'request from an unregistered terminal')
      return respond(request, RESPONSE_CODES.invalidMerchant.code)
    }
    return this.#once(terminal, baseMti, request)
  }

  /** Duplicate detection and one transaction in flight per terminal, around #process. */
  async #once(terminal: Terminal, baseMti: string, request: Iso8583Message): Promise<Iso8583Message> {
    const { stan, rrn } = request.fields
    const key = `${terminal.terminalId}|${baseMti}|${stan}|${rrn}`
    const nowMs = this.#clock.nowMs()
    const remembered = this.#responses.get(key)
    if (remembered !== undefined && nowMs - remembered.atMs <= this.#duplicateWindowMs) {
      this.#logger.info({ terminalId: terminal.terminalId, mti: request.mti, stan, rrn }, 'duplicate request: the previous response is sent again')
      return remembered.response
    }
    const pending = this.#pending.get(key)
    if (pending !== undefined) {
      this.#logger.info({ terminalId: terminal.terminalId, mti: request.mti, stan, rrn }, 'duplicate of a request in flight: it gets the same response')
      return pending
    }
    const reversal = baseMti === MTI.reversalAdvice || baseMti === MTI.reversalRequest
    if (!reversal && this.#inFlight.has(terminal.terminalId)) {
      this.#logger.warn({ terminalId: terminal.terminalId, mti: request.mti, stan, rrn }, 'terminal already has a transaction in flight: 94')
      return respond(request, RESPONSE_CODES.duplicateTransmission.code)
    }
    // A reversal queues behind the request in flight (which never rejects: #process answers 96 instead).
    const previous = reversal ? this.#inFlight.get(terminal.terminalId) : undefined
    const work = (previous ?? Promise.resolve(undefined)).then(() => this.#process(terminal, baseMti, request))
    this.#pending.set(key, work)
    this.#inFlight.set(terminal.terminalId, work)
    try {
      const response = await work
      // A reversal that could not be completed is not remembered, so the terminal's repeat (0421) retries it.
      if (!(reversal && response.fields.responseCode === RESPONSE_CODES.systemMalfunction.code)) {
        this.#remember(this.#responses, key, { response, atMs: this.#clock.nowMs() }, (entry, at) => at - entry.atMs > this.#duplicateWindowMs)
      }
      return response
    } finally {
      this.#pending.delete(key)
      if (this.#inFlight.get(terminal.terminalId) === work) this.#inFlight.delete(terminal.terminalId)
    }
  }

  async #process(terminal: Terminal, baseMti: string, request: Iso8583Message): Promise<Iso8583Message> {
    this.#logger.debug({ terminalId: terminal.terminalId, message: toLogObject(request) }, 'terminal request')
    try {
      switch (baseMti) {
        case MTI.authorizationRequest:
          return await this.#authorizationRequest(terminal, request)
        case MTI.financialRequest:
          return await this.#financialRequest(terminal, request)
        default:
          return await this.#reversal(terminal, request)
      }
    } catch (error) {
      // The codec's errors here mean a field of the request is malformed; anything else is a failure of
      // the DFSP adapter or a bug, and the terminal must not act on it.
      if (error instanceof Iso8583Error) {
        this.#logger.warn({ terminalId: terminal.terminalId, field: error.fieldName, reason: error.reason }, 'malformed field in terminal request')
        return respond(request, RESPONSE_CODES.formatError.code)
      }
      this.#logger.error({ terminalId: terminal.terminalId, mti: request.mti, err: errorSummary(error) }, 'terminal request failed')
      return respond(request, RESPONSE_CODES.systemMalfunction.code)
    }
  }

  /** 0100: start the transaction request and show the quote. */
  async #authorizationRequest(terminal: Terminal, request: Iso8583Message): Promise<Iso8583Message> {
    const fields = request.fields
    if (fields.processingCode === undefined || fields.amountTransaction === undefined || fields.currencyCode === undefined || fields.accountId1 === undefined) {
      return respond(request, RESPONSE_CODES.formatError.code)
    }
    const transactionType = parseProcessingCode(fields.processingCode).transactionType
    if (transactionType !== 'cashWithdrawal' && transactionType !== 'purchase') return respond(request, RESPONSE_CODES.invalidTransaction.code)
    const scenario = transactionType === 'cashWithdrawal' ? 'WITHDRAWAL' : 'PAYMENT'
    // An ATM dispenses cash and a POS sells goods; anything else is not this terminal's business.
    if ((scenario === 'WITHDRAWAL') !== (terminal.type === 'ATM')) return respond(request, RESPONSE_CODES.notPermittedToTerminal.code)
    if (fields.currencyCode !== terminal.currency.numeric) return respond(request, RESPONSE_CODES.invalidTransaction.code)
    const amountMinor = field4ToAmount(fields.amountTransaction)
    if (amountMinor <= 0n) return respond(request, RESPONSE_CODES.invalidAmount.code)
    const authentication = fields.posEntryMode?.slice(0, 2) === ENTRY_MODE_BAR_CODE ? 'QRCODE' : 'OTP'
    if (authentication === 'QRCODE' && terminal.type !== 'POS') return respond(request, RESPONSE_CODES.notPermittedToTerminal.code)
    const msisdn = MSISDN.exec(fields.accountId1.trim())?.[1]
    if (msisdn === undefined) return respond(request, RESPONSE_CODES.invalidCardNumber.code)
    const rrn = fields.rrn as string
    const transactionKey = `${terminal.terminalId}|${rrn}`
    const open = this.#transactions.get(transactionKey)
    if (open !== undefined && !this.#expired(open)) {
      // A new 0100 may not reuse the RRN of a transaction that is still open: the 0200 and 0420 find theirs by it.
      return respond(request, RESPONSE_CODES.duplicateTransmission.code)
    }

    const transactionRequestId = this.#newId()
    const outcome = await this.#payee.requestToPay({
      transactionRequestId,
      payer: { idType: 'MSISDN', idValue: msisdn },
      payee: { idType: terminal.payee.idType, idValue: terminal.payee.idValue, name: terminal.payee.name },
      amountMinor,
      currency: terminal.currency.code,
      scenario,
      initiatorType: terminal.type === 'ATM' ? 'DEVICE' : 'BUSINESS',
      authenticationType: authentication,
    })
    const log = { terminalId: terminal.terminalId, rrn, transactionRequestId, state: outcome.state }
    switch (outcome.state) {
      case 'AWAITING_AUTHORIZATION': {
        const transaction: TerminalTransaction = {
          terminal,
          rrn,
          transactionRequestId,
          processingCode: fields.processingCode,
          amountMinor,
          feeMinor: outcome.feeMinor,
          totalDebitMinor: outcome.totalDebitMinor,
          authentication,
          createdAtMs: this.#clock.nowMs(),
          state: 'QUOTED',
          retriesLeft: outcome.retriesLeft,
          transferId: undefined,
        }
        this.#remember(this.#transactions, transactionKey, transaction, (entry, at) => at - entry.createdAtMs > this.#transactionTtlMs)
        this.#logger.info({ ...log, authentication, feeMinor: String(outcome.feeMinor), retriesLeft: outcome.retriesLeft }, 'quote shown to the customer')
        return respond(request, RESPONSE_CODES.approved.code, quoteFields(transaction))
      }
      case 'REJECTED': {
        const code = responseCodeForRejection(outcome.fspiopCode, outcome.reason, { lastOtpTry: false })
        this.#logger.info({ ...log, fspiopCode: outcome.fspiopCode, reason: outcome.reason, responseCode: code }, 'transaction request declined')
        return respond(request, code)
      }
      case 'COMMITTED':
      case 'RETRY':
        // With OTP or QR code authentication neither can answer a new request. Money that moved before the customer
        // confirmed on the terminal is given back; an open request is withdrawn.
        this.#logger.error(log, 'the DFSP answered a new OTP transaction request out of turn')
        if (outcome.state === 'COMMITTED') await this.#payee.refund(transactionRequestId, 'committed before the customer confirmed on the terminal')
        else await this.#payee.reject(transactionRequestId)
        return respond(request, RESPONSE_CODES.systemMalfunction.code)
    }
  }

  /** 0200: the OTP (or QR code) for the quoted transaction with the same RRN, or a RESEND. */
  async #financialRequest(terminal: Terminal, request: Iso8583Message): Promise<Iso8583Message> {
    const fields = request.fields
    const transaction = this.#transactions.get(`${terminal.terminalId}|${fields.rrn}`)
    if (transaction === undefined || this.#expired(transaction)) {
      // Single-message (0200 without a quoted 0100) transactions are not offered.
      return respond(request, RESPONSE_CODES.invalidTransaction.code)
    }
    if (transaction.state === 'COMMITTED' || transaction.state === 'REFUNDING' || transaction.state === 'REFUNDED') {
      return respond(request, RESPONSE_CODES.duplicateTransmission.code)
    }
    if (transaction.state !== 'QUOTED') return respond(request, RESPONSE_CODES.invalidTransaction.code)
    if (fields.processingCode !== undefined && fields.processingCode !== transaction.processingCode) {
      return respond(request, RESPONSE_CODES.invalidTransaction.code)
    }
    if (fields.amountTransaction !== undefined && field4ToAmount(fields.amountTransaction) !== transaction.amountMinor) {
      return respond(request, RESPONSE_CODES.invalidAmount.code)
    }
    const resend = decodeDisplayData(fields.reservedPrivate63)[RESEND_ACTION.key] === RESEND_ACTION.value
    const code = fields.otp
    if (resend) {
      // Both a code and a resend in one message: the terminal is confused, and guessing would cost a try.
      if (code !== undefined) return respond(request, RESPONSE_CODES.formatError.code)
      return this.#resend(terminal, request, transaction)
    }
    if (code === undefined || !CODE_IN_FIELD_62[transaction.authentication].test(code)) return respond(request, RESPONSE_CODES.formatError.code)
    if (transaction.authentication === 'OTP' && !FSPIOP_OTP_VALUE.test(code)) {
      // A mistyped OTP (a letter, too short, too long) cannot be right and never reaches the payer FSP: the
      // customer is asked again and keeps every try.
      return respond(request, RESPONSE_CODES.incorrectPin.code, { reservedPrivate63: encodeDisplayData({ TRIES: String(transaction.retriesLeft) }) })
    }

    const lastOtpTry = transaction.retriesLeft <= 1
    let outcome: RequestOutcome
    try {
      outcome = await this.#payee.authorize(transaction.transactionRequestId, code)
    } catch (error) {
      // The outcome is unknown: the terminal must not dispense, and the transaction accepts no more OTPs.
      transaction.state = 'DECLINED'
      throw error
    }
    return this.#answerAuthorization(terminal, request, transaction, outcome, lastOtpTry)
  }

  /** A RESEND 0200: the payer FSP sends the OTP again (or, for a QR code, just asks again). */
  async #resend(terminal: Terminal, request: Iso8583Message, transaction: TerminalTransaction): Promise<Iso8583Message> {
    let outcome: RequestOutcome
    try {
      outcome = await this.#payee.resend(transaction.transactionRequestId)
    } catch (error) {
      transaction.state = 'DECLINED'
      throw error
    }
    const log = { terminalId: terminal.terminalId, rrn: transaction.rrn, transactionRequestId: transaction.transactionRequestId, state: outcome.state }
    if (outcome.state === 'AWAITING_AUTHORIZATION' || outcome.state === 'RETRY') {
      transaction.retriesLeft = outcome.retriesLeft
      this.#logger.info({ ...log, retriesLeft: outcome.retriesLeft }, 'code sent again: the customer is asked for it again')
      return respond(request, RESPONSE_CODES.incorrectPin.code, {
        reservedPrivate63: encodeDisplayData({ [RESEND_ACTION.key]: RESEND_ACTION.value, TRIES: String(outcome.retriesLeft) }),
      })
    }
    return this.#answerAuthorization(terminal, request, transaction, outcome, false)
  }

  /** The 0210 for the payer FSP's word on a code (or a resend). */
  #answerAuthorization(terminal: Terminal, request: Iso8583Message, transaction: TerminalTransaction, outcome: RequestOutcome, lastOtpTry: boolean): Iso8583Message {
    const fields = request.fields
    const log = { terminalId: terminal.terminalId, rrn: transaction.rrn, transactionRequestId: transaction.transactionRequestId, state: outcome.state }
    switch (outcome.state) {
      case 'COMMITTED': {
        transaction.state = 'COMMITTED'
        transaction.transferId = outcome.transferId
        const authId = approvalCode(outcome.transferId)
        this.#logger.info({ ...log, transferId: outcome.transferId }, 'transaction approved')
        return respond(request, RESPONSE_CODES.approved.code, {
          authId,
          amountTransaction: fields.amountTransaction ?? amountToField4(transaction.amountMinor),
          reservedPrivate63: encodeDisplayData({
            ...amountsDisplay(transaction),
            PAYEE: terminal.name,
            TERMINAL: terminal.terminalId,
            RRN: transaction.rrn,
            AUTH: authId,
            TRANSFER: outcome.transferId,
            AT: new Date(outcome.completedAtMs).toISOString(),
          }),
        })
      }
      case 'RETRY':
      case 'AWAITING_AUTHORIZATION':
        // The payer DFSP asks for the OTP again (wrong OTP, or a fresh GET /authorizations).
        transaction.retriesLeft = outcome.retriesLeft
        this.#logger.info({ ...log, retriesLeft: outcome.retriesLeft }, 'wrong OTP: the customer may try again')
        return respond(request, RESPONSE_CODES.incorrectPin.code, { reservedPrivate63: encodeDisplayData({ TRIES: String(outcome.retriesLeft) }) })
      case 'REJECTED': {
        transaction.state = 'DECLINED'
        const code = responseCodeForRejection(outcome.fspiopCode, outcome.reason, { lastOtpTry })
        this.#logger.info({ ...log, fspiopCode: outcome.fspiopCode, reason: outcome.reason, responseCode: code }, 'transaction declined')
        return respond(request, code)
      }
    }
  }

  /** 0420 / 0400: cancel a quoted transaction, or refund a committed one. */
  async #reversal(terminal: Terminal, request: Iso8583Message): Promise<Iso8583Message> {
    const transaction = this.#transactions.get(`${terminal.terminalId}|${request.fields.rrn}`)
    const log = { terminalId: terminal.terminalId, rrn: request.fields.rrn, state: transaction?.state }
    if (transaction === undefined || this.#expired(transaction) || transaction.state === 'DECLINED') {
      this.#logger.info(log, 'reversal with nothing to reverse')
      return respond(request, RESPONSE_CODES.noActionTaken.code)
    }
    switch (transaction.state) {
      case 'QUOTED': {
        const outcome = await this.#payee.reject(transaction.transactionRequestId)
        transaction.state = 'CANCELLED'
        this.#logger.info({ ...log, outcome: outcome.state }, 'transaction cancelled at the terminal')
        return respond(request, RESPONSE_CODES.approved.code)
      }
      case 'COMMITTED': {
        transaction.state = 'REFUNDING'
        let refunded: Awaited<ReturnType<PayeeDfsp['refund']>>
        try {
          refunded = await this.#payee.refund(transaction.transactionRequestId, 'terminal reversal: cash not dispensed or sale not completed')
        } catch (error) {
          transaction.state = 'COMMITTED'
          throw error
        }
        if (refunded.state === 'REFUNDED') {
          transaction.state = 'REFUNDED'
          this.#logger.info({ ...log, transferId: transaction.transferId }, 'committed transaction refunded after a terminal reversal')
          return respond(request, RESPONSE_CODES.approved.code)
        }
        transaction.state = 'COMMITTED'
        this.#logger.error({ ...log, transferId: transaction.transferId, fspiopCode: refunded.fspiopCode }, 'refund after a terminal reversal failed')
        return respond(request, RESPONSE_CODES.systemMalfunction.code)
      }
      case 'REFUNDING':
      case 'REFUNDED':
      case 'CANCELLED':
        // Already reversed: the advice is acknowledged again.
        return respond(request, RESPONSE_CODES.approved.code)
    }
  }

  /** 0800: sign-on, sign-off and echo are answered locally. */
  #networkManagement(request: Iso8583Message): Iso8583Message {
    const code = request.fields.networkManagementCode
    const name = code === undefined ? undefined : networkManagementCodeName(code)
    const known = name === 'echoTest' || name === 'signOn' || name === 'signOff'
    this.#logger.debug({ message: toLogObject(request) }, 'network management request')
    return respond(request, known ? RESPONSE_CODES.approved.code : RESPONSE_CODES.invalidTransaction.code)
  }

  #expired(transaction: TerminalTransaction): boolean {
    return this.#clock.nowMs() - transaction.createdAtMs > this.#transactionTtlMs
  }

  /** Inserts and drops the oldest entries that are stale or over the bound (maps keep insertion order). */
  #remember<V>(map: Map<string, V>, key: string, value: V, stale: (entry: V, nowMs: number) => boolean): void {
    map.delete(key)
    map.set(key, value)
    const nowMs = this.#clock.nowMs()
    for (const [oldestKey, oldest] of map) {
      if (map.size <= this.#rememberedMax && !stale(oldest, nowMs)) break
      map.delete(oldestKey)
    }
  }
}

function respond(request: Iso8583Message, responseCode: ResponseCode, extra: Iso8583Fields = {}): Iso8583Message {
  const fields: Record<string, string | Uint8Array | undefined> = {}
  const source = request.fields as Readonly<Record<string, string | Uint8Array | undefined>>
  for (const name of ECHOED_FIELDS) if (source[name] !== undefined) fields[name] = source[name]
  return { mti: responseMtiFor(request.mti), fields: { ...(fields as Iso8583Fields), ...extra, responseCode } }
}

function amountsDisplay(transaction: TerminalTransaction): Record<string, string> {
  return {
    AMOUNT: transaction.amountMinor.toString(),
    FEE: transaction.feeMinor.toString(),
    TOTAL: transaction.totalDebitMinor.toString(),
    CURRENCY: transaction.terminal.currency.code,
  }
}

/** The 0110 quote: the fee in field 28 when it fits its 8 digits, everything in field 63. */
function quoteFields(transaction: TerminalTransaction): Iso8583Fields {
  const feeFits = transaction.feeMinor >= 0n && transaction.feeMinor < 100_000_000n
  return {
    ...(feeFits ? { amountTransactionFee: amountToFeeField(transaction.feeMinor, 'D') } : {}),
    reservedPrivate63: encodeDisplayData({ ...amountsDisplay(transaction), TRIES: String(transaction.retriesLeft) }),
  }
}

/** Field 38 (an 6): the last six letters and digits of the transfer id, upper case. */
function approvalCode(transferId: string): string {
  return transferId.replace(/[^0-9A-Za-z]/g, '').slice(-6).toUpperCase().padStart(6, '0')
}

function errorSummary(error: unknown): { name: string; message: string } {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: 'unknown', message: String(error) }
}
