// SPDX-License-Identifier: Apache-2.0
/**
 * External oracles, as Mojaloop's account-lookup-service (ALS) knows them: an oracle is registered per party
 * id type (and optionally currency) through the admin API's /oracles, and answers Mojaloop's oracle API, a
 * synchronous REST API (reference §2.1):
 *
 *   GET    {endpoint}/participants/{Type}/{ID}[?currency=&partySubIdOrType=]  → 200 {partyList:[{fspId, currency?}]}
 *   POST   {endpoint}/participants/{Type}/{ID}  {fspId, currency?, partySubIdOrType?} → 201
 *   DELETE {endpoint}/participants/{Type}/{ID}[?currency=]  {partySubIdOrType?}      → 204
 *   POST   {endpoint}/participants  {requestId, partyList:[…], currency?}            → 201
 *
 * This file holds what is pure: which oracle answers for a party, the oracle API's URLs, and what an
 * oracle's answer means in FSPIOP error codes. The HTTP exchange is a port (OracleExchange).
 */
import type { ErrorCode } from '../../core/error-catalog.ts'

/** Party id types an oracle can be registered for: FSPIOP's, plus the ALS admin API's third-party ones. */
export const ORACLE_ID_TYPES = ['MSISDN', 'EMAIL', 'PERSONAL_ID', 'BUSINESS', 'DEVICE', 'ACCOUNT_ID', 'IBAN', 'ALIAS', 'CONSENT', 'THIRD_PARTY_LINK'] as const
export type OracleIdType = (typeof ORACLE_ID_TYPES)[number]

export interface OracleRecord {
  readonly oracleId: number
  readonly oracleIdType: OracleIdType
  /** ALS knows one endpoint type, a base URL. */
  readonly endpointType: 'URL'
  /** The oracle's base URL; the oracle API's paths are appended to it. */
  readonly endpoint: string
  readonly currency: string | null
  readonly isDefault: boolean
  readonly createdAtMs: number
}

/**
 * The oracle that answers for a party id type and currency, or undefined when none is registered for the
 * type (the built-in table answers then). Once any oracle is registered for a type, that type's look-ups
 * always go to one of them, so registrations and look-ups never split between the built-in table and an
 * oracle. Preference: the currency's own oracle (the default first), then the type's default oracle (one
 * without a currency first), then one without a currency, then the lowest id. GET /parties carries no
 * currency, so it gets the default.
 */
export function chooseOracle(oracles: readonly OracleRecord[], partyIdType: string, currency: string | undefined): OracleRecord | undefined {
  const ofType = oracles.filter((o) => o.oracleIdType === partyIdType).toSorted((a, b) => a.oracleId - b.oracleId)
  if (currency !== undefined) {
    const forCurrency = ofType.filter((o) => o.currency === currency)
    if (forCurrency.length > 0) return forCurrency.find((o) => o.isDefault) ?? forCurrency[0]
  }
  const defaults = ofType.filter((o) => o.isDefault)
  if (defaults.length > 0) return defaults.find((o) => o.currency === null) ?? defaults[0]
  return ofType.find((o) => o.currency === null) ?? ofType[0]
}

/** One HTTP exchange with an oracle: its status and body text, or why there was none. */
export type OracleReply = { readonly status: number; readonly body: string } | { readonly error: 'timeout' | 'network' | 'oversized'; readonly detail: string }

export type OracleExchange = (request: {
  readonly method: 'GET' | 'POST' | 'DELETE'
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | null
}) => Promise<OracleReply>

export interface OraclePartyKey {
  readonly partyIdType: string
  readonly partyIdentifier: string
  readonly partySubIdOrType?: string | undefined
}

