// SPDX-License-Identifier: Apache-2.0
/**
 * A virtual ATM or POS: an ISO 8583 client over TCP that drives the gateway exactly as a terminal (or
 * an ATM driver) would. It keeps its own STAN counter, gives each transaction an RRN, and matches
 * responses to requests by response MTI and STAN.
 *
 *   const atm = await VirtualTerminal.connect({ host, port, terminalId: 'ATM00001' })
 *   const quote = await atm.cashOut({ msisdn: '254700000001', amountMinor: 10_000n, currency: 'KES' })
 *   // quote.approved → show quote.amountMinor, quote.feeMinor, quote.totalDebitMinor; customer confirms
 *   const result = await atm.enterOtp('123456')   // APPROVED (dispense), RETRY (triesLeft) or DECLINED
 *   if (result.outcome === 'APPROVED' && cashJammed) await atm.reverse()   // 0420 → refund
 *
 *   // "Didn't get the code?": a 0200 with ACTION=RESEND in field 63 → RESENT (triesLeft), then enterOtp.
 *   await atm.resendCode()
 *
 *   // A POS paid by QR code: field 22 says "bar code reader" (031), the scanned code goes in field 62.
 *   const qrQuote = await pos.purchase({ msisdn, amountMinor: 2_550n, currency: 'KES', authentication: 'QRCODE' })
 *   const paid = await pos.scanQrCode(codeTheWalletAppShows)
 *
 * runScript plays a whole customer session from a script; tests use it, and so can a load generator.
 */
import { randomInt } from 'node:crypto'
import { connect as connectTcp, type Socket } from 'node:net'
import { findCurrency } from '../../core/money.ts'
import { decodeDisplayData, encodeDisplayData, type DisplayData } from './display-data.ts'
import {
  amountToField4,
  feeFieldToAmount,
  FrameDecoder,
  Iso8583Codec,
  MTI,
  NETWORK_MANAGEMENT_CODES,
  RESPONSE_CODES,
  responseMtiFor,
  formatProcessingCode,
  type Iso8583Fields,
  type Iso8583Message,
} from './iso8583/index.ts'

export interface VirtualTerminalOptions {
  readonly host: string
  readonly port: number
  /** Field 41. */
  readonly terminalId: string
  /** Default: the ASCII variant with 2-byte binary length headers, as the server's default. */
  readonly codec?: Iso8583Codec
  /** How long to wait for each response; default 30 s, a common terminal timer. */
  readonly responseTimeoutMs?: number
  /** First STAN; default random. */
  readonly firstStan?: number
}

export interface Purchase {
  /** The customer's mobile number, sent in field 102. */
  readonly msisdn: string
  readonly amountMinor: bigint
  /** ISO 4217 alphabetic; sent as its numeric code in field 49. */
  readonly currency: string
  /**
   * How the customer authorizes: an OTP typed on the keypad (default), or a QR code from the wallet app
   * that the POS scans, announced in field 22 (POS entry mode 031: bar code reader, PIN capable).
   */
  readonly authentication?: 'OTP' | 'QRCODE'
}

/** Field 22 of a QR payment: PAN entry mode 03 (bar code reader), PIN entry capability 1. */
export const QR_POS_ENTRY_MODE = '031'

export type Quote =
  | {
      readonly approved: true
      readonly responseCode: string
      readonly rrn: string
      readonly amountMinor: bigint
      readonly feeMinor: bigint
      readonly totalDebitMinor: bigint
      readonly currency: string
      readonly triesLeft: number
    }
  | { readonly approved: false; readonly responseCode: string; readonly rrn: string }

export type OtpResult =
  | { readonly outcome: 'APPROVED'; readonly responseCode: string; readonly authId: string; readonly receipt: DisplayData }
  | { readonly outcome: 'RETRY'; readonly responseCode: string; readonly triesLeft: number }
  | { readonly outcome: 'DECLINED'; readonly responseCode: string }

/** The answer to resendCode: prompt for the code again (a new one is on its way for an OTP), or declined. */
export type ResendResult = { readonly outcome: 'RESENT'; readonly responseCode: string; readonly triesLeft: number } | { readonly outcome: 'DECLINED'; readonly responseCode: string }

export class VirtualTerminalError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'VirtualTerminalError'
  }
}

interface Waiter {
  readonly resolve: (message: Iso8583Message) => void
  readonly reject: (error: Error) => void
  readonly timer: NodeJS.Timeout
}

interface CurrentTransaction {
  readonly rrn: string
  readonly processingCode: string
  readonly purchase: Purchase
  readonly currencyNumeric: string
}

const STAN_MAX = 999_999

