// SPDX-License-Identifier: Apache-2.0
/**
 * FSPIOP headers: what a good request and callback look like, each fault's code in Mojaloop's order,
 * version negotiation with the 406 extension list, and headers we build passing our own check.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { errorInformationOf } from './error-information.ts'
import {
  buildFspiopHeaders,
  parseHttpDate,
  validateFspiopHeaders,
  versionExtensionList,
  type FspiopHeaderValues,
  type HeaderCheck,
} from './headers.ts'
import { validateFspiopSchema } from './schemas.ts'
import { FSPIOP_RESOURCES, type FspiopResult, type HttpMethod } from './types.ts'

const DATE = 'Tue, 15 Nov 1994 08:12:31 GMT'
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'

const aRequest = (overrides: Record<string, string | undefined> = {}): FspiopHeaderValues => ({
  accept: 'application/vnd.interoperability.quotes+json;version=1',
  'content-type': 'application/vnd.interoperability.quotes+json;version=1.1',
  date: DATE,
  'fspiop-source': 'payerfsp',
  'fspiop-destination': 'payeefsp',
  ...overrides,
})

const POST_QUOTES: HeaderCheck = { method: 'POST', resource: 'quotes' }

function fault(result: FspiopResult<unknown>): { code: string; http: number; element: unknown } {
  assert.ok(!result.ok, 'expected the headers to be rejected')
  return { code: result.error.spec.fspiop, http: result.error.spec.http, element: result.error.details.element }
}

describe('valid headers', () => {
  it('reads a request: version, date, routing and trace headers', () => {
    const result = validateFspiopHeaders(aRequest({ traceparent: TRACEPARENT, tracestate: 'k=v', 'fspiop-signature': '{"signature":"x"}' }), POST_QUOTES)
    assert.deepEqual(result, {
      ok: true,
      value: {
        resource: 'quotes',
        contentVersion: '1.1',
        responseVersion: '1.1',
        dateMs: Date.UTC(1994, 10, 15, 8, 12, 31),
        source: 'payerfsp',
        destination: 'payeefsp',
        traceparent: TRACEPARENT,
        tracestate: 'k=v',
        signature: '{"signature":"x"}',
      },
    })
  })

  it('lets a callback (PUT, PATCH) omit Accept and answers in its own version', () => {
    for (const method of ['PUT', 'PATCH'] as const) {
      const result = validateFspiopHeaders(aRequest({ accept: undefined, 'content-type': 'application/vnd.interoperability.transfers+json;version=1.0' }), { method, resource: 'transfers' })
      assert.ok(result.ok)
      assert.equal(result.value.responseVersion, '1.0')
    }
  })

  it('accepts 1.0, 1.1 and 2.0 content, with Mojaloop’s optional spaces around the semicolon', () => {
    for (const contentType of [
      'application/vnd.interoperability.quotes+json;version=1.0',
      'application/vnd.interoperability.quotes+json ; version=1.1',
      'application/vnd.interoperability.quotes+json; version=2.0',
    ]) {
      assert.ok(validateFspiopHeaders(aRequest({ 'content-type': contentType }), POST_QUOTES).ok, contentType)
    }
  })

  it('negotiates the response version from Accept', () => {
    const responseVersion = (accept: string): string | undefined => {
      const result = validateFspiopHeaders(aRequest({ accept }), POST_QUOTES)
      return result.ok ? result.value.responseVersion : undefined
    }
    assert.equal(responseVersion('application/vnd.interoperability.quotes+json'), '1.1') // no version: any, we prefer 1.1
    assert.equal(responseVersion('application/vnd.interoperability.quotes+json;version=1'), '1.1')
    assert.equal(responseVersion('application/vnd.interoperability.quotes+json;version=1.0'), '1.0')
    assert.equal(responseVersion('application/vnd.interoperability.quotes+json;version=2'), '2.0')
    assert.equal(responseVersion('application/vnd.interoperability.quotes+json;version=3,application/vnd.interoperability.quotes+json;version=1'), '1.1')
    assert.equal(responseVersion('application/vnd.interoperability.quotes+json;version=2.0, application/vnd.interoperability.quotes+json;version=1.1'), '1.1')
  })

  it('treats an empty header as absent and drops a traceparent that is not W3C-shaped', () => {
    const result = validateFspiopHeaders(aRequest({ 'fspiop-destination': '', traceparent: '00-00000000000000000000000000000000-b7ad6b7169203331-01' }), POST_QUOTES)
    assert.ok(result.ok)
    assert.equal(result.value.destination, undefined)
    assert.equal(result.value.traceparent, undefined)
    const orphan = validateFspiopHeaders(aRequest({ traceparent: 'garbage', tracestate: 'k=v' }), POST_QUOTES)
    assert.ok(orphan.ok && orphan.value.tracestate === undefined)
    for (const bad of ['garbage', 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01']) {
      const checked = validateFspiopHeaders(aRequest({ traceparent: bad }), POST_QUOTES)
      assert.ok(checked.ok && checked.value.traceparent === undefined, bad)
    }
  })
})

describe('faults and their FSPIOP codes', () => {
  it('3102 for a missing mandatory header', () => {
    assert.deepEqual(fault(validateFspiopHeaders(aRequest({ accept: undefined }), POST_QUOTES)), { code: '3102', http: 400, element: 'Accept' })
    assert.deepEqual(fault(validateFspiopHeaders(aRequest({ accept: undefined }), { method: 'GET', resource: 'quotes' })).code, '3102')
    assert.deepEqual(fault(validateFspiopHeaders(aRequest({ accept: undefined }), { method: 'DELETE', resource: 'quotes' })).code, '3102')
    assert.deepEqual(fault(validateFspiopHeaders(aRequest({ date: undefined }), POST_QUOTES)), { code: '3102', http: 400, element: 'Date' })
    assert.deepEqual(fault(validateFspiopHeaders(aRequest({ 'content-type': undefined }), POST_QUOTES)), { code: '3102', http: 400, element: 'Content-Type' })
    assert.deepEqual(fault(validateFspiopHeaders(aRequest({ 'fspiop-source': undefined }), POST_QUOTES)), { code: '3102', http: 400, element: 'FSPIOP-Source' })
    assert.deepEqual(fault(validateFspiopHeaders(aRequest({ 'fspiop-source': '  ' }), POST_QUOTES)).code, '3102')
  })

  it('3101 for a malformed header', () => {
    const malformed = (overrides: Record<string, string>, check: HeaderCheck = POST_QUOTES) => fault(validateFspiopHeaders(aRequest(overrides), check)).code
    assert.equal(malformed({ accept: 'application/json' }), '3101')
    assert.equal(malformed({ accept: 'application/vnd.interoperability.parties+json;version=1' }), '3101') // another resource
    assert.equal(malformed({ accept: 'application/vnd.interoperability.quotes+json;version=1,' }), '3101')
    assert.equal(malformed({ 'content-type': 'application/json' }), '3101')
    assert.equal(malformed({ 'content-type': 'application/vnd.interoperability.quotes+json;version=1' }), '3101') // must be major.minor
    assert.equal(malformed({ 'content-type': 'application/vnd.interoperability.transfers+json;version=1.1' }), '3101')
    assert.equal(malformed({ 'content-type': 'application/vnd.interoperability.quotes+json;version=1.1;charset=utf-8' }), '3101')
    assert.equal(malformed({ date: '2024-01-01T00:00:00.000Z' }), '3101') // ISO 8601 is not an HTTP date
    assert.equal(malformed({ date: 'Wed, 15 Nov 1994 08:12:31 GMT' }), '3101') // wrong weekday
    assert.equal(malformed({ date: 'Mon, 30 Feb 2026 08:12:31 GMT' }), '3101')
    assert.equal(malformed({ date: 'Tue, 15 Nov 1994 08:12:31 UTC' }), '3101')
    assert.equal(malformed({ date: 'Tuesday, 15-Nov-94 08:12:31 GMT' }), '3101') // RFC 850, obsolete
    assert.equal(malformed({ 'fspiop-source': 'x'.repeat(33) }), '3101')
    assert.equal(malformed({ 'fspiop-destination': 'x'.repeat(33) }), '3101')
  })

  it('3001 with HTTP 406 and the supported versions for a version we do not speak', () => {
    for (const overrides of [{ accept: 'application/vnd.interoperability.quotes+json;version=3' }, { 'content-type': 'application/vnd.interoperability.quotes+json;version=1.2' }]) {
      const result = validateFspiopHeaders(aRequest(overrides), POST_QUOTES)
      assert.ok(!result.ok)
      assert.equal(result.error.spec.http, 406)
      const body = errorInformationOf(result.error)
      assert.equal(body.errorInformation.errorCode, '3001')
      assert.deepEqual(body.errorInformation.extensionList, { extension: [{ key: '1', value: '0' }, { key: '1', value: '1' }, { key: '2', value: '0' }] })
      assert.ok(validateFspiopSchema('ErrorInformationResponse', body).ok)
    }
  })

  it('lists only the versions a deployment supports', () => {
    const result = validateFspiopHeaders(aRequest({ 'content-type': 'application/vnd.interoperability.quotes+json;version=2.0' }), { ...POST_QUOTES, supportedVersions: ['1.1'] })
    assert.ok(!result.ok)
    assert.deepEqual(result.error.details.extensionList, { extension: [{ key: '1', value: '1' }] })
    assert.deepEqual(versionExtensionList(['1.1', '1.0', '1.1']), { extension: [{ key: '1', value: '0' }, { key: '1', value: '1' }] })
  })

  it('3002 for a resource FSPIOP does not define', () => {
    assert.equal(fault(validateFspiopHeaders(aRequest(), { method: 'POST', resource: 'settlements' as 'quotes' })).code, '3002')
  })

  it('3104 for a body larger than 5 MB', () => {
    assert.deepEqual(fault(validateFspiopHeaders(aRequest({ 'content-length': '5242881' }), POST_QUOTES)).code, '3104')
    assert.ok(validateFspiopHeaders(aRequest({ 'content-length': '5242880' }), POST_QUOTES).ok)
  })

  it('reports the first fault in Mojaloop’s order: Accept, Date, Content-Length, Content-Type, FSPIOP-Source', () => {
    const first = (headers: FspiopHeaderValues) => fault(validateFspiopHeaders(headers, POST_QUOTES)).element
    assert.equal(first({}), 'Accept')
    assert.equal(first({ accept: aRequest().accept }), 'Date')
    assert.equal(first({ accept: aRequest().accept, date: DATE, 'content-length': '9999999' }), 'Content-Length')
    assert.equal(first({ accept: aRequest().accept, date: DATE }), 'Content-Type')
    assert.equal(first({ ...aRequest(), 'fspiop-source': undefined, 'fspiop-destination': 'x'.repeat(40) }), 'FSPIOP-Source')
  })

  it('never throws, whatever the headers', () => {
    const headerName = fc.constantFrom('accept', 'content-type', 'date', 'content-length', 'fspiop-source', 'fspiop-destination', 'traceparent', 'x-other')
    const methods: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']
    fc.assert(
      fc.property(fc.dictionary(headerName, fc.oneof(fc.string(), fc.constant(undefined))), fc.constantFrom(...methods), fc.constantFrom(...FSPIOP_RESOURCES), (headers, method, resource) => {
        const result = validateFspiopHeaders(headers, { method, resource })
        if (!result.ok) assert.match(result.error.spec.fspiop, /^(3001|3101|3102|3104)$/)
      }),
      { numRuns: 1000 },
    )
    // A caller handing over Node's raw headers may pass arrays or numbers; they count as absent.
    fc.assert(
      fc.property(fc.dictionary(headerName, fc.anything()), (headers) => void validateFspiopHeaders(headers as FspiopHeaderValues, POST_QUOTES)),
      { numRuns: 300 },
    )
  })
})

describe('HTTP dates', () => {
  it('reads back exactly what Date#toUTCString writes', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(9999, 11, 31) }), (ms) => {
        const whole = ms - (ms % 1000)
        assert.equal(parseHttpDate(new Date(whole).toUTCString()), whole)
      }),
    )
  })

  it('answers a repeated date the same, valid or not (the last answer is kept)', () => {
    const valid = 'Tue, 15 Nov 1994 08:12:31 GMT'
    const invalid = 'Wed, 15 Nov 1994 08:12:31 GMT'
    for (const text of [valid, valid, invalid, invalid, valid, invalid]) {
      assert.equal(parseHttpDate(text), text === valid ? Date.UTC(1994, 10, 15, 8, 12, 31) : undefined, text)
    }
  })
})

describe('outgoing headers', () => {
  it('sends Accept only on requests that start an exchange, naming the major version', () => {
    const request = buildFspiopHeaders({ resource: 'quotes', method: 'POST', source: 'payerfsp', destination: 'payeefsp', nowMs: Date.UTC(1994, 10, 15, 8, 12, 31), traceparent: TRACEPARENT, tracestate: 'k=v' })
    assert.deepEqual(request, {
      accept: 'application/vnd.interoperability.quotes+json;version=1',
      'content-type': 'application/vnd.interoperability.quotes+json;version=1.1',
      date: DATE,
      'fspiop-source': 'payerfsp',
      'fspiop-destination': 'payeefsp',
      traceparent: TRACEPARENT,
      tracestate: 'k=v',
    })
    const callback = buildFspiopHeaders({ resource: 'transfers', method: 'PATCH', source: 'Hub', destination: 'payeefsp', version: '1.0', nowMs: 0, traceparent: 'bad', tracestate: 'k=v' })
    assert.deepEqual(callback, { 'content-type': 'application/vnd.interoperability.transfers+json;version=1.0', date: 'Thu, 01 Jan 1970 00:00:00 GMT', 'fspiop-source': 'Hub', 'fspiop-destination': 'payeefsp' })
  })

  it('adds FSPIOP-URI and FSPIOP-HTTP-Method when asked, for signing', () => {
    const headers = buildFspiopHeaders({ resource: 'parties', method: 'GET', source: 'payerfsp', nowMs: 0, uri: '/parties/MSISDN/256700000001' })
    assert.equal(headers['fspiop-uri'], '/parties/MSISDN/256700000001')
    assert.equal(headers['fspiop-http-method'], 'GET')
    assert.equal(headers['fspiop-destination'], undefined)
  })

  it('builds headers that pass our own check, for every resource, method and version', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FSPIOP_RESOURCES),
        fc.constantFrom<HttpMethod>('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
        fc.constantFrom('1.0', '1.1', '2.0' as const),
        fc.integer({ min: 0, max: Date.UTC(9999, 0, 1) }),
        fc.string({ minLength: 1, maxLength: 32 }).filter((s) => s.trim() === s && s !== ''),
        (resource, method, version, nowMs, source) => {
          const result = validateFspiopHeaders(buildFspiopHeaders({ resource, method, source, version, nowMs }), { method, resource })
          assert.ok(result.ok, result.ok ? '' : result.error.message)
          assert.equal(result.value.contentVersion, version)
          assert.equal(result.value.source, source)
        },
      ),
    )
  })
})
