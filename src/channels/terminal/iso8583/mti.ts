// SPDX-License-Identifier: Apache-2.0
/**
 * Message type indicators (reference §8.1–8.2). An MTI is four digits: version, class, function and
 * origin. The gateway answers a request with the same version and class, the "response" function and
 * the original (non-repeat) origin, so a repeated 0101 is answered by 0110 just like 0100.
 */
import { Iso8583Error, MESSAGE_PART } from './errors.ts'

/** The MTIs our terminal flows use, by ISO 8583's own names. */
export const MTI = {
  authorizationRequest: '0100',
  authorizationRequestRepeat: '0101',
  authorizationResponse: '0110',
  authorizationAdvice: '0120',
  authorizationAdviceResponse: '0130',
  financialRequest: '0200',
  financialRequestRepeat: '0201',
  financialResponse: '0210',
  financialAdvice: '0220',
  financialAdviceResponse: '0230',
  reversalRequest: '0400',
  reversalResponse: '0410',
  reversalAdvice: '0420',
  reversalAdviceRepeat: '0421',
  reversalAdviceResponse: '0430',
  networkManagementRequest: '0800',
  networkManagementResponse: '0810',
} as const

export const MTI_VERSIONS = { '0': 'ISO 8583:1987', '1': 'ISO 8583:1993', '2': 'ISO 8583:2003' } as const
export const MTI_CLASSES = {
  '1': 'authorization',
  '2': 'financial',
  '3': 'file action',
  '4': 'reversal/chargeback',
  '5': 'reconciliation',
  '6': 'administrative',
  '7': 'fee collection',
  '8': 'network management',
} as const
export const MTI_FUNCTIONS = {
  '0': 'request',
  '1': 'request response',
  '2': 'advice',
  '3': 'advice response',
  '4': 'notification',
} as const
export const MTI_ORIGINS = {
  '0': 'acquirer',
  '1': 'acquirer repeat',
  '2': 'issuer',
  '3': 'issuer repeat',
  '4': 'other',
  '5': 'other repeat',
} as const

export interface MtiParts {
  readonly version: string
  readonly messageClass: string
  readonly messageFunction: string
  readonly origin: string
}

const MTI_PATTERN = /^[0-9]{4}$/

function mtiError(detail: string): Iso8583Error {
  return new Iso8583Error(MESSAGE_PART.mti, 'mti', 'bad_mti', detail)
}

/** Splits an MTI into its four positions; throws bad_mti unless it is four digits. */
export function parseMti(mti: string): MtiParts {
  if (typeof mti !== 'string' || !MTI_PATTERN.test(mti)) throw mtiError('the MTI is four decimal digits')
  return { version: mti[0] as string, messageClass: mti[1] as string, messageFunction: mti[2] as string, origin: mti[3] as string }
}

/** '0200' → 'ISO 8583:1987 financial request from acquirer'. Unknown positions read as 'unknown …'. */
export function describeMti(mti: string): string {
  const parts = parseMti(mti)
  const version = (MTI_VERSIONS as Readonly<Record<string, string>>)[parts.version] ?? `unknown version ${parts.version}`
  const messageClass = (MTI_CLASSES as Readonly<Record<string, string>>)[parts.messageClass] ?? `unknown class ${parts.messageClass}`
  const messageFunction = (MTI_FUNCTIONS as Readonly<Record<string, string>>)[parts.messageFunction] ?? `unknown function ${parts.messageFunction}`
  const origin = (MTI_ORIGINS as Readonly<Record<string, string>>)[parts.origin] ?? `unknown origin ${parts.origin}`
  return `${version} ${messageClass} ${messageFunction} from ${origin}`
}

/** True for requests and advices: the messages that expect an answer. */
export function expectsResponse(mti: string): boolean {
  const { messageFunction } = parseMti(mti)
  return messageFunction === '0' || messageFunction === '2'
}

/**
 * The MTI that answers `mti`: 0100 → 0110, 0200 → 0210, 0420 → 0430, 0421 → 0430, 0800 → 0810,
 * 1804 → 1814. Throws bad_mti for responses and notifications, which are never answered.
 */
export function responseMtiFor(mti: string): string {
  const { version, messageClass, messageFunction, origin } = parseMti(mti)
  if (messageFunction !== '0' && messageFunction !== '2') throw mtiError(`a ${MTI_FUNCTIONS[messageFunction as keyof typeof MTI_FUNCTIONS] ?? 'message of this function'} has no response`)
  const responseFunction = messageFunction === '0' ? '1' : '3'
  // Repeat origins are odd digits; the response names the original origin.
  const originDigit = Number(origin)
  const responseOrigin = String(originDigit - (originDigit % 2))
  return `${version}${messageClass}${responseFunction}${responseOrigin}`
}
