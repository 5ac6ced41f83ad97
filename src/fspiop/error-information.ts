// SPDX-License-Identifier: Apache-2.0
/**
 * FSPIOP `errorInformation` bodies, both ways. Outgoing bodies are built from a HubError through the
 * catalogue; incoming ones are checked against the schema and their code classified (reference §6):
 *
 * - a code the specification defines is acted on as it is;
 * - `xx40`–`xx99` are scheme-specific: a receiver that does not know one treats it as its category's `xx00`;
 * - anything else (an unused `xx00`–`xx39` slot, or a category that does not exist) is not an FSPIOP
 *   code at all, and Mojaloop's switch answers it as 3100 "API specification undefined errorCode" (§4.4).
 */
import { ERROR_CATALOG, ERROR_CODES, type ErrorCode } from '../core/error-catalog.ts'
import { HubError, NotFoundError, RejectedError, ValidationError } from '../core/errors.ts'
import { validateFspiopSchema } from './schemas.ts'
import type { ErrorInformation, ErrorInformationObject, ExtensionList, FspiopResult } from './types.ts'

/**
 * The error codes FSPIOP v1.1 defines (API Definition §7.6), with the specification's names, plus 5107,
 * which Mojaloop's SDK added and its switches emit.
 */
export const FSPIOP_ERROR_NAMES: Readonly<Record<string, string>> = {
  '1000': 'Communication error',
  '1001': 'Destination communication error',
  '2000': 'Generic server error',
  '2001': 'Internal server error',
  '2002': 'Not implemented',
  '2003': 'Service currently unavailable',
  '2004': 'Server timed out',
  '2005': 'Server busy',
  '3000': 'Generic client error',
  '3001': 'Unacceptable version requested',
  '3002': 'Unknown URI',
  '3003': 'Add Party information error',
  '3100': 'Generic validation error',
  '3101': 'Malformed syntax',
  '3102': 'Missing mandatory element',
  '3103': 'Too many elements',
  '3104': 'Too large payload',
  '3105': 'Invalid signature',
  '3106': 'Modified request',
  '3107': 'Missing mandatory extension parameter',
  '3200': 'Generic ID not found',
  '3201': 'Destination FSP Error',
  '3202': 'Payer FSP ID not found',
  '3203': 'Payee FSP ID not found',
  '3204': 'Party not found',
  '3205': 'Quote ID not found',
  '3206': 'Transaction request ID not found',
  '3207': 'Transaction ID not found',
  '3208': 'Transfer ID not found',
  '3209': 'Bulk quote ID not found',
  '3210': 'Bulk transfer ID not found',
  '3300': 'Generic expired error',
  '3301': 'Transaction request expired',
  '3302': 'Quote expired',
  '3303': 'Transfer expired',
  '4000': 'Generic Payer error',
  '4001': 'Payer FSP insufficient liquidity',
  '4100': 'Generic Payer rejection',
  '4101': 'Payer rejected transaction request',
  '4102': 'Payer FSP unsupported transaction type',
  '4103': 'Payer unsupported currency',
  '4200': 'Payer limit error',
  '4300': 'Payer permission error',
  '4400': 'Generic Payer blocked error',
  '5000': 'Generic Payee error',
  '5001': 'Payee FSP insufficient liquidity',
  '5100': 'Generic Payee rejection',
  '5101': 'Payee rejected quote',
  '5102': 'Payee FSP unsupported transaction type',
  '5103': 'Payee FSP rejected quote',
  '5104': 'Payee rejected transaction',
  '5105': 'Payee FSP rejected transaction',
  '5106': 'Payee unsupported currency',
  '5107': 'Payee identifier no-longer valid',
  '5200': 'Payee limit error',
  '5300': 'Payee permission error',
  '5400': 'Generic Payee blocked error',
}

/** The low categories (first two digits) FSPIOP defines; each one's `xx00` is its generic code. */
const CATEGORIES = new Set(['10', '20', '30', '31', '32', '33', '40', '41', '42', '43', '44', '50', '51', '52', '53', '54'])

/** The longest errorDescription the schema allows, in characters (code points, as JSON Schema counts). */
export const ERROR_DESCRIPTION_MAX = 128

export type FspiopErrorCodeKind = 'defined' | 'scheme-specific' | 'undefined'

export interface ClassifiedErrorCode {
  readonly kind: FspiopErrorCodeKind
  /** The code to act on: the code itself, its category's xx00, or 3100. */
  readonly effectiveCode: string
}

export function classifyFspiopErrorCode(code: string): ClassifiedErrorCode {
  // Own keys only: a peer's "toString" must not find Object.prototype's.
  if (Object.hasOwn(FSPIOP_ERROR_NAMES, code)) return { kind: 'defined', effectiveCode: code }
  const category = code.slice(0, 2)
  const specific = Number(code.slice(2))
  if (/^\d{4}$/.test(code) && CATEGORIES.has(category) && specific >= 40) {
    return { kind: 'scheme-specific', effectiveCode: `${category}00` }
  }
  return { kind: 'undefined', effectiveCode: '3100' }
}

