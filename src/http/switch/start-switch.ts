// SPDX-License-Identifier: Apache-2.0
/**
 * Composition of one switch process: store, ledger with group commit, outbox workers, the switch, its
 * expiry sweepers, and the FSPIOP and admin HTTP apps. Returns its URLs and a close() that stops taking
 * work and drains what is in flight.
 */
import type { KeyObject } from 'node:crypto'
import { systemClock, type Clock } from '../../core/clock.ts'
import { BatchingLedger, LEDGER_WRITER_THREAD_DEFAULT } from '../../store/ledger/batching-ledger.ts'
import { migrate } from '../../store/migrate.ts'
import type { Store } from '../../store/open-store.ts'
import { createFetchOracleExchange } from '../../switch/oracle/http-exchange.ts'
import { Outbox, createFetchSender, type RetryPolicy } from '../../switch/outbox/index.ts'
import { SettlementService } from '../../switch/settlement/index.ts'
import { Switch } from '../../switch/switch.ts'
import { buildAdminApp } from './admin-app.ts'
import { buildFspiopApp } from './fspiop-app.ts'
import { createSwitchMetrics } from './metrics.ts'
import { settlementRoutes } from './settlement-routes.ts'

export interface SwitchProcessOptions {
  readonly store: Store
  readonly host?: string
  /** FSPIOP API port (0: any free port). */
  readonly fspiopPort: number
  /** Admin API port (0: any free port); listens on adminHost. */
  readonly adminPort: number
  readonly adminHost?: string
  readonly adminToken?: string
  readonly auth?: 'token' | 'none'
  readonly clock?: Clock
  readonly batchEventsMax?: number
  /** The ledger's writer thread (BatchingLedgerOptions.writerThread); default false: see LEDGER_WRITER_THREAD_DEFAULT. */
  readonly ledgerWriterThread?: boolean
  readonly expirySweepMs?: number
  readonly logger?: boolean | object
  /** The hub's JWS signing key for the messages the switch writes itself (errors, PATCH, expiry notices). */
  readonly signingKey?: KeyObject
  readonly outbox?: { attemptTimeoutMs?: number; pollIntervalMs?: number; leaseMs?: number; retryPolicy?: RetryPolicy; retentionMs?: number; purgeIntervalMs?: number }
  /** How long an external oracle has to answer before the requester is told 1001 (default 5 s). */
  readonly oracleTimeoutMs?: number
}

export interface SwitchProcess {
  readonly hub: Switch
  readonly settlement: SettlementService
  readonly fspiopUrl: string
  readonly adminUrl: string
  readonly ledger: BatchingLedger
  close(): Promise<void>
}

export async function startSwitch(options: SwitchProcessOptions): Promise<SwitchProcess> {
  const clock = options.clock ?? systemClock
  await migrate(options.store)
  let hub: Switch | undefined
  const metrics = createSwitchMetrics(() => hub)
  const ledger = new BatchingLedger(options.store, {
    clock,
    writerThread: options.ledgerWriterThread ?? LEDGER_WRITER_THREAD_DEFAULT,
    onBatch: (events, durationMs) => metrics.ledgerBatch(events, durationMs),
    ...(options.batchEventsMax === undefined ? {} : { batchEventsMax: options.batchEventsMax }),
  })
  const outbox = new Outbox({
    store: options.store,
    send: createFetchSender({ timeoutMs: options.outbox?.attemptTimeoutMs ?? 10_000 }),
    attemptTimeoutMs: options.outbox?.attemptTimeoutMs ?? 10_000,
    onUnreachable: async (message, tx) => {
      // Throwing rolls the notice back, so it is retried rather than marked given without a 1001.
      if (hub === undefined) throw new Error('the switch is not running yet')
      await hub.destinationUnreachable(tx, message)
    },
    clock,
    metrics: metrics.outbox,
    // On SQLite this process is the file's only writer, so its cut-off claims can be taken back at once.
    reclaimOnStart: !options.store.sharedWriters,
    ...(options.outbox?.leaseMs === undefined ? {} : { leaseMs: options.outbox.leaseMs }),
    ...(options.outbox?.retryPolicy === undefined ? {} : { retryPolicy: options.outbox.retryPolicy }),
    ...(options.outbox?.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.outbox.pollIntervalMs }),
  })
  const settlement = new SettlementService({ store: options.store, ledger, clock })
  // An OPEN window exists from the start, so the operator sees one before the first commit.
  await settlement.currentWindow()
  hub = new Switch({
    store: options.store,
    ledger,
    queue: outbox,
    clock,
    settlement,
    oracleExchange: createFetchOracleExchange({ timeoutMs: options.oracleTimeoutMs ?? 5_000 }),
    ...(options.signingKey === undefined ? {} : { signingKey: options.signingKey }),
  })
  const switchHub = hub
  const fspiop = buildFspiopApp({ hub: switchHub, auth: options.auth ?? 'token', logger: options.logger ?? false, onResponse: metrics.request })
  const admin = await buildAdminApp({
    hub: switchHub,
    logger: options.logger ?? false,
    ...(options.adminToken === undefined ? {} : { adminToken: options.adminToken }),
    register: async (app) => {
      app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.text()))
      await app.register(settlementRoutes, { service: settlement })
    },
  })
  const host = options.host ?? '127.0.0.1'
  const fspiopUrl = await fspiop.listen({ host, port: options.fspiopPort })
  const adminUrl = await admin.listen({ host: options.adminHost ?? '127.0.0.1', port: options.adminPort })
  outbox.start()

  // The sweepers run at their own pace; one sweep at a time each, never overlapping itself.
  let closing = false
  const sweep = async (): Promise<void> => {
    try {
      await switchHub.expireDue()
      await ledger.expireDue()
    } catch (error) {
      fspiop.log.error({ err: error }, 'expiry sweep failed')
    }
    if (!closing) timer = setTimeout(() => void sweep(), options.expirySweepMs ?? 250)
  }
  let timer: NodeJS.Timeout = setTimeout(() => void sweep(), options.expirySweepMs ?? 250)

  // Finished callbacks are kept for the retention period (their bodies may name parties), then purged in
  // bounded rounds so a large backlog never holds the database for long.
  const retentionMs = options.outbox?.retentionMs ?? 24 * 3_600_000
  const purge = async (): Promise<void> => {
    try {
      while (!closing && (await outbox.purgeFinished(clock.nowMs() - retentionMs, 1_000)) === 1_000) {
        // A full round: there is more to purge.
      }
    } catch (error) {
      fspiop.log.error({ err: error }, 'outbox purge failed')
    }
    if (!closing) purgeTimer = setTimeout(() => void purge(), options.outbox?.purgeIntervalMs ?? 60_000)
  }
  let purgeTimer: NodeJS.Timeout = setTimeout(() => void purge(), options.outbox?.purgeIntervalMs ?? 60_000)

  return {
    hub: switchHub,
    settlement,
    fspiopUrl,
    adminUrl,
    ledger,
    async close() {
      closing = true
      clearTimeout(timer)
      clearTimeout(purgeTimer)
      await fspiop.close()
      await admin.close()
      // Requests already answered 202 may still wait on an oracle; their callbacks go into the outbox first.
      await switchHub.drain()
      await outbox.close()
      await ledger.close()
    },
  }
}
