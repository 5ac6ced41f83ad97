// SPDX-License-Identifier: Apache-2.0
/**
 * A scripted payee DFSP behind the PayeeDfsp port, a log recorder, and a gateway harness on a real
 * TCP port (0: the system picks a free one).
 */
import { randomUUID } from 'node:crypto'
import {
  TerminalGateway,
  TerminalRegistry,
  TerminalServer,
  VirtualTerminal,
  type PayeeDfsp,
  type RequestOutcome,
  type RequestToPay,
  type TerminalEntry,
  type TerminalLogger,
} from '../../src/channels/terminal/index.ts'

export interface FakeCustomer {
  readonly otp: string
  readonly balanceMinor: bigint
}

interface FakeRequest {
  readonly request: RequestToPay
  retriesLeft: number
  state: 'AWAITING' | 'COMMITTED' | 'REJECTED' | 'REFUNDED'
  transferId: string | undefined
}

export type FakeCall =
  | { readonly method: 'requestToPay'; readonly request: RequestToPay }
  | { readonly method: 'authorize' | 'resend' | 'reject'; readonly transactionRequestId: string }
  | { readonly method: 'refund'; readonly transactionRequestId: string; readonly reason: string }

/**
 * Behaves like a payer DFSP reached through the switch: unknown MSISDNs are 3204, MSISDNs listed in
 * `timingOut` come back REJECTED 2004, a balance below amount + fee is 4100 "insufficient funds", a
 * wrong OTP costs a try and the last wrong one is REJECTED 4101.
 */
export class FakePayeeDfsp implements PayeeDfsp {
  readonly customers = new Map<string, FakeCustomer>()
  readonly timingOut = new Set<string>()
  readonly calls: FakeCall[] = []
  readonly requests = new Map<string, FakeRequest>()
  feeMinor = 150n
  retries = 3
  /** When set, requestToPay waits for it: lets a test hold a transaction in flight. */
  gate: Promise<void> | undefined

  count(method: FakeCall['method']): number {
    return this.calls.filter((call) => call.method === method).length
  }

  async requestToPay(request: RequestToPay): Promise<RequestOutcome> {
    this.calls.push({ method: 'requestToPay', request })
    if (this.gate !== undefined) await this.gate
    const id = request.transactionRequestId
    const customer = this.customers.get(request.payer.idValue)
    if (this.timingOut.has(request.payer.idValue)) return { state: 'REJECTED', transactionRequestId: id, fspiopCode: '2004', reason: 'the payer DFSP did not answer in time' }
    if (customer === undefined) return { state: 'REJECTED', transactionRequestId: id, fspiopCode: '3204', reason: 'party not found' }
    if (customer.balanceMinor < request.amountMinor + this.feeMinor) {
      return { state: 'REJECTED', transactionRequestId: id, fspiopCode: '4100', reason: 'insufficient funds' }
    }
    this.requests.set(id, { request, retriesLeft: this.retries, state: 'AWAITING', transferId: undefined })
    return {
      state: 'AWAITING_AUTHORIZATION',
      transactionRequestId: id,
      amountMinor: request.amountMinor,
      feeMinor: this.feeMinor,
      totalDebitMinor: request.amountMinor + this.feeMinor,
      retriesLeft: this.retries,
    }
  }

  async authorize(transactionRequestId: string, otp: string): Promise<RequestOutcome> {
    this.calls.push({ method: 'authorize', transactionRequestId })
    const record = this.requests.get(transactionRequestId)
    if (record === undefined || record.state !== 'AWAITING') {
      return { state: 'REJECTED', transactionRequestId, fspiopCode: '3206', reason: 'transaction request not found' }
    }
    const customer = this.customers.get(record.request.payer.idValue) as FakeCustomer
    if (otp === customer.otp) {
      record.state = 'COMMITTED'
      record.transferId = randomUUID()
      return { state: 'COMMITTED', transactionRequestId, transferId: record.transferId, completedAtMs: Date.UTC(2026, 0, 2, 10, 30) }
    }
    record.retriesLeft -= 1
    if (record.retriesLeft > 0) return { state: 'RETRY', transactionRequestId, retriesLeft: record.retriesLeft }
    record.state = 'REJECTED'
    return { state: 'REJECTED', transactionRequestId, fspiopCode: '4101', reason: 'OTP tries exhausted' }
  }

