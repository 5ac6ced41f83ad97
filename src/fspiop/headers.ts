// SPDX-License-Identifier: Apache-2.0
/**
 * FSPIOP HTTP headers (reference §1.2–§1.4), checked in the order Mojaloop's header validator checks them
 * (central-services-shared), so a request with several faults gets the same first answer from us as from
 * a Mojaloop switch:
 *
 *   Accept          required on GET/POST/DELETE, checked whenever present   missing 3102, malformed 3101, version 3001
 *   Date            required, RFC 7231 IMF-fixdate                          missing 3102, malformed 3101
 *   Content-Length  at most 5 MB                                            3104
 *   Content-Type    required, `…{resource}+json;version=<major>.<minor>`    missing 3102, malformed 3101, version 3001
 *   FSPIOP-Source   required, an FspId (1–32 characters)                    missing 3102, malformed 3101
 *   FSPIOP-Destination  optional, an FspId                                  malformed 3101
 *
 * Versions: Content-Type may state 1.0, 1.1 or 2.0 (Mojaloop's defaults); Accept may ask for `1`, `1.0`,
 * `1.1`, `2`, `2.0`, or give no version ("any"). Bodies are checked against v1.1 whatever the version.
 * An unsupported version is 3001 with HTTP 406 and the supported versions in the extension list as
 * `{key: major, value: minor}` pairs.
 */
import { assert } from '../core/assert.ts'
import { HubError, ValidationError } from '../core/errors.ts'
import { FSPIOP_RESOURCES, isFspiopResource, type ExtensionList, type FspiopResource, type FspiopResult, type FspiopVersion, type HttpMethod } from './types.ts'

/** Preference order: what we answer with when a client accepts several. 1.1 is the version Kivuko speaks. */
export const SUPPORTED_VERSIONS: readonly FspiopVersion[] = ['1.1', '1.0', '2.0']

/** The largest body FSPIOP allows (API Definition §3.2.1.3: 5 242 880 bytes). */
export const CONTENT_LENGTH_MAX = 5_242_880

export type FspiopHeaderValues = Readonly<Record<string, string | undefined>>

export interface FspiopHeaders {
  readonly resource: FspiopResource
  /** The version the body is written in (Content-Type). */
  readonly contentVersion: FspiopVersion
  /** The version a callback to this request should use: the preferred supported one that Accept allows. */
  readonly responseVersion: FspiopVersion
  readonly dateMs: number
  readonly source: string
  readonly destination?: string
  readonly traceparent?: string
  readonly tracestate?: string
  /** Passed on untouched when relaying, so the DFSPs' end-to-end signatures still verify. */
  readonly signature?: string
  readonly uri?: string
  readonly httpMethod?: string
}

export interface HeaderCheck {
  readonly method: HttpMethod
  /** The resource of the request path: the media types must name it. */
  readonly resource: FspiopResource
  readonly supportedVersions?: readonly FspiopVersion[]
}

