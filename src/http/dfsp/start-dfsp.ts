// SPDX-License-Identifier: Apache-2.0
/**
 * Composition of one DFSP process part: its tables and ledger on the given store, the DFSP, its FSPIOP
 * app (for the switch) and its API app (outbound + customers, for its own channels), the sweeper, and the
 * oracle registration of its customers. `kivuko start` runs the demo DFSPs ("bank", "wallet") with it,
 * next to the switch, possibly on the same store: every row and ledger id is scoped by the DFSP.
 *
 * Order: migrate → open accounts and seed customers → listen → `beforeRegistration(urls)` (where the caller
 * tells the switch this DFSP's callback URL) → register party ids with the oracle (when automatic) → sweep.
 */
import type { KeyObject } from 'node:crypto'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import pino from 'pino'
import { systemClock, type Clock } from '../../core/clock.ts'
import { Dfsp, NotificationOutbox, OtpService, keepingSmsSender, resolveDfspConfig, type SmsSender, type Customer, type DfspConfigInput, type FspiopTransport, type RegistrationResult } from '../../dfsp/index.ts'
import type { Ledger } from '../../ledger/index.ts'
import { SqlDfspRepository } from '../../store/dfsp/dfsp-repo.ts'
import { SqlOtpRepository } from '../../store/dfsp/otp-repo.ts'
import { BatchingLedger, LEDGER_WRITER_THREAD_DEFAULT } from '../../store/ledger/batching-ledger.ts'
import { migrate } from '../../store/migrate.ts'
import type { Store } from '../../store/open-store.ts'
import { buildDfspApiApp } from './api-app.ts'
import { createFetchTransport } from './fetch-transport.ts'
import { buildDfspFspiopApp } from './fspiop-app.ts'

export interface DfspUrls {
  /** The FSPIOP API: what the switch calls back (register it as this participant's endpoint). */
  readonly fspiop: string
  /** The outbound and customer API. */
  readonly api: string
}

export interface StartDfspOptions {
  /** A ledger to share (its close is then the caller's); by default one of its own on `store`. */
  readonly ledger?: Ledger
  /** Its own ledger's writer thread (BatchingLedgerOptions.writerThread); default false: see LEDGER_WRITER_THREAD_DEFAULT. */
  readonly ledgerWriterThread?: boolean
  readonly clock?: Clock
  /** Default: pino at info, named after the DFSP. */
  readonly logger?: FastifyBaseLogger
  /** Default: fetch to config.switchUrl. */
  readonly transport?: FspiopTransport
  /** Where the DFSP's SMS go (OTPs, payment notices to payers and merchants); default: kept in the outbox, readable through the API. */
  readonly smsSender?: SmsSender
  /** Called once the apps listen, before oracle registration: e.g. to set this DFSP's endpoints at the switch. */
  readonly beforeRegistration?: (urls: DfspUrls) => Promise<void> | void
  /** This DFSP's JWS private key: it then signs what it sends with a body (the switch verifies it once its public key is registered). */
  readonly signingKey?: KeyObject
  /** Peers' JWS public keys by FspId: with it, inbound requests with a body must be signed by their source (3105 otherwise). */
  readonly verificationKeyOf?: (fspId: string) => Promise<KeyObject | undefined>
}

export interface DfspHandle {
  readonly dfsp: Dfsp
  readonly urls: DfspUrls
  /** The configured customers, created or found. */
  readonly customers: readonly Customer[]
  /** The oracle registration made on start; undefined when registration is manual. */
  readonly registration: readonly RegistrationResult[] | undefined
  close(): Promise<void>
}

export async function startDfsp(input: DfspConfigInput, store: Store, options: StartDfspOptions = {}): Promise<DfspHandle> {
  const config = resolveDfspConfig(input)
  const logger = options.logger ?? pino({ name: `dfsp:${config.dfspId}`, level: 'info' })
  await migrate(store)
  const ownLedger = options.ledger === undefined ? new BatchingLedger(store, { writerThread: options.ledgerWriterThread ?? LEDGER_WRITER_THREAD_DEFAULT, ...(options.clock === undefined ? {} : { clock: options.clock }) }) : undefined
  const ledger = options.ledger ?? (ownLedger as BatchingLedger)
  const clock = options.clock ?? systemClock
  // One SMS outbox per DFSP: the payer side's OTPs and payment notices, the payee side's notices to merchants.
  const otpRepo = new SqlOtpRepository(store, config.dfspId)
  const outbox = new NotificationOutbox(otpRepo, options.smsSender ?? keepingSmsSender, clock, logger)
  const otp = config.otp === undefined ? undefined : new OtpService({ dfspId: config.dfspId, config: config.otp, repo: otpRepo, outbox, clock, logger })
  const dfsp = new Dfsp({
    ...(otp === undefined ? {} : { otp }),
    notifications: outbox,
    config,
    repo: new SqlDfspRepository(store, config.dfspId),
    ledger,
    transport: options.transport ?? createFetchTransport(config.switchUrl),
    logger,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.signingKey === undefined ? {} : { signingKey: options.signingKey }),
  })
  const apps: FastifyInstance[] = []
  const close = async (): Promise<void> => {
    // Outbound calls waiting for callbacks answer 504 at once, so closing the apps does not wait for them.
    dfsp.cancelWaits()
    for (const app of apps) await app.close()
    await dfsp.close()
    await ownLedger?.close()
  }
  try {
    const customers = await dfsp.start()
    const fspiopApp = buildDfspFspiopApp({
      dfsp,
      loggerInstance: logger,
      ...(config.inboundToken === undefined ? {} : { inboundToken: config.inboundToken }),
      ...(options.verificationKeyOf === undefined ? {} : { verificationKeyOf: options.verificationKeyOf }),
    })
    apps.push(fspiopApp)
    const apiApp = await buildDfspApiApp({ dfsp, loggerInstance: logger })
    apps.push(apiApp)
    const urls: DfspUrls = {
      fspiop: await fspiopApp.listen({ host: config.listen.host, port: config.listen.fspiopPort }),
      api: await apiApp.listen({ host: config.listen.host, port: config.listen.apiPort }),
    }
    await options.beforeRegistration?.(urls)
    const registration = config.oracleRegistration === 'auto' ? await dfsp.registerParties(customers) : undefined
    dfsp.startSweeper()
    logger.info({ dfspId: config.dfspId, urls, customers: customers.length }, 'DFSP started')
    return { dfsp, urls, customers, registration, close }
  } catch (error) {
    await close()
    throw error
  }
}