export class VirtualTerminal {
  readonly terminalId: string
  readonly #socket: Socket
  readonly #codec: Iso8583Codec
  readonly #decoder: FrameDecoder
  readonly #responseTimeoutMs: number
  readonly #waiters = new Map<string, Waiter>()
  #stan: number
  #current: CurrentTransaction | undefined
  #closed: Error | undefined

  private constructor(socket: Socket, options: VirtualTerminalOptions) {
    this.terminalId = options.terminalId
    this.#socket = socket
    this.#codec = options.codec ?? new Iso8583Codec()
    this.#decoder = new FrameDecoder({ header: this.#codec.lengthHeader })
    this.#responseTimeoutMs = options.responseTimeoutMs ?? 30_000
    this.#stan = options.firstStan ?? randomInt(1, STAN_MAX)
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('error', (error) => this.#fail(new VirtualTerminalError(`connection error: ${error.message}`)))
    socket.on('close', () => this.#fail(new VirtualTerminalError('connection closed')))
  }

  static connect(options: VirtualTerminalOptions): Promise<VirtualTerminal> {
    return new Promise((resolve, reject) => {
      const socket = connectTcp({ host: options.host, port: options.port })
      socket.once('error', reject)
      socket.once('connect', () => {
        socket.off('error', reject)
        socket.setNoDelay(true)
        resolve(new VirtualTerminal(socket, options))
      })
    })
  }

  /** True once the connection is gone (closed by either side). */
  get closed(): boolean {
    return this.#closed !== undefined
  }

  /** ATM cash withdrawal, phase 1 (0100, processing code 010000): the quote to show the customer. */
  cashOut(purchase: Purchase): Promise<Quote> {
    return this.#authorize(purchase, formatProcessingCode('cashWithdrawal'))
  }

  /** POS purchase, phase 1 (0100, processing code 000000): the quote to show the customer. */
  purchase(purchase: Purchase): Promise<Quote> {
    return this.#authorize(purchase, formatProcessingCode('purchase'))
  }

  /** Phase 2 (0200): the OTP the customer typed, for the current transaction. */
  enterOtp(otp: string): Promise<OtpResult> {
    return this.#enterCode(otp)
  }

  /** Phase 2 (0200) of a QR payment: the code scanned from the customer's wallet app, in field 62 as an OTP. */
  scanQrCode(code: string): Promise<OtpResult> {
    return this.#enterCode(code)
  }

  /**
   * "Didn't get the code?": a 0200 for the current transaction without field 62 and with ACTION=RESEND in
   * field 63. RESENT (prompt again, with the tries left) or DECLINED.
   */
  async resendCode(): Promise<ResendResult> {
    const current = this.#requireCurrent()
    const response = await this.send({ mti: MTI.financialRequest, fields: { ...this.#transactionFields(current), reservedPrivate63: encodeDisplayData({ ACTION: 'RESEND' }) } })
    const code = response.fields.responseCode ?? ''
    const display = decodeDisplayData(response.fields.reservedPrivate63)
    if (code === RESPONSE_CODES.incorrectPin.code && display.ACTION === 'RESEND') return { outcome: 'RESENT', responseCode: code, triesLeft: Number(display.TRIES ?? '0') }
    return { outcome: 'DECLINED', responseCode: code }
  }

  async #enterCode(otp: string): Promise<OtpResult> {
    const current = this.#requireCurrent()
    const response = await this.send({ mti: MTI.financialRequest, fields: { ...this.#transactionFields(current), otp } })
    return toOtpResult(response)
  }

  /**
   * Reversal advice (0420) for the current transaction: the customer declined the quote, or the ATM
   * could not dispense after approval. Resolves with field 39 of the 0430.
   */
  async reverse(): Promise<string> {
    const current = this.#requireCurrent()
    const response = await this.send({ mti: MTI.reversalAdvice, fields: this.#transactionFields(current) })
    return response.fields.responseCode ?? ''
  }

  /** Echo test (0800, code 301); resolves with field 39 of the 0810. */
  async echo(): Promise<string> {
    const response = await this.send({
      mti: MTI.networkManagementRequest,
      fields: { transmissionDateTime: transmissionDateTime(new Date()), networkManagementCode: NETWORK_MANAGEMENT_CODES.echoTest.code },
    })
    return response.fields.responseCode ?? ''
  }

  /**
   * Sends any request with the next STAN (unless it carries one) and resolves with its response.
   * Rejects on timeout or when the connection closes.
   */
  send(request: Iso8583Message): Promise<Iso8583Message> {
    const stan = request.fields.stan ?? this.#nextStan()
    const message: Iso8583Message = { mti: request.mti, fields: { ...request.fields, stan } }
    return this.sendExact(message)
  }

  /** Sends the message exactly as given (no STAN of its own: used to repeat a request). */
  sendExact(message: Iso8583Message): Promise<Iso8583Message> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed)
    const key = `${responseMtiFor(message.mti)}|${message.fields.stan ?? ''}`
    if (this.#waiters.has(key)) return Promise.reject(new VirtualTerminalError(`a request with STAN ${message.fields.stan} is already waiting`))
    const bytes = this.#codec.packFrame(message)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(key)
        reject(new VirtualTerminalError(`no response to ${message.mti} STAN ${message.fields.stan} within ${this.#responseTimeoutMs} ms`))
      }, this.#responseTimeoutMs)
      this.#waiters.set(key, { resolve, reject, timer })
      this.#socket.write(bytes)
    })
  }

  /** Writes bytes as they are: for tests that send what no terminal should. */
  writeRaw(bytes: Uint8Array): void {
    this.#socket.write(bytes)
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#socket.destroyed) return resolve()
      this.#socket.once('close', () => resolve())
      this.#socket.end()
    })
  }

  async #authorize(purchase: Purchase, processingCode: string): Promise<Quote> {
    const currency = findCurrency(purchase.currency)
    if (currency === undefined) throw new VirtualTerminalError(`unknown currency ${purchase.currency}`)
    const current: CurrentTransaction = { rrn: newRrn(), processingCode, purchase, currencyNumeric: currency.numeric }
    this.#current = current
    const response = await this.send({
      mti: MTI.authorizationRequest,
      fields: { ...this.#transactionFields(current), accountId1: purchase.msisdn, ...(purchase.authentication === 'QRCODE' ? { posEntryMode: QR_POS_ENTRY_MODE } : {}) },
    })
    const code = response.fields.responseCode ?? ''
    if (code !== RESPONSE_CODES.approved.code) return { approved: false, responseCode: code, rrn: current.rrn }
    const display = decodeDisplayData(response.fields.reservedPrivate63)
    const feeMinor =
      response.fields.amountTransactionFee !== undefined ? feeFieldToAmount(response.fields.amountTransactionFee).amountMinor : BigInt(display.FEE ?? '0')
    return {
      approved: true,
      responseCode: code,
      rrn: current.rrn,
      amountMinor: purchase.amountMinor,
      feeMinor,
      totalDebitMinor: BigInt(display.TOTAL ?? String(purchase.amountMinor + feeMinor)),
      currency: currency.code,
      triesLeft: Number(display.TRIES ?? '0'),
    }
  }

  #transactionFields(current: CurrentTransaction): Iso8583Fields {
    const now = new Date()
    return {
      processingCode: current.processingCode,
      amountTransaction: amountToField4(current.purchase.amountMinor),
      transmissionDateTime: transmissionDateTime(now),
      localTime: now.toISOString().slice(11, 19).replaceAll(':', ''),
      localDate: now.toISOString().slice(5, 10).replace('-', ''),
      rrn: current.rrn,
      terminalId: this.terminalId,
      currencyCode: current.currencyNumeric,
      ...(current.purchase.authentication === 'QRCODE' ? { posEntryMode: QR_POS_ENTRY_MODE } : {}),
    }
  }

  #requireCurrent(): CurrentTransaction {
    if (this.#current === undefined) throw new VirtualTerminalError('no transaction: start with cashOut or purchase')
    return this.#current
  }

  #nextStan(): string {
    this.#stan = this.#stan >= STAN_MAX ? 1 : this.#stan + 1
    return String(this.#stan).padStart(6, '0')
  }

  #onData(chunk: Buffer): void {
    let frames: Buffer[]
    try {
      frames = this.#decoder.push(chunk)
    } catch (error) {
      this.#fail(new VirtualTerminalError(`unreadable response stream: ${(error as Error).message}`))
      this.#socket.destroy()
      return
    }
    for (const frame of frames) {
      let message: Iso8583Message
      try {
        message = this.#codec.unpack(frame)
      } catch {
        continue
      }
      const key = `${message.mti}|${message.fields.stan ?? ''}`
      const waiter = this.#waiters.get(key)
      if (waiter === undefined) continue
      this.#waiters.delete(key)
      clearTimeout(waiter.timer)
      waiter.resolve(message)
    }
  }

  #fail(error: Error): void {
    this.#closed ??= error
    for (const [key, waiter] of this.#waiters) {
      clearTimeout(waiter.timer)
      this.#waiters.delete(key)
      waiter.reject(error)
    }
  }
}

