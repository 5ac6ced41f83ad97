// SPDX-License-Identifier: Apache-2.0
/**
 * The lean path and Fastify answer every request alike. Each request is sent over real HTTP (served by the
 * lean path when it is an ordinary one) and injected into Fastify (which never sees the lean path), and the
 * two answers and what the handler saw are compared; Fastify's onRequest hook tells which path served it.
 */
import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { after, before, describe, it } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import { HubError, ValidationError } from '../../src/core/errors.ts'
import { FspiopRoutes, type FspiopHttpRequest, type FspiopRouteMethod } from '../../src/http/fspiop-routes.ts'

interface Sent {
  readonly method: string
  readonly path: string
  readonly headers?: Record<string, string>
  readonly body?: string
  /** Sent with Transfer-Encoding: chunked (no Content-Length). */
  readonly chunked?: boolean
}

interface Answer {
  readonly status: number
  readonly contentType: string | undefined
  readonly body: string
}

const FSPIOP = 'application/vnd.interoperability.transfers+json;version=1.1'

function send(port: number, sent: Sent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...sent.headers }
    if (sent.body !== undefined && sent.chunked !== true) headers['content-length'] = String(Buffer.byteLength(sent.body))
    const request = httpRequest({ host: '127.0.0.1', port, method: sent.method, path: sent.path, headers }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, contentType: response.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') }))
    })
    request.on('error', reject)
    if (sent.body !== undefined) request.write(sent.body)
    request.end()
  })
}

