// SPDX-License-Identifier: Apache-2.0
/** What the DFSP's roles share: their dependencies, the inbound request's context, and small helpers. */
import { createHash } from 'node:crypto'
import type { Clock } from '../core/clock.ts'
import { canonicalJson, type ErrorInformation, type FspiopVersion } from '../fspiop/index.ts'
import type { Ledger } from '../ledger/index.ts'
import type { DfspConfig } from './config.ts'
import type { CustomerBook } from './customers.ts'
import type { DfspLogger, DfspRepository } from './ports.ts'
import type { SwitchApi, Trace } from './switch-api.ts'
import type { Waiters } from './waiters.ts'

/** A callback the outbound API was waiting for: the success body, or the peer's error. */
export type CallbackAnswer = { readonly ok: true; readonly body: unknown } | { readonly ok: false; readonly errorInformation: ErrorInformation }

export interface DfspDeps {
  readonly config: DfspConfig
  readonly repo: DfspRepository
  readonly ledger: Ledger
  readonly switchApi: SwitchApi
  readonly customers: CustomerBook
  readonly clock: Clock
  readonly logger: DfspLogger
  readonly waiters: Waiters<CallbackAnswer>
}

/** Who sent an inbound request, and how to answer it. */
export interface Inbound {
  /** FSPIOP-Source: where the callback goes (its FSPIOP-Destination). */
  readonly source: string
  /** The version the callback is written in. */
  readonly version: FspiopVersion
  readonly trace: Trace
}

/**
 * The duplicate-detection hash of a request (reference §1.7): SHA-256 over its canonical JSON (keys
 * sorted), so a resend whose keys came in another order is still recognised as the same request.
 */
export function requestHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body), 'utf8').digest('base64url')
}

export function isoOf(ms: number): string {
  return new Date(ms).toISOString()
}

export const waitKeys = {
  party: (type: string, id: string, subId?: string): string => `party:${type}/${id}${subId === undefined ? '' : `/${subId}`}`,
  quote: (quoteId: string): string => `quote:${quoteId}`,
  transfer: (transferId: string): string => `transfer:${transferId}`,
  participant: (type: string, id: string, subId?: string): string => `participant:${type}/${id}${subId === undefined ? '' : `/${subId}`}`,
}
