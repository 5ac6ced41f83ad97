// SPDX-License-Identifier: Apache-2.0
/**
 * A whole scheme with terminals, for end-to-end tests over real TCP and HTTP: the scheme of scheme.ts
 * (switch + "bank" + "wallet", each on its own store) plus the bank's ISO 8583 gateway on a loopback port,
 * built as `kivuko dfsp --gateway-port` builds it (TerminalServer → TerminalGateway → dfspPayee → the
 * bank's in-process Dfsp). Virtual terminals connect to it like ATMs and POS do.
 *
 * Two handles let a test play faults without touching src/: the wallet's clock can be moved forward (an
 * offset on real time), and the wallet's messages to the switch can be held back (a payer DFSP that never
 * answers) by a predicate on the request.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Clock } from '../../src/core/clock.ts'
import type { DfspConfigInput, FspiopTransport, OutgoingRequest } from '../../src/dfsp/index.ts'
import { TerminalGateway, TerminalRegistry, TerminalServer, VirtualTerminal, type TerminalEntry, type TerminalLogger } from '../../src/channels/terminal/index.ts'
import { dfspPayee } from '../../src/http/terminal/dfsp-payee.ts'
import { startScheme, type DemoDfspId, type Scheme } from './scheme.ts'
import type { StoreKind } from './stores.ts'

/** Real time plus an offset the test moves: only what reads this clock sees the jump. */
export class OffsetClock implements Clock {
  offsetMs = 0
  nowMs(): number {
    return Date.now() + this.offsetMs
  }
}

export interface TerminalSchemeOptions {
  readonly bank: Partial<DfspConfigInput>
  readonly wallet: Partial<DfspConfigInput>
  readonly terminals: readonly TerminalEntry[]
  /** The gateway's and the server's logger; default silent. */
  readonly gatewayLogger?: TerminalLogger
  /** Both DFSPs' logger; default silent. */
  readonly dfspLogger?: FastifyBaseLogger
}

export interface TerminalScheme extends Scheme {
  readonly gateway: { readonly host: string; readonly port: number }
  readonly walletClock: OffsetClock
  /** While it answers true for a request, the wallet's transport drops it and says the switch took it (202). */
  holdWallet(predicate: ((request: OutgoingRequest) => boolean) | undefined): void
  /** A virtual terminal connected to the gateway; closed with the scheme. */
  terminal(terminalId: string, responseTimeoutMs?: number): Promise<VirtualTerminal>
  /** A customer's available balance at a DFSP, in minor units, read through its customer API. */
  available(dfsp: DemoDfspId, msisdn: string): Promise<bigint>
  /** The SMS the DFSP sent to a phone number, newest first, through its customer API. */
  sms(dfsp: DemoDfspId, msisdn: string): Promise<string[]>
  /** The code of the newest SMS holding one, as the customer reads it on their phone. */
  latestCode(msisdn: string): Promise<string>
  /** A participant's net position at the switch in minor units (admin API). */
  positionMinor(fsp: DemoDfspId): Promise<bigint>
}

/** A decimal string with at most two decimals ('197.5', '-101', '0.25') → minor units. */
export function toMinor(text: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(text)
  if (match === null) throw new Error(`not a decimal amount: ${text}`)
  const minor = BigInt(match[2] as string) * 100n + BigInt((match[3] ?? '').padEnd(2, '0'))
  return match[1] === '-' ? -minor : minor
}

export const OTP_IN_SMS = /code is ([0-9]+)\./

export async function startTerminalScheme(kind: StoreKind, options: TerminalSchemeOptions): Promise<TerminalScheme> {
  const walletClock = new OffsetClock()
  let hold: ((request: OutgoingRequest) => boolean) | undefined
  const holding =
    (toSwitch: FspiopTransport): FspiopTransport =>
    async (request, timeoutMs) =>
      hold?.(request) === true ? { status: 202, body: undefined } : toSwitch(request, timeoutMs)
  const logger = options.dfspLogger === undefined ? {} : { logger: options.dfspLogger }
  const scheme = await startScheme(kind, { bank: options.bank, wallet: options.wallet }, { dfsps: { bank: logger, wallet: { clock: walletClock, wrapTransport: holding, ...logger } } })
  const bank = scheme.dfsps.get('bank')
  if (bank === undefined) throw new Error('no bank')
  const gatewayLogger = options.gatewayLogger
  const registry = new TerminalRegistry(options.terminals)
  const server = new TerminalServer({
    gateway: new TerminalGateway({ registry, payee: dfspPayee(bank.dfsp, 'USD'), ...(gatewayLogger === undefined ? {} : { logger: gatewayLogger }) }),
    port: 0,
    ...(gatewayLogger === undefined ? {} : { logger: gatewayLogger }),
  })
  let gateway: { host: string; port: number }
  try {
    gateway = await server.start()
  } catch (error) {
    await scheme.close()
    throw error
  }
  const terminals: VirtualTerminal[] = []
  const sms = async (dfsp: DemoDfspId, msisdn: string): Promise<string[]> => {
    const { status, body } = await scheme.api(dfsp, 'GET', `/customers/${msisdn}/notifications`)
    if (status !== 200) throw new Error(`notifications of ${msisdn}: HTTP ${status}`)
    return (body.notifications as { body: string }[]).map((n) => n.body)
  }
  return {
    ...scheme,
    gateway,
    walletClock,
    holdWallet(predicate) {
      hold = predicate
    },
    async terminal(terminalId, responseTimeoutMs = 20_000) {
      const terminal = await VirtualTerminal.connect({ host: gateway.host, port: gateway.port, terminalId, responseTimeoutMs })
      terminals.push(terminal)
      return terminal
    },
    async available(dfsp, msisdn) {
      const { status, body } = await scheme.api(dfsp, 'GET', `/customers/${msisdn}/balance`)
      if (status !== 200) throw new Error(`balance of ${msisdn}: HTTP ${status}`)
      return toMinor(body.available as string)
    },
    sms,
    async latestCode(msisdn) {
      for (const text of await sms('wallet', msisdn)) {
        const match = OTP_IN_SMS.exec(text)
        if (match !== null) return match[1] as string
      }
      throw new Error(`no OTP SMS for ${msisdn}`)
    },
    async positionMinor(fsp) {
      return toMinor(await scheme.position(fsp))
    },
    async close() {
      await Promise.all(terminals.map((terminal) => terminal.close()))
      await server.stop()
      await scheme.close()
    },
  }
}