/** Our catalogue code for an FSPIOP code; where two entries share one (3100, 3200) the first listed wins. */
const ERROR_CODE_BY_FSPIOP: ReadonlyMap<string, ErrorCode> = new Map(
  [...ERROR_CODES].reverse().map((code) => [ERROR_CATALOG[code].fspiop, code]),
)

export function errorCodeForFspiop(fspiopCode: string): ErrorCode {
  const { effectiveCode } = classifyFspiopErrorCode(fspiopCode)
  return ERROR_CODE_BY_FSPIOP.get(effectiveCode) ?? ERROR_CODE_BY_FSPIOP.get(`${effectiveCode.slice(0, 2)}00`) ?? 'VALIDATION'
}

// ---------------------------------------------------------------------------------------------------
// Outgoing

/**
 * The body for a HubError: its catalogue FSPIOP code, and a description in Mojaloop's form
 * "<specification name> - <message>", cut to the schema's 128 characters. An ExtensionList in
 * `details.extensionList` is carried over; that is how a 3001 lists the supported versions.
 */
export function errorInformationOf(error: HubError): ErrorInformationObject {
  const extensionList = error.details.extensionList
  return errorInformationFor(error.code, error.message, isExtensionList(extensionList) ? extensionList : undefined)
}

export function errorInformationFor(code: ErrorCode, message = '', extensionList?: ExtensionList): ErrorInformationObject {
  const errorCode = ERROR_CATALOG[code].fspiop
  const name = FSPIOP_ERROR_NAMES[errorCode] ?? ERROR_CATALOG[code].description
  const errorDescription = truncate(message === '' || message === name ? name : `${name} - ${message}`, ERROR_DESCRIPTION_MAX)
  const errorInformation: ErrorInformation = extensionList === undefined ? { errorCode, errorDescription } : { errorCode, errorDescription, extensionList }
  return { errorInformation }
}

/** The HTTP status for answering a HubError synchronously (the catalogue's, e.g. 406 for 3001). */
export function httpStatusOf(error: HubError): number {
  return error.spec.http
}

// ---------------------------------------------------------------------------------------------------
// Incoming

export interface ReceivedErrorInformation {
  /** Exactly what the peer sent. */
  readonly errorInformation: ErrorInformation
  readonly kind: FspiopErrorCodeKind
  readonly effectiveCode: string
  /** Our catalogue code for the effective code. */
  readonly code: ErrorCode
}

/** Checks an error callback body (`PUT …/error`) and classifies its code. Never throws. */
export function parseErrorInformation(body: unknown): FspiopResult<ReceivedErrorInformation> {
  const checked = validateFspiopSchema('ErrorInformationObject', body)
  if (!checked.ok) return checked
  const { errorInformation } = checked.value
  const { kind, effectiveCode } = classifyFspiopErrorCode(errorInformation.errorCode)
  return { ok: true, value: { errorInformation, kind, effectiveCode, code: errorCodeForFspiop(errorInformation.errorCode) } }
}

/**
 * What to pass on to the other party. Defined and scheme-specific codes travel unchanged (a scheme's
 * own codes mean something to its members); an undefined code is replaced by 3100, as Mojaloop does.
 */
export function relayableErrorInformation(received: ReceivedErrorInformation): ErrorInformationObject {
  if (received.kind !== 'undefined') return { errorInformation: received.errorInformation }
  return errorInformationFor('VALIDATION', `API specification undefined errorCode ${received.errorInformation.errorCode}`)
}

/** A peer's error as a HubError, so domain code handles it like its own: the message is the peer's description. */
export function hubErrorOf(received: ReceivedErrorInformation): HubError {
  const { errorCode, errorDescription, extensionList } = received.errorInformation
  const details = { fspiopCode: errorCode, kind: received.kind, ...(extensionList === undefined ? {} : { extensionList }) }
  const category = received.effectiveCode.slice(0, 2)
  if (category === '31') return new ValidationError(errorDescription, details, received.code)
  if (category === '32') return new NotFoundError(received.code, errorDescription, details)
  if (received.effectiveCode.startsWith('4') || received.effectiveCode.startsWith('5')) {
    return new RejectedError(received.code, errorDescription, details)
  }
  return new HubError(received.code, errorDescription, details)
}

// ---------------------------------------------------------------------------------------------------

function isExtensionList(value: unknown): value is ExtensionList {
  return validateFspiopSchema('ExtensionList', value).ok
}

/** Cuts by code points, so a surrogate pair is never split and the result stays valid UTF-16. */
function truncate(text: string, max: number): string {
  const points = [...text]
  return points.length <= max ? text : points.slice(0, max).join('')
}