/** Checks the headers of an incoming request or callback; names are lower-case, as Node gives them. Never throws. */
export function validateFspiopHeaders(headers: FspiopHeaderValues, check: HeaderCheck): FspiopResult<FspiopHeaders> {
  const supported = check.supportedVersions ?? SUPPORTED_VERSIONS
  const { resource } = check
  // The resource comes from the path; one FSPIOP does not define has no media type to check against.
  if (!isFspiopResource(resource)) {
    return { ok: false, error: new ValidationError(`Unknown resource ${String(resource)}`, { element: 'path' }, 'UNKNOWN_URI') }
  }

  // Accept: only requests that start an exchange must send it. A callback (PUT, PATCH) expects no answer
  // body, so its Accept is not looked at: HTTP clients add `*/*` or `application/json` by themselves.
  const isCallback = check.method === 'PUT' || check.method === 'PATCH'
  const accept = isCallback ? undefined : present(headers.accept)
  let acceptRanges: readonly VersionRange[] | undefined
  if (accept === undefined) {
    if (check.method === 'GET' || check.method === 'POST' || check.method === 'DELETE') return missing('Accept')
  } else {
    acceptRanges = parseAccept(accept, resource)
    if (acceptRanges === undefined) return malformed('Accept', `Invalid accept header: expected application/vnd.interoperability.${resource}+json;version=1`)
    if (!supported.some((version) => acceptRanges?.some((range) => admits(range, version)))) {
      return unacceptableVersion('The Client requested an unsupported version, see extension list for supported version(s).', supported)
    }
  }

  const date = present(headers.date)
  if (date === undefined) return missing('Date')
  const dateMs = parseHttpDate(date)
  if (dateMs === undefined) return malformed('Date', 'Invalid date header: expected an RFC 7231 date such as Tue, 15 Nov 1994 08:12:31 GMT')

  const contentLength = present(headers['content-length'])
  if (contentLength !== undefined && /^\d+$/.test(contentLength) && BigInt(contentLength) > BigInt(CONTENT_LENGTH_MAX)) {
    return { ok: false, error: new ValidationError(`Payload of ${contentLength} bytes is larger than ${CONTENT_LENGTH_MAX}`, { element: 'Content-Length' }, 'TOO_LARGE_PAYLOAD') }
  }

  const contentType = present(headers['content-type'])
  if (contentType === undefined) return missing('Content-Type')
  const stated = parseContentType(contentType, resource)
  if (stated === undefined) return malformed('Content-Type', `Invalid content-type header: expected application/vnd.interoperability.${resource}+json;version=1.1`)
  const contentVersion = supported.find((version) => version === stated)
  if (contentVersion === undefined) {
    return unacceptableVersion('Client supplied a protocol version which is not supported by the server', supported)
  }

  const source = present(headers['fspiop-source'])
  if (source === undefined) return missing('FSPIOP-Source')
  if (!isFspId(source)) return malformed('FSPIOP-Source', 'FSPIOP-Source must be an FSP identifier of 1 to 32 characters')
  const destination = present(headers['fspiop-destination'])
  if (destination !== undefined && !isFspId(destination)) {
    return malformed('FSPIOP-Destination', 'FSPIOP-Destination must be an FSP identifier of 1 to 32 characters')
  }

  // W3C trace context: tracestate means nothing without a valid traceparent.
  const traceparent = validTraceparent(headers.traceparent)
  const responseVersion =
    acceptRanges === undefined ? contentVersion : (supported.find((version) => acceptRanges.some((range) => admits(range, version))) ?? contentVersion)
  return {
    ok: true,
    value: {
      resource,
      contentVersion,
      responseVersion,
      dateMs,
      source,
      ...optional('destination', destination),
      ...optional('traceparent', traceparent),
      ...optional('tracestate', traceparent === undefined ? undefined : present(headers.tracestate)),
      ...optional('signature', present(headers['fspiop-signature'])),
      ...optional('uri', present(headers['fspiop-uri'])),
      ...optional('httpMethod', present(headers['fspiop-http-method'])),
    },
  }
}

// ---------------------------------------------------------------------------------------------------
// Outgoing

export interface OutgoingHeaders {
  readonly resource: FspiopResource
  readonly method: HttpMethod
  /** FSPIOP-Source: the original sender; the switch keeps it when relaying and uses its own name for its own messages. */
  readonly source: string
  readonly destination?: string
  readonly version?: FspiopVersion
  readonly nowMs: number
  readonly traceparent?: string
  readonly tracestate?: string
  /** The path from the resource on, e.g. `/parties/MSISDN/256700000001`; sets FSPIOP-URI and FSPIOP-HTTP-Method, which signing needs. */
  readonly uri?: string
}

/**
 * Headers for a request or callback Kivuko sends. Accept goes only on requests that start an exchange
 * (GET, POST, DELETE) and names the major version only, as the specification recommends; callbacks
 * carry none. A traceparent that is not W3C-shaped is dropped rather than propagated.
 */
export function buildFspiopHeaders(outgoing: OutgoingHeaders): Record<string, string> {
  const version = outgoing.version ?? '1.1'
  const headers: Record<string, string> = {
    'content-type': contentTypeOf(outgoing.resource, version),
    date: new Date(outgoing.nowMs).toUTCString(),
    'fspiop-source': outgoing.source,
  }
  if (outgoing.method === 'GET' || outgoing.method === 'POST' || outgoing.method === 'DELETE') {
    headers.accept = acceptOf(outgoing.resource, version)
  }
  if (outgoing.destination !== undefined) headers['fspiop-destination'] = outgoing.destination
  const traceparent = validTraceparent(outgoing.traceparent)
  if (traceparent !== undefined) {
    headers.traceparent = traceparent
    if (outgoing.tracestate !== undefined && outgoing.tracestate !== '') headers.tracestate = outgoing.tracestate
  }
  if (outgoing.uri !== undefined) {
    headers['fspiop-uri'] = outgoing.uri
    headers['fspiop-http-method'] = outgoing.method
  }
  return headers
}

export function contentTypeOf(resource: FspiopResource, version: FspiopVersion): string {
  return `application/vnd.interoperability.${resource}+json;version=${version}`
}

export function acceptOf(resource: FspiopResource, version: FspiopVersion): string {
  return `application/vnd.interoperability.${resource}+json;version=${version.split('.')[0] ?? '1'}`
}

/** The 3001 extension list: each supported version as `{key: major, value: minor}`, e.g. `{key: "1", value: "1"}`. */
export function versionExtensionList(supported: readonly FspiopVersion[] = SUPPORTED_VERSIONS): ExtensionList {
  const versions = [...new Set(supported)].sort()
  return { extension: versions.map((version) => ({ key: version.split('.')[0] ?? '', value: version.split('.')[1] ?? '0' })) }
}

