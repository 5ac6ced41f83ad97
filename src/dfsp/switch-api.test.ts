// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { describe, it } from 'node:test'
import { ConfigError } from '../config/load-config.ts'
import { ManualClock } from '../core/clock.ts'
import fc from 'fast-check'
import { validateFspiopBody, validateFspiopHeaders, verifyFspiopSignature, type HttpMethod } from '../fspiop/index.ts'
import { resolveDfspConfig, type DfspConfigInput } from './config.ts'
import type { OutgoingRequest, TransportResult } from './ports.ts'
import { fspiopPath, SwitchApi, validateOutgoingBody } from './switch-api.ts'
import { Waiters } from './waiters.ts'

const INPUT: DfspConfigInput = { dfspId: 'bank', currency: 'USD', switchUrl: 'http://127.0.0.1:4040', ilpSecret: 'a-secret-of-16-chars', switchToken: 'token-1' }
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined }

function apiWith(answers: TransportResult[], overrides: Partial<DfspConfigInput> = {}, signingKey?: KeyObject): { api: SwitchApi; sent: OutgoingRequest[] } {
  const sent: OutgoingRequest[] = []
  const api = new SwitchApi(resolveDfspConfig({ ...INPUT, ...overrides }), async (request) => {
    sent.push(request)
    return answers.shift() ?? { status: 200, body: undefined }
  }, new ManualClock(Date.UTC(2026, 0, 1)), silent, signingKey)
  return { api, sent }
}

describe('SwitchApi', () => {
  it('sends FSPIOP headers from this DFSP, with its token and the trace context', async () => {
    const { api, sent } = apiWith([{ status: 202, body: undefined }])
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    assert.deepEqual(await api.request('GET', fspiopPath('parties', 'MSISDN', '256 700'), undefined, { trace: { traceparent } }), { kind: 'accepted', status: 202 })
    const [request] = sent
    assert.equal(request?.path, '/parties/MSISDN/256%20700')
    assert.equal(request?.headers.authorization, 'Bearer token-1')
    assert.equal(request?.headers.traceparent, traceparent)
    assert.equal(request?.headers.date, 'Thu, 01 Jan 2026 00:00:00 GMT')
    const checked = validateFspiopHeaders(request?.headers ?? {}, { method: 'GET', resource: 'parties' })
    assert.ok(checked.ok)
    assert.equal(checked.value.source, 'bank')
    assert.equal(checked.value.destination, undefined)
  })

  it('signs every message with a body when it has a JWS key, as the switch and the SDK verify it; a GET goes unsigned', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const { api, sent } = apiWith([], {}, privateKey)
    const body = { transferState: 'COMMITTED' as const, completedTimestamp: '2026-01-01T00:00:00.000Z' }
    await api.callback('/transfers/c7a3a5f0-3f4e-4b9c-9d1e-2a7c3b1e0f11', body, { destination: 'payerfsp' })
    await api.request('GET', fspiopPath('parties', 'MSISDN', '256700000001'), undefined)
    const [put, get] = sent as [OutgoingRequest, OutgoingRequest]
    assert.deepEqual([put.headers['fspiop-uri'], put.headers['fspiop-http-method']], ['/transfers/c7a3a5f0-3f4e-4b9c-9d1e-2a7c3b1e0f11', 'PUT'])
    const request = { method: 'PUT', uri: put.path, headers: put.headers, rawBody: put.body ?? '' }
    assert.deepEqual(await verifyFspiopSignature(request, publicKey), { ok: true })
    assert.equal((await verifyFspiopSignature({ ...request, rawBody: JSON.stringify({ ...body, transferState: 'ABORTED' }) }, publicKey)).ok, false, 'the signature covers the body')
    assert.equal(get.headers['fspiop-signature'], undefined)
  })

  it('retries a callback on 5xx and network errors, not on 4xx, and reports a refusal with its errorInformation', async () => {
    const retried = apiWith([{ status: 503, body: undefined }, { error: 'network', detail: 'ECONNREFUSED' }, { status: 200, body: undefined }], { callbackAttemptsMax: 3 })
    const body = { transferState: 'COMMITTED' as const, completedTimestamp: '2026-01-01T00:00:00.000Z' }
    assert.deepEqual(await retried.api.callback('/transfers/c7a3a5f0-3f4e-4b9c-9d1e-2a7c3b1e0f11', body, { destination: 'payerfsp' }), { kind: 'accepted', status: 200 })
    assert.equal(retried.sent.length, 3)
    assert.equal(retried.sent[0]?.headers['fspiop-destination'], 'payerfsp')
    assert.equal(retried.sent[0]?.headers.accept, undefined)

    const errorInformation = { errorCode: '3100', errorDescription: 'Generic validation error' }
    const refused = apiWith([{ status: 400, body: { errorInformation } }], { callbackAttemptsMax: 3 })
    assert.deepEqual(await refused.api.callback('/transfers/c7a3a5f0-3f4e-4b9c-9d1e-2a7c3b1e0f11', body, { destination: 'payerfsp' }), { kind: 'refused', status: 400, errorInformation })
    assert.equal(refused.sent.length, 1)
  })

  it('never sends a callback that fails the schema: the peer gets 2001 instead', async () => {
    const { api, sent } = apiWith([])
    await api.callback('/quotes/b51ec534-ee48-4575-b6a9-ead2955b8069', { transferAmount: { amount: '10.50', currency: 'USD' } }, { destination: 'payerfsp' })
    assert.equal(sent[0]?.path, '/quotes/b51ec534-ee48-4575-b6a9-ead2955b8069/error')
    assert.equal((JSON.parse(sent[0]?.body ?? '{}') as { errorInformation: { errorCode: string } }).errorInformation.errorCode, '2001')
  })
})

