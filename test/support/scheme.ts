// SPDX-License-Identifier: Apache-2.0
/**
 * A whole scheme for end-to-end tests, in process but over real HTTP on loopback: the switch and the DFSPs
 * "bank" and "wallet", each on its own fresh store, provisioned through the admin API as an operator would.
 */
import { randomBytes } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { pino } from 'pino'
import { adminCall, provisionParticipant } from '../../src/cli/provision.ts'
import type { Clock } from '../../src/core/clock.ts'
import type { DfspConfigInput, FspiopTransport } from '../../src/dfsp/index.ts'
import { createFetchTransport, startDfsp, type DfspHandle } from '../../src/http/dfsp/index.ts'
import { startSwitch, type SwitchProcess } from '../../src/http/switch/start-switch.ts'
import { freePort } from './ports.ts'
import type { StoreKind, TestStore } from './stores.ts'

export type DemoDfspId = 'bank' | 'wallet'

export interface Scheme {
  readonly hub: SwitchProcess
  readonly dfsps: ReadonlyMap<DemoDfspId, DfspHandle>
  /** Every store of the scheme, the switch's first: for ledger checks. */
  readonly stores: readonly TestStore[]
  /** A call to a DFSP's outbound/customer API. */
  api(dfsp: DemoDfspId, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>
  /** A participant's net position at the switch, as the admin API shows it. */
  position(fsp: DemoDfspId): Promise<string>
  close(): Promise<void>
}

/** What a test may change in how one DFSP runs, beyond its configuration. */
export interface SchemeDfspOptions {
  readonly clock?: Clock
  /** Wraps the DFSP's transport to the switch: e.g. to hold back messages and play a DFSP that never answers. */
  readonly wrapTransport?: (toSwitch: FspiopTransport) => FspiopTransport
  /** Default: silent. */
  readonly logger?: FastifyBaseLogger
}

export interface SchemeOptions {
  readonly dfsps?: Partial<Record<DemoDfspId, SchemeDfspOptions>>
}

export async function startScheme(kind: StoreKind, configs: Record<DemoDfspId, Partial<DfspConfigInput>>, options: SchemeOptions = {}): Promise<Scheme> {
  const stores: TestStore[] = []
  const dfsps = new Map<DemoDfspId, DfspHandle>()
  const switchStore = await kind.open()
  stores.push(switchStore)
  const hub = await startSwitch({ store: switchStore.store, fspiopPort: 0, adminPort: 0, expirySweepMs: 100, outbox: { pollIntervalMs: 50 } })
  for (const id of ['bank', 'wallet'] as const) {
    const opened = await kind.open()
    stores.push(opened)
    const fspiopPort = await freePort()
    const token = await provisionParticipant(hub.adminUrl, { name: id, currency: 'USD', fspiopUrl: `http://127.0.0.1:${fspiopPort}`, netDebitCap: '5000', liquidity: '10000' })
    const own = options.dfsps?.[id] ?? {}
    const handle = await startDfsp(
      { dfspId: id, currency: 'USD', switchUrl: hub.fspiopUrl, switchToken: token, ilpSecret: randomBytes(24).toString('base64url'), listen: { fspiopPort }, ...configs[id] },
      opened.store,
      {
        logger: own.logger ?? pino({ level: 'silent' }),
        ...(own.clock === undefined ? {} : { clock: own.clock }),
        ...(own.wrapTransport === undefined ? {} : { transport: own.wrapTransport(createFetchTransport(hub.fspiopUrl)) }),
      },
    )
    dfsps.set(id, handle)
  }
  return {
    hub,
    dfsps,
    stores,
    async api(dfsp, method, path, body) {
      const response = await fetch(`${dfsps.get(dfsp)?.urls.api}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const text = await response.text()
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) }
    },
    async position(fsp) {
      return (await adminCall(hub.adminUrl, 'GET', `/participants/${fsp}/positions`)).body[0].value
    },
    async close() {
      for (const handle of dfsps.values()) await handle.close()
      await hub.close()
      for (const opened of stores) await opened.close()
    },
  }
}
