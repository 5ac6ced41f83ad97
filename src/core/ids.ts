// SPDX-License-Identifier: Apache-2.0
import { randomUUID } from 'node:crypto'

/** FSPIOP CorrelationId: a lowercase RFC 4122 UUID, versions 1 to 5 (api-snippets' exact pattern). */
const CORRELATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

export function newCorrelationId(): string {
  return randomUUID()
}

export function isCorrelationId(value: string): boolean {
  return CORRELATION_ID.test(value)
}

/**
 * Ledger ids: 1 to 64 characters of letters, digits and `._:-`. UUIDs and readable ids such as
 * `payerfsp:USD:POSITION` both fit; `~` stays reserved for ids the ledger derives itself.
 */
const LEDGER_ID = /^[A-Za-z0-9._:-]{1,64}$/

export function isLedgerId(value: string): boolean {
  return LEDGER_ID.test(value)
}