// ---------------------------------------------------------------------------------------------------

/** One Accept entry: a major with an optional minor; neither means "any version". */
interface VersionRange {
  readonly major?: string
  readonly minor?: string
}

/** Compared as text, like Mojaloop: `version=01` names no version we know. */
function admits(range: VersionRange, version: FspiopVersion): boolean {
  const [major, minor] = version.split('.')
  return (range.major === undefined || range.major === major) && (range.minor === undefined || range.minor === minor)
}

/** The media-type patterns of each resource, made once. */
const PATTERNS: ReadonlyMap<FspiopResource, { readonly contentType: RegExp; readonly acceptEntry: RegExp }> = new Map(
  FSPIOP_RESOURCES.map((resource) => {
    const mediaType = `application/vnd\\.interoperability\\.${resource}\\+json`
    return [
      resource,
      {
        contentType: new RegExp(`^${mediaType}\\s?;\\s?version=(\\d+)\\.(\\d+)$`),
        acceptEntry: new RegExp(`^${mediaType}(?:\\s?;\\s?version=(\\d+)(?:\\.(\\d+))?)?$`),
      },
    ]
  }),
)

function patternsOf(resource: FspiopResource): { readonly contentType: RegExp; readonly acceptEntry: RegExp } {
  const patterns = PATTERNS.get(resource)
  assert(patterns !== undefined, `not an FSPIOP resource: ${resource}`)
  return patterns
}

/** Content-Type must state major.minor; one optional space either side of the `;`, as Mojaloop allows. */
function parseContentType(value: string, resource: FspiopResource): string | undefined {
  const match = patternsOf(resource).contentType.exec(value)
  return match === null ? undefined : `${match[1]}.${match[2]}`
}

/** Accept is a comma-separated list; each entry's version may be `major`, `major.minor` or absent. */
function parseAccept(value: string, resource: FspiopResource): readonly VersionRange[] | undefined {
  const entry = patternsOf(resource).acceptEntry
  const ranges: VersionRange[] = []
  for (const part of value.split(',')) {
    const match = entry.exec(part.trim())
    if (match === null) return undefined
    ranges.push({
      ...(match[1] === undefined ? {} : { major: match[1] }),
      ...(match[2] === undefined ? {} : { minor: match[2] }),
    })
  }
  return ranges
}

const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/**
 * RFC 7231 IMF-fixdate only (FSPIOP and Mojaloop accept nothing else). Formatting the parsed instant
 * back must give the same text, which also rejects 31 Feb and a weekday that does not match the date.
 */
export function parseHttpDate(value: string): number | undefined {
  // Requests arriving in the same second carry the same Date: the last answer is kept (a pure function of the text).
  if (lastDate !== undefined && lastDate.text === value) return lastDate.ms
  const ms = parseHttpDateOnce(value)
  lastDate = { text: value, ms }
  return ms
}

let lastDate: { readonly text: string; readonly ms: number | undefined } | undefined

function parseHttpDateOnce(value: string): number | undefined {
  const match = IMF_FIXDATE.exec(value)
  if (match === null) return undefined
  const [, day, month, year, hour, minute, second] = match
  const ms = Date.UTC(Number(year), MONTHS.indexOf(month ?? ''), Number(day), Number(hour), Number(minute), Number(second))
  if (Number.isNaN(ms) || new Date(ms).toUTCString() !== value) return undefined
  return ms
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/

/** W3C trace context: version ff and all-zero trace or parent ids are invalid, and an invalid one starts a new trace. */
function validTraceparent(value: unknown): string | undefined {
  const match = typeof value === 'string' ? TRACEPARENT.exec(value) : null
  if (match === null || match[1] === 'ff' || /^0+$/.test(match[2] ?? '') || /^0+$/.test(match[3] ?? '')) return undefined
  return match[0]
}

function isFspId(value: string): boolean {
  return [...value].length <= 32
}

/** An absent header and an empty one mean the same: nothing was sent. (A non-string, from a careless caller, too.) */
function present(value: unknown): string | undefined {
  return typeof value !== 'string' || value.trim() === '' ? undefined : value.trim()
}

type Optional<K extends string> = { [P in K]?: string }

function optional<K extends string>(key: K, value: string | undefined): Optional<K> {
  return (value === undefined ? {} : { [key]: value }) as Optional<K>
}

function missing(header: string): FspiopResult<never> {
  return { ok: false, error: new ValidationError(`${header} is required`, { element: header }, 'MISSING_ELEMENT') }
}

function malformed(header: string, message: string): FspiopResult<never> {
  return { ok: false, error: new ValidationError(message, { element: header }, 'MALFORMED_SYNTAX') }
}

function unacceptableVersion(message: string, supported: readonly FspiopVersion[]): FspiopResult<never> {
  return { ok: false, error: new HubError('UNACCEPTABLE_VERSION', message, { extensionList: versionExtensionList(supported) }) }
}