describe('validateOutgoingBody', () => {
  it('answers exactly what validateFspiopBody answers, for any method, path and body', () => {
    const segment = fc.oneof(fc.constantFrom('error', '', 'MSISDN', 'ACCOUNT_ID', 'b51ec534-ee48-4575-b6a9-ead2955b8069', '256700000001'), fc.string({ maxLength: 6 }).filter((text) => !text.includes('/') && !text.includes('?')))
    const resource = fc.constantFrom('parties', 'participants', 'quotes', 'transfers', 'transactionRequests', 'authorizations', 'bulkQuotes', 'bulkTransfers', 'transactions', 'other')
    const body = fc.oneof(fc.constant({}), fc.constant({ errorInformation: { errorCode: '3100', errorDescription: 'x' } }), fc.constant({ transferState: 'COMMITTED' }), fc.constant(undefined))
    fc.assert(
      fc.property(fc.constantFrom<HttpMethod>('GET', 'POST', 'PUT', 'PATCH', 'DELETE'), resource, fc.array(segment, { maxLength: 4 }), fc.boolean(), body, (method, head, rest, trailingSlash, value) => {
        const path = `/${[head, ...rest].join('/')}${trailingSlash ? '/' : ''}`
        const expected = validateFspiopBody(method, path, value)
        // Twice: the first finds the route of the path's shape, the second takes it from what was found.
        for (let i = 0; i < 2; i += 1) {
          const actual = validateOutgoingBody(method, path, value)
          assert.equal(actual.ok, expected.ok, path)
          if (!actual.ok && !expected.ok) assert.deepEqual([actual.error.code, actual.error.message], [expected.error.code, expected.error.message], path)
        }
      }),
      { numRuns: 3_000 },
    )
  })
})

describe('Waiters', () => {
  it('gives every waiter on a key the same answer, and undefined on timeout or cancel', async () => {
    const waiters = new Waiters<string>()
    const a = waiters.wait('k', 1_000)
    const b = waiters.wait('k', 1_000)
    const c = waiters.wait('other', 10)
    const d = waiters.wait('cancelled', 1_000)
    d.cancel()
    assert.equal(waiters.resolve('k', 'answer'), 2)
    assert.deepEqual(await Promise.all([a.answer, b.answer, c.answer, d.answer]), ['answer', 'answer', undefined, undefined])
    assert.equal(waiters.resolve('k', 'late'), 0)
    assert.equal(waiters.size, 0)
  })
})

describe('DFSP configuration', () => {
  it('fills defaults and freezes', () => {
    const config = resolveDfspConfig(INPUT)
    assert.equal(config.payeeTransferState, 'COMMITTED')
    assert.equal(config.oracleRegistration, 'auto')
    assert.equal(config.timeouts.transferMs, 30_000)
    assert.ok(Object.isFrozen(config))
  })

  it('reports every problem at once', () => {
    assert.throws(
      () =>
        resolveDfspConfig({
          dfspId: '',
          currency: 'ZZZ',
          switchUrl: 'ftp://switch',
          ilpSecret: 'short',
          payeeTransferState: 'LATER' as 'RESERVED',
          timeouts: { quoteMs: -1 },
          customers: [{ name: 'Nobody' }],
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError)
        assert.equal(error.problems.length, 7)
        return true
      },
    )
  })
})