/** A 0210 as the customer sees it: approved with a receipt, prompt again, or declined. */
function toOtpResult(response: Iso8583Message): OtpResult {
  const code = response.fields.responseCode ?? ''
  if (code === RESPONSE_CODES.approved.code) {
    return { outcome: 'APPROVED', responseCode: code, authId: response.fields.authId ?? '', receipt: decodeDisplayData(response.fields.reservedPrivate63) }
  }
  if (code === RESPONSE_CODES.incorrectPin.code) {
    return { outcome: 'RETRY', responseCode: code, triesLeft: Number(decodeDisplayData(response.fields.reservedPrivate63).TRIES ?? '0') }
  }
  return { outcome: 'DECLINED', responseCode: code }
}

/** Field 7: MMDDhhmmss in GMT. */
function transmissionDateTime(now: Date): string {
  const iso = now.toISOString()
  return iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19)
}

/** Field 37: 12 digits, random enough that two terminals' transactions never meet. */
function newRrn(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0') + String(randomInt(0, 1_000_000)).padStart(6, '0')
}

/** A step at the code prompt: the code typed (or scanned), or a request to send it again. */
export type ScriptStep = string | { readonly resend: true }

/** "Didn't get the code? press R", as a script step. */
export const RESEND_STEP: ScriptStep = Object.freeze({ resend: true })

