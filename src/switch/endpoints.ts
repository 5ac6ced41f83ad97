// SPDX-License-Identifier: Apache-2.0
/**
 * Participant callback endpoints, in the types and Mustache-style templates of Mojaloop's central-ledger
 * admin API (reference §2.10), so that Mojaloop's provisioning scripts register endpoints unchanged.
 */
export const ENDPOINT_TYPES = [
  'FSPIOP_CALLBACK_URL_PARTIES_GET',
  'FSPIOP_CALLBACK_URL_PARTIES_PUT',
  'FSPIOP_CALLBACK_URL_PARTIES_PUT_ERROR',
  'FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_GET',
  'FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_PUT',
  'FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_PUT_ERROR',
  'FSPIOP_CALLBACK_URL_PARTICIPANT_PUT',
  'FSPIOP_CALLBACK_URL_PARTICIPANT_PUT_ERROR',
  'FSPIOP_CALLBACK_URL_PARTICIPANT_SUB_ID_PUT',
  'FSPIOP_CALLBACK_URL_PARTICIPANT_SUB_ID_PUT_ERROR',
  'FSPIOP_CALLBACK_URL_PARTICIPANT_BATCH_PUT',
  'FSPIOP_CALLBACK_URL_PARTICIPANT_BATCH_PUT_ERROR',
  'FSPIOP_CALLBACK_URL_QUOTES',
  'FSPIOP_CALLBACK_URL_TRANSFER_POST',
  'FSPIOP_CALLBACK_URL_TRANSFER_PUT',
  'FSPIOP_CALLBACK_URL_TRANSFER_ERROR',
  'FSPIOP_CALLBACK_URL_BULK_QUOTES',
  'FSPIOP_CALLBACK_URL_BULK_TRANSFER_POST',
  'FSPIOP_CALLBACK_URL_BULK_TRANSFER_PUT',
  'FSPIOP_CALLBACK_URL_BULK_TRANSFER_ERROR',
  'FSPIOP_CALLBACK_URL_TRX_REQ_SERVICE',
  'FSPIOP_CALLBACK_URL_AUTHORIZATIONS',
  'NET_DEBIT_CAP_THRESHOLD_BREACH_EMAIL',
  'NET_DEBIT_CAP_ADJUSTMENT_EMAIL',
  'SETTLEMENT_TRANSFER_POSITION_CHANGE_EMAIL',
] as const
export type EndpointType = (typeof ENDPOINT_TYPES)[number]

export function isEndpointType(value: string): value is EndpointType {
  return (ENDPOINT_TYPES as readonly string[]).includes(value)
}

/** Fills `{{name}}` placeholders with URL-encoded values; an unknown placeholder is left for the check below. */
export function renderEndpoint(template: string, values: Readonly<Record<string, string | undefined>>): string {
  return template.replace(/\{\{\s*([A-Za-z]+)\s*\}\}/g, (whole, name: string) => {
    const value = values[name]
    return value === undefined ? whole : encodeURIComponent(value)
  })
}

/** A rendered URL we may call: http(s) and no placeholder left unfilled. */
export function isCallableUrl(url: string): boolean {
  if (/\{\{/.test(url)) return false
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'http:' || parsed.protocol === 'https:'
  } catch {
    return false
  }
}

/**
 * Where a message goes, by what it is. Base-URL types (QUOTES, TRX_REQ_SERVICE, AUTHORIZATIONS) get the
 * resource path appended, as Mojaloop's switch does.
 */
export function messageUrl(
  endpoints: ReadonlyMap<string, string>,
  type: EndpointType,
  values: Readonly<Record<string, string | undefined>>,
  pathAfterBase?: string,
): string | undefined {
  const template = endpoints.get(type)
  if (template === undefined) return undefined
  const base = renderEndpoint(template, values)
  const url = pathAfterBase === undefined ? base : `${base.replace(/\/+$/, '')}${pathAfterBase}`
  return isCallableUrl(url) ? url : undefined
}

/** The endpoint registrations a Mojaloop DFSP makes when its FSPIOP API is served at `base`. */
export function standardEndpoints(base: string): { type: EndpointType; value: string }[] {
  return [
    ['FSPIOP_CALLBACK_URL_PARTIES_GET', `${base}/parties/{{partyIdType}}/{{partyIdentifier}}`],
    ['FSPIOP_CALLBACK_URL_PARTIES_PUT', `${base}/parties/{{partyIdType}}/{{partyIdentifier}}`],
    ['FSPIOP_CALLBACK_URL_PARTIES_PUT_ERROR', `${base}/parties/{{partyIdType}}/{{partyIdentifier}}/error`],
    ['FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_GET', `${base}/parties/{{partyIdType}}/{{partyIdentifier}}/{{partySubIdOrType}}`],
    ['FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_PUT', `${base}/parties/{{partyIdType}}/{{partyIdentifier}}/{{partySubIdOrType}}`],
    ['FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_PUT_ERROR', `${base}/parties/{{partyIdType}}/{{partyIdentifier}}/{{partySubIdOrType}}/error`],
    ['FSPIOP_CALLBACK_URL_PARTICIPANT_PUT', `${base}/participants/{{partyIdType}}/{{partyIdentifier}}`],
    ['FSPIOP_CALLBACK_URL_PARTICIPANT_PUT_ERROR', `${base}/participants/{{partyIdType}}/{{partyIdentifier}}/error`],
    ['FSPIOP_CALLBACK_URL_PARTICIPANT_BATCH_PUT', `${base}/participants/{{requestId}}`],
    ['FSPIOP_CALLBACK_URL_PARTICIPANT_BATCH_PUT_ERROR', `${base}/participants/{{requestId}}/error`],
    ['FSPIOP_CALLBACK_URL_QUOTES', base],
    ['FSPIOP_CALLBACK_URL_TRANSFER_POST', `${base}/transfers`],
    ['FSPIOP_CALLBACK_URL_TRANSFER_PUT', `${base}/transfers/{{transferId}}`],
    ['FSPIOP_CALLBACK_URL_TRANSFER_ERROR', `${base}/transfers/{{transferId}}/error`],
    ['FSPIOP_CALLBACK_URL_TRX_REQ_SERVICE', base],
    ['FSPIOP_CALLBACK_URL_AUTHORIZATIONS', base],
  ].map(([type, value]) => ({ type: type as EndpointType, value: value as string }))
}