/** `{endpoint}/participants/{Type}/{ID}` with the query ALS adds (currency, partySubIdOrType) where given. */
export function oracleParticipantUrl(endpoint: string, party: OraclePartyKey, query: { currency?: string | undefined; partySubIdOrType?: string | undefined } = {}): string {
  const url = new URL(`${endpoint.replace(/\/+$/, '')}/participants/${encodeURIComponent(party.partyIdType)}/${encodeURIComponent(party.partyIdentifier)}`)
  if (query.currency !== undefined) url.searchParams.set('currency', query.currency)
  if (query.partySubIdOrType !== undefined) url.searchParams.set('partySubIdOrType', query.partySubIdOrType)
  return url.toString()
}

export function oracleBatchUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/participants`
}

/** What went wrong asking an oracle, as the FSPIOP error the requester gets. */
export interface OracleFailure {
  readonly code: ErrorCode
  readonly description: string
}

/**
 * An oracle's failure in FSPIOP terms, as Mojaloop's ALS answers it (models/oracle/facade.js), so that
 * DFSPs built against Mojaloop see the codes they expect:
 * - no answer (refused, reset, timed out, too large), a 5xx or any other status: 1001, the destination (here the
 *   oracle) could not be communicated with — what ALS's HTTP client raises for every failed request, and
 *   the reference's "peer unreachable / 5xx from peer" (§6);
 * - 400: 3204 party not found — ALS turns an oracle's 400 into PARTY_NOT_FOUND;
 * - 404: 3201 destination FSP error — ALS's mapping for oracles that answer an unknown party with 404
 *   (als-oracle-pathfinder), where no FSP can be named for the party.
 */
export function oracleFailure(reply: OracleReply): OracleFailure {
  if ('error' in reply) {
    const why = reply.error === 'timeout' ? `did not answer within ${reply.detail}` : reply.error === 'oversized' ? `answered with ${reply.detail}` : `could not be reached (${reply.detail})`
    return { code: 'DESTINATION_COMMUNICATION', description: `the oracle ${why}` }
  }
  if (reply.status === 400) return { code: 'PARTY_NOT_FOUND', description: 'Party not found' }
  if (reply.status === 404) return { code: 'DESTINATION_FSP_ERROR', description: 'the oracle knows no FSP for the party' }
  return { code: 'DESTINATION_COMMUNICATION', description: `the oracle answered HTTP ${reply.status}` }
}

export interface OracleParty {
  readonly fspId: string
  readonly currency?: string
  readonly partySubIdOrType?: string
}

/**
 * The parties a look-up's answer names. A 2xx without a usable partyList (none, empty, not JSON) means
 * the oracle knows no FSP for the party: 3204, as ALS answers it.
 */
export function lookupAnswer(reply: OracleReply): { ok: true; parties: OracleParty[] } | { ok: false; failure: OracleFailure } {
  if ('error' in reply || reply.status < 200 || reply.status > 299) return { ok: false, failure: oracleFailure(reply) }
  const parties: OracleParty[] = []
  for (const entry of partyListOf(reply.body)) {
    if (typeof entry.fspId !== 'string' || entry.fspId === '') continue
    parties.push({
      fspId: entry.fspId,
      ...(typeof entry.currency === 'string' ? { currency: entry.currency } : {}),
      ...(typeof entry.partySubIdOrType === 'string' ? { partySubIdOrType: entry.partySubIdOrType } : {}),
    })
  }
  if (parties.length === 0) return { ok: false, failure: { code: 'PARTY_NOT_FOUND', description: 'Party not found' } }
  return { ok: true, parties }
}

/** A registration or removal: any 2xx is done. */
export function writeAnswer(reply: OracleReply): { ok: true } | { ok: false; failure: OracleFailure } {
  if ('error' in reply || reply.status < 200 || reply.status > 299) return { ok: false, failure: oracleFailure(reply) }
  return { ok: true }
}

/** The `partyList` of an oracle's JSON answer, entries as loose records; empty when there is none. */
export function partyListOf(body: string): Record<string, unknown>[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return []
  }
  const list = (parsed as { partyList?: unknown } | null)?.partyList
  return Array.isArray(list) ? list.filter((entry): entry is Record<string, unknown> => typeof entry === 'object' && entry !== null) : []
}