describe('FSPIOP routes: the lean path and Fastify', () => {
  const seen: FspiopHttpRequest[] = []
  const outcomes: string[] = []
  const failures: string[] = []
  let fastifyServed = 0
  let app: FastifyInstance
  let port: number

  before(async () => {
    const routes = new FspiopRoutes({
      bodyLimit: 1_000,
      logFailure: (error, url) => void failures.push(`${url} ${(error as Error).message}`),
      onResponse: (route, method, status) => void outcomes.push(`${method} ${route} ${status}`),
    })
    app = Fastify({ logger: false, bodyLimit: 1_000, routerOptions: { caseSensitive: true }, return503OnClosing: true, serverFactory: routes.serverFactory() })
    app.addHook('onRequest', (_request, _reply, done) => {
      fastifyServed += 1
      done()
    })
    const record = async (request: FspiopHttpRequest): Promise<void> => {
      seen.push(request)
      const body = request.body as { fail?: string } | undefined
      if (body?.fail === 'hub') throw new ValidationError('Missing mandatory element: amount', { element: 'amount' }, 'MISSING_ELEMENT')
      if (body?.fail === 'crash') throw new Error('a bug')
      if (body?.fail === 'permission') throw new HubError('PAYER_PERMISSION_ERROR', 'no')
    }
    const table: [FspiopRouteMethod, string, 200 | 202][] = [
      ['POST', '/transfers', 202],
      ['PUT', '/transfers/:id', 200],
      ['PUT', '/transfers/:id/error', 200],
      ['GET', '/parties/:type/:id', 202],
      ['GET', '/parties/:type/:id/:subId', 202],
      ['PUT', '/parties/:type/:id/error', 200],
    ]
    for (const [method, url, status] of table) {
      routes.add(method, url, async (request) => {
        await record(request)
        return status
      })
    }
    routes.leaveToFastify('GET', '/parties/:type/:id/error')
    app.get('/parties/:type/:id/error', async (_request, reply) => reply.status(418).send())
    routes.attach(app)
    const address = await app.listen({ host: '127.0.0.1', port: 0 })
    port = Number(new URL(address).port)
  })
  after(async () => app.close())

  /** Sends over HTTP and through inject; answers both, what each handler call saw, and whether Fastify served the HTTP one. */
  const both = async (sent: Sent) => {
    seen.length = 0
    const fastifyBefore = fastifyServed
    const overHttp = await send(port, sent)
    const viaFastify = fastifyServed > fastifyBefore
    const seenOverHttp = seen.splice(0)
    const injected = await app.inject({ method: sent.method as 'GET', url: sent.path, headers: { ...sent.headers, ...(sent.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(sent.body)) }) }, ...(sent.body === undefined ? {} : { payload: sent.body }) })
    const seenInjected = seen.splice(0)
    const answerInjected: Answer = { status: injected.statusCode, contentType: injected.headers['content-type'] as string | undefined, body: injected.body }
    const view = (requests: FspiopHttpRequest[]) => requests.map((r) => ({ method: r.method, url: r.url, params: { ...r.params }, query: { ...r.query }, body: r.body, rawBody: r.rawBody }))
    assert.deepEqual(overHttp, answerInjected, `${sent.method} ${sent.path}: the same answer on both paths`)
    assert.deepEqual(view(seenOverHttp), view(seenInjected), `${sent.method} ${sent.path}: the handler saw the same`)
    return { answer: overHttp, viaFastify, seen: seenOverHttp }
  }

  it('serves an ordinary request on the lean path, with the params, body and text the handler needs', async () => {
    outcomes.length = 0
    const body = JSON.stringify({ transferId: 't-1', amount: { amount: '10.5', currency: 'USD' } })
    const { answer, viaFastify, seen: saw } = await both({ method: 'POST', path: '/transfers', headers: { 'content-type': FSPIOP }, body })
    assert.equal(answer.status, 202)
    assert.equal(answer.body, '')
    assert.equal(viaFastify, false, 'lean path')
    assert.equal(saw[0]?.rawBody, body)
    assert.deepEqual(saw[0]?.body, JSON.parse(body))
    assert.deepEqual(outcomes, ['POST /transfers 202', 'POST /transfers 202'], 'metrics hear both paths with the route pattern')

    const put = await both({ method: 'PUT', path: '/transfers/t-1?x=1', headers: { 'content-type': 'application/json' }, body: '{"transferState":"COMMITTED"}' })
    assert.equal(put.answer.status, 200)
    assert.equal(put.viaFastify, false)
    assert.equal(put.seen[0]?.params.id, 't-1')
    assert.equal(put.seen[0]?.url, '/transfers/t-1?x=1')
  })

  it('decodes params as Fastify does and prefers the static segment over a param', async () => {
    const decoded = await both({ method: 'GET', path: '/parties/MSISDN/%2B256700000001' })
    assert.equal(decoded.viaFastify, false)
    assert.equal(decoded.seen[0]?.params.id, '+256700000001')
    // The query as Fastify parses it, a repeated name included.
    const queried = await both({ method: 'GET', path: '/parties/MSISDN/1?currency=USD&x=1&x=2&e=%20a' })
    assert.equal(queried.viaFastify, false)
    assert.deepEqual({ ...queried.seen[0]?.query }, { currency: 'USD', x: ['1', '2'], e: ' a' })
    // A broken escape: find-my-way keeps it as sent, on both paths alike (`both` compares them).
    await both({ method: 'GET', path: '/parties/MSISDN/%E0%A4%A' })
    const error = await both({ method: 'PUT', path: '/parties/MSISDN/1/error', headers: { 'content-type': FSPIOP }, body: '{"errorInformation":{}}' })
    assert.equal(error.seen[0]?.url, '/parties/MSISDN/1/error')
    assert.equal(error.seen[0]?.params.subId, undefined, 'the /error route, not /:subId')
    // A route the app keeps on Fastify alone is not served by the lean path's looser /:subId pattern.
    const fastifyOnly = await both({ method: 'GET', path: '/parties/MSISDN/1/error' })
    assert.equal(fastifyOnly.answer.status, 418)
    assert.equal(fastifyOnly.viaFastify, true)
  })

  it('answers errors the same way: malformed JSON 3101, a thrown HubError, an unexpected failure logged as 2001', async () => {
    failures.length = 0
    const malformed = await both({ method: 'POST', path: '/transfers', headers: { 'content-type': FSPIOP }, body: '{"transferId":' })
    assert.equal(malformed.viaFastify, false)
    assert.equal(malformed.answer.status, 400)
    assert.equal(malformed.answer.contentType, 'application/json; charset=utf-8')
    assert.equal((JSON.parse(malformed.answer.body) as { errorInformation: { errorCode: string } }).errorInformation.errorCode, '3101')
    assert.equal(malformed.seen.length, 0, 'the handler never saw it')

    const thrown = await both({ method: 'POST', path: '/transfers', headers: { 'content-type': FSPIOP }, body: '{"fail":"hub"}' })
    assert.equal(thrown.answer.status, 400)
    assert.equal((JSON.parse(thrown.answer.body) as { errorInformation: { errorCode: string } }).errorInformation.errorCode, '3102')
    const permission = await both({ method: 'POST', path: '/transfers', headers: { 'content-type': FSPIOP }, body: '{"fail":"permission"}' })
    assert.equal((JSON.parse(permission.answer.body) as { errorInformation: { errorCode: string } }).errorInformation.errorCode, '4300')

    const crash = await both({ method: 'POST', path: '/transfers', headers: { 'content-type': FSPIOP }, body: '{"fail":"crash"}' })
    assert.equal(crash.answer.status, 500)
    assert.equal((JSON.parse(crash.answer.body) as { errorInformation: { errorCode: string } }).errorInformation.errorCode, '2001')
    assert.deepEqual(failures, ['/transfers a bug', '/transfers a bug'], 'logged on both paths')
  })

  it('leaves to Fastify what it does not read itself, with the same answers', async () => {
    const cases: Sent[] = [
      { method: 'POST', path: '/transfers', headers: { 'content-type': 'text/plain' }, body: 'hello' },
      { method: 'POST', path: '/transfers', headers: { 'content-type': 'text/plain' } },
      { method: 'POST', path: '/transfers', body: '{}' },
      { method: 'POST', path: '/transfers', headers: { 'content-type': FSPIOP }, body: JSON.stringify({ pad: 'x'.repeat(1_200) }) },
      { method: 'GET', path: '/parties/MSISDN/1', headers: { 'content-type': FSPIOP }, body: '{"a":1}' },
      { method: 'GET', path: '/nowhere' },
      { method: 'HEAD', path: '/parties/MSISDN/1' },
    ]
    for (const sent of cases) {
      const { viaFastify } = await both(sent)
      assert.equal(viaFastify, true, `${sent.method} ${sent.path} ${sent.headers?.['content-type'] ?? ''}`)
    }
    // A param past Fastify's maxParamLength: whichever path takes it, the answer is the same (`both` compares).
    await both({ method: 'PUT', path: `/transfers/${'x'.repeat(150)}`, headers: { 'content-type': FSPIOP }, body: '{}' })
  })

  it('reads a chunked body through Fastify with the same result', async () => {
    seen.length = 0
    const fastifyBefore = fastifyServed
    const answer = await send(port, { method: 'POST', path: '/transfers', headers: { 'content-type': FSPIOP, 'transfer-encoding': 'chunked' }, body: '{"transferId":"t-9"}', chunked: true })
    assert.equal(answer.status, 202)
    assert.equal(fastifyServed, fastifyBefore + 1)
    assert.equal(seen[0]?.rawBody, '{"transferId":"t-9"}')
  })

  it('reads a body that arrives in several packets', async () => {
    seen.length = 0
    const body = JSON.stringify({ transferId: 't-10', note: 'é'.repeat(300) })
    const answer = await new Promise<number>((resolve, reject) => {
      const request = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/transfers', headers: { 'content-type': FSPIOP, 'content-length': String(Buffer.byteLength(body)) } }, (response) => {
        response.resume()
        resolve(response.statusCode ?? 0)
      })
      request.on('error', reject)
      const bytes = Buffer.from(body)
      // Split inside a two-byte character: the text must still come out whole.
      request.write(bytes.subarray(0, 31))
      setTimeout(() => request.end(bytes.subarray(31)), 20)
    })
    assert.equal(answer, 202)
    assert.equal(seen[0]?.rawBody, body)
  })
})

describe('FSPIOP routes: closing', () => {
  it('answers a request the lean path is working on before the server closes, and refuses none it accepted', async () => {
    let entered: () => void = () => undefined
    const inHandler = new Promise<void>((resolve) => (entered = resolve))
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    const routes = new FspiopRoutes({ bodyLimit: 1_000, logFailure: () => undefined })
    const app = Fastify({ logger: false, return503OnClosing: true, serverFactory: routes.serverFactory() })
    routes.add('POST', '/transfers', async () => {
      entered()
      await gate
      return 202
    })
    routes.attach(app)
    const address = await app.listen({ host: '127.0.0.1', port: 0 })
    const answer = send(Number(new URL(address).port), { method: 'POST', path: '/transfers', headers: { 'content-type': FSPIOP }, body: '{"transferId":"t-1"}' })
    await inHandler
    const closed = app.close()
    release()
    assert.equal((await answer).status, 202)
    await closed
  })
})
