// SPDX-License-Identifier: Apache-2.0
/**
 * Shapes shared by the FSPIOP primitives. Body types are api-snippets' own v1.1 definitions, so a field
 * renamed in the specification fails compilation here rather than at a peer.
 */
import type { v1_1 } from '@mojaloop/api-snippets'
import type { HubError } from '../core/errors.ts'

/** Every v1.1 schema by its name in the specification (QuotesPostRequest, TransfersIDPutResponse, …). */
export type FspiopSchemas = v1_1.openapi.components['schemas']

export type ErrorInformation = FspiopSchemas['ErrorInformation']
export type ErrorInformationObject = FspiopSchemas['ErrorInformationObject']
export type Extension = FspiopSchemas['Extension']
export type ExtensionList = FspiopSchemas['ExtensionList']
export type Money = FspiopSchemas['Money']
export type Party = FspiopSchemas['Party']
export type TransactionType = FspiopSchemas['TransactionType']
export type Transaction = FspiopSchemas['Transaction']
export type QuotesPostRequest = FspiopSchemas['QuotesPostRequest']
export type QuotesIDPutResponse = FspiopSchemas['QuotesIDPutResponse']
export type TransfersPostRequest = FspiopSchemas['TransfersPostRequest']

/**
 * Either the checked value or the HubError to answer with. Validation of what a peer sent never
 * throws: bad input is an expected outcome (STYLE §2.3), and the caller decides whether it becomes a
 * synchronous 4xx or an error callback.
 */
export type FspiopResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: HubError }

/** The first path segment of every v1.1 service; it also names the media type (`…interoperability.{resource}+json`). */
export const FSPIOP_RESOURCES = [
  'participants',
  'parties',
  'quotes',
  'transactionRequests',
  'authorizations',
  'transfers',
  'transactions',
  'bulkQuotes',
  'bulkTransfers',
] as const
export type FspiopResource = (typeof FSPIOP_RESOURCES)[number]

export function isFspiopResource(value: string): value is FspiopResource {
  return (FSPIOP_RESOURCES as readonly string[]).includes(value)
}

/** The API versions Kivuko can speak, as `major.minor` the way Content-Type states them. */
export type FspiopVersion = '1.0' | '1.1' | '2.0'

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