  async resend(transactionRequestId: string): Promise<RequestOutcome> {
    this.calls.push({ method: 'resend', transactionRequestId })
    const record = this.requests.get(transactionRequestId)
    if (record === undefined) return { state: 'REJECTED', transactionRequestId, fspiopCode: '3206', reason: 'transaction request not found' }
    return { state: 'RETRY', transactionRequestId, retriesLeft: record.retriesLeft }
  }

  async reject(transactionRequestId: string): Promise<RequestOutcome> {
    this.calls.push({ method: 'reject', transactionRequestId })
    const record = this.requests.get(transactionRequestId)
    if (record !== undefined && record.state === 'AWAITING') record.state = 'REJECTED'
    return { state: 'REJECTED', transactionRequestId, fspiopCode: '4101', reason: 'rejected at the terminal' }
  }

  async refund(transactionRequestId: string, reason: string): Promise<{ state: 'REFUNDED' | 'FAILED'; fspiopCode?: string }> {
    this.calls.push({ method: 'refund', transactionRequestId, reason })
    const record = this.requests.get(transactionRequestId)
    if (record === undefined || record.state !== 'COMMITTED') return { state: 'FAILED', fspiopCode: '3208' }
    record.state = 'REFUNDED'
    return { state: 'REFUNDED' }
  }
}

/** Keeps every log line as JSON text (which also proves no bigint reaches a log). */
export class RecordingLogger implements TerminalLogger {
  readonly lines: string[] = []
  debug(object: object, message: string): void {
    this.#add('debug', object, message)
  }
  info(object: object, message: string): void {
    this.#add('info', object, message)
  }
  warn(object: object, message: string): void {
    this.#add('warn', object, message)
  }
  error(object: object, message: string): void {
    this.#add('error', object, message)
  }
  get text(): string {
    return this.lines.join('\n')
  }
  #add(level: string, object: object, message: string): void {
    this.lines.push(JSON.stringify({ level, ...object, msg: message }))
  }
}

export const KES_CUSTOMER = { msisdn: '254700000001', otp: '749251', balanceMinor: 1_000_000n } as const
export const POOR_CUSTOMER = { msisdn: '254700000002', otp: '551100', balanceMinor: 5_000n } as const
export const SLOW_CUSTOMER_MSISDN = '254700000003'
export const UNKNOWN_MSISDN = '254799999999'

/** ATM00001…ATM00040 in Nairobi, and one merchant's POS. */
export function terminalEntries(): TerminalEntry[] {
  const atms: TerminalEntry[] = Array.from({ length: 40 }, (_, index) => ({
    terminalId: `ATM${String(index + 1).padStart(5, '0')}`,
    type: 'ATM',
    currency: 'KES',
    name: `Kivuko ATM ${index + 1}`,
    location: 'Nairobi',
  }))
  return [...atms, { terminalId: 'POS00001', type: 'POS', payeeId: 'merchant-1001', currency: 'KES', name: 'Duka la Mama', location: 'Mombasa' }]
}

export interface Harness {
  readonly payee: FakePayeeDfsp
  readonly logger: RecordingLogger
  readonly server: TerminalServer
  readonly port: number
  terminal(terminalId: string): Promise<VirtualTerminal>
  close(): Promise<void>
}

export async function startHarness(options: { idleTimeoutMs?: number; customers?: number } = {}): Promise<Harness> {
  const payee = new FakePayeeDfsp()
  payee.customers.set(KES_CUSTOMER.msisdn, KES_CUSTOMER)
  payee.customers.set(POOR_CUSTOMER.msisdn, POOR_CUSTOMER)
  payee.timingOut.add(SLOW_CUSTOMER_MSISDN)
  for (let index = 0; index < (options.customers ?? 0); index += 1) {
    payee.customers.set(crowdMsisdn(index), { otp: crowdOtp(index), balanceMinor: 1_000_000n })
  }
  const logger = new RecordingLogger()
  const gateway = new TerminalGateway({ registry: new TerminalRegistry(terminalEntries()), payee, logger })
  const server = new TerminalServer({ gateway, port: 0, logger, ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }) })
  const { port } = await server.start()
  const terminals: VirtualTerminal[] = []
  return {
    payee,
    logger,
    server,
    port,
    async terminal(terminalId) {
      const terminal = await VirtualTerminal.connect({ host: '127.0.0.1', port, terminalId, responseTimeoutMs: 5_000 })
      terminals.push(terminal)
      return terminal
    },
    async close() {
      await Promise.all(terminals.map((terminal) => terminal.close()))
      await server.stop()
    },
  }
}

export const crowdMsisdn = (index: number): string => `2547100${String(index).padStart(5, '0')}`
export const crowdOtp = (index: number): string => String(100_000 + index * 7)