/** One customer at the terminal, scripted. */
export interface TerminalScript {
  readonly kind: 'cashOut' | 'purchase'
  readonly purchase: Purchase
  /** Whether the customer accepts the quote; default true. Declining sends a reversal advice (0420). */
  readonly confirm?: boolean
  /**
   * What the customer does at the code prompt, in order, while the gateway asks again: a code to type (or,
   * for a QR payment, to scan), or RESEND_STEP ("didn't get the code?").
   */
  readonly otps: readonly ScriptStep[]
  /** After approval the ATM fails to dispense (or the POS sale fails) and sends a reversal advice. */
  readonly failAfterApproval?: boolean
}

export interface ScriptTranscript {
  readonly quote: Quote
  /** The answers to the codes typed (or scanned), in order. */
  readonly otpResults: readonly OtpResult[]
  /** The answers to every step at the code prompt, resends included, in order. */
  readonly steps: readonly (OtpResult | ResendResult)[]
  /** Field 39 of the 0430, when the script sent a reversal advice. */
  readonly reversalResponseCode: string | undefined
  /** OUT_OF_OTPS: the script ran out of OTPs while the gateway still asked, and the terminal cancelled. */
  readonly result: 'APPROVED' | 'DECLINED' | 'CANCELLED' | 'REVERSED' | 'OUT_OF_OTPS'
}

/** Plays a script on a connected terminal and returns what the customer saw. */
export async function runScript(terminal: VirtualTerminal, script: TerminalScript): Promise<ScriptTranscript> {
  const quote = script.kind === 'cashOut' ? await terminal.cashOut(script.purchase) : await terminal.purchase(script.purchase)
  if (!quote.approved) return { quote, otpResults: [], steps: [], reversalResponseCode: undefined, result: 'DECLINED' }
  if (script.confirm === false) {
    const reversalResponseCode = await terminal.reverse()
    return { quote, otpResults: [], steps: [], reversalResponseCode, result: 'CANCELLED' }
  }
  const otpResults: OtpResult[] = []
  const steps: (OtpResult | ResendResult)[] = []
  for (const step of script.otps) {
    if (typeof step !== 'string') {
      const resent = await terminal.resendCode()
      steps.push(resent)
      if (resent.outcome === 'RESENT') continue
      return { quote, otpResults, steps, reversalResponseCode: undefined, result: 'DECLINED' }
    }
    const result = script.purchase.authentication === 'QRCODE' ? await terminal.scanQrCode(step) : await terminal.enterOtp(step)
    otpResults.push(result)
    steps.push(result)
    if (result.outcome === 'RETRY') continue
    if (result.outcome === 'DECLINED') return { quote, otpResults, steps, reversalResponseCode: undefined, result: 'DECLINED' }
    if (script.failAfterApproval === true) {
      const reversalResponseCode = await terminal.reverse()
      return { quote, otpResults, steps, reversalResponseCode, result: 'REVERSED' }
    }
    return { quote, otpResults, steps, reversalResponseCode: undefined, result: 'APPROVED' }
  }
  // The customer walks away while the terminal still asks for an OTP: the terminal cancels.
  const reversalResponseCode = await terminal.reverse()
  return { quote, otpResults, steps, reversalResponseCode, result: 'OUT_OF_OTPS' }
}
