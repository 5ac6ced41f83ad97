// SPDX-License-Identifier: Apache-2.0
/**
 * The fetch sender against real HTTP servers on 127.0.0.1: what it sends, and how each kind of answer (or
 * silence) becomes a SendResult.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { createFetchSender, networkDetail, parseRetryAfter } from './http-sender.ts'
import type { DeliveryRequest } from './message.ts'

interface Received {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage['headers']
  readonly body: string
}

const TEST_TIMEOUT_MS = 60_000

async function listen(handler: (request: IncomingMessage, response: ServerResponse, body: string) => void): Promise<{ server: Server; base: string; received: Received[] }> {
  const received: Received[] = []
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body })
      handler(request, response, body)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received }
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections()
  server.close()
  await once(server, 'close')
}

function aRequest(url: string, overrides: Partial<DeliveryRequest> = {}): DeliveryRequest {
  return {
    id: 'm-1',
    destination: 'payeefsp',
    method: 'PUT',
    url,
    headers: {
      'content-type': 'application/vnd.interoperability.transfers+json;version=1.1',
      date: 'Thu, 01 Jan 2026 00:00:00 GMT',
      'fspiop-source': 'Hub',
      'fspiop-destination': 'payeefsp',
    },
    body: '{"transferState":"COMMITTED"}',
    correlation: 'transfers/1',
    attempt: 1,
    ...overrides,
  }
}

const never = new AbortController().signal

describe('createFetchSender', { timeout: TEST_TIMEOUT_MS }, () => {
  let ok: Awaited<ReturnType<typeof listen>>
  let statusServer: Awaited<ReturnType<typeof listen>>
  let silent: Awaited<ReturnType<typeof listen>>
  let chatty: Awaited<ReturnType<typeof listen>>
  let refusedUrl: string

  before(async () => {
    ok = await listen((_request, response) => response.writeHead(200).end())
    // /status/NNN answers NNN; /retry-after/S answers 503 with Retry-After: S.
    statusServer = await listen((request, response) => {
      const [, kind, value] = (request.url ?? '').split('/')
      if (kind === 'retry-after') response.writeHead(503, { 'retry-after': value ?? '' }).end()
      else if (kind === 'redirect') response.writeHead(302, { location: `${ok.base}/moved` }).end()
      else response.writeHead(Number(value)).end()
    })
    silent = await listen(() => undefined)
    chatty = await listen((_request, response) => response.writeHead(200).end('x'.repeat(1_000_000)))
    const closed = await listen(() => undefined)
    refusedUrl = `${closed.base}/transfers/1`
    await stop(closed.server)
  })

  after(async () => {
    await Promise.all([ok, statusServer, silent, chatty].map((s) => stop(s.server)))
  })

  it('sends the method, URL, headers and body as given, and reports 200', async () => {
    const send = createFetchSender()
    const result = await send(aRequest(`${ok.base}/transfers/1?x=1`), never)
    assert.deepEqual(result, { status: 200 })
    const got = ok.received.at(-1)
    assert.ok(got !== undefined)
    assert.equal(got.method, 'PUT')
    assert.equal(got.url, '/transfers/1?x=1')
    assert.equal(got.body, '{"transferState":"COMMITTED"}')
    assert.equal(got.headers['content-type'], 'application/vnd.interoperability.transfers+json;version=1.1')
    assert.equal(got.headers.date, 'Thu, 01 Jan 2026 00:00:00 GMT')
    assert.equal(got.headers['fspiop-source'], 'Hub')
    assert.equal(got.headers['content-length'], String(Buffer.byteLength('{"transferState":"COMMITTED"}')))
  })

  it('sends no body for a GET, and leaves out headers fetch must compute', async () => {
    const send = createFetchSender()
    const request = aRequest(`${ok.base}/parties/MSISDN/123`, { method: 'GET', body: null, headers: { accept: 'application/json', 'Content-Length': '999', host: 'elsewhere' } })
    assert.deepEqual(await send(request, never), { status: 200 })
    const got = ok.received.at(-1)
    assert.equal(got?.method, 'GET')
    assert.equal(got?.body, '')
    assert.equal(got?.headers.host, new URL(ok.base).host)
    assert.equal(got?.headers['content-length'], undefined)
  })

  for (const status of [202, 204, 400, 404, 429, 500, 503]) {
    it(`reports status ${status} as it came`, async () => {
      assert.deepEqual(await createFetchSender()(aRequest(`${statusServer.base}/status/${status}`), never), { status })
    })
  }

  it('does not follow a redirect: the 302 itself is the result', async () => {
    const before = ok.received.length
    assert.deepEqual(await createFetchSender()(aRequest(`${statusServer.base}/redirect/x`), never), { status: 302 })
    assert.equal(ok.received.length, before)
  })

  it('passes Retry-After on as a delay', async () => {
    assert.deepEqual(await createFetchSender()(aRequest(`${statusServer.base}/retry-after/7`), never), { status: 503, retryAfterMs: 7_000 })
  })

  it('reports a refused connection as a network error naming the code', async () => {
    assert.deepEqual(await createFetchSender()(aRequest(refusedUrl), never), { error: 'network', detail: 'ECONNREFUSED' })
  })

  it('reports a participant that never answers as a timeout, after its own timeout', async () => {
    const startedMs = performance.now()
    assert.deepEqual(await createFetchSender({ timeoutMs: 200 })(aRequest(`${silent.base}/transfers/1`), never), { error: 'timeout' })
    assert.ok(performance.now() - startedMs >= 150)
  })

  it("stops when the outbox's signal aborts, and reports a timeout", async () => {
    const controller = new AbortController()
    const pending = createFetchSender({ timeoutMs: 600_000 })(aRequest(`${silent.base}/transfers/1`), controller.signal)
    setTimeout(() => controller.abort(), 50)
    assert.deepEqual(await pending, { error: 'timeout' })
  })

  it("gives up at once when the outbox's signal has already aborted", async () => {
    const controller = new AbortController()
    controller.abort()
    const startedMs = performance.now()
    assert.deepEqual(await createFetchSender({ timeoutMs: 600_000 })(aRequest(`${silent.base}/transfers/1`), controller.signal), { error: 'timeout' })
    assert.ok(performance.now() - startedMs < 1_000)
  })

  it('reads a long response body only up to its limit', async () => {
    assert.deepEqual(await createFetchSender({ responseBytesMax: 1_024 })(aRequest(`${chatty.base}/transfers/1`), never), { status: 200 })
    assert.deepEqual(await createFetchSender()(aRequest(`${chatty.base}/transfers/1`), never), { status: 200 })
  })
})

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 0, 1, 0, 0, 0)
  it('reads delta-seconds and HTTP dates, and ignores what it cannot read', () => {
    assert.equal(parseRetryAfter(null, now), undefined)
    assert.equal(parseRetryAfter('0', now), 0)
    assert.equal(parseRetryAfter(' 120 ', now), 120_000)
    assert.equal(parseRetryAfter('999999999', now), 86_400_000)
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000)
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now), 0)
    assert.equal(parseRetryAfter('soon', now), undefined)
    assert.equal(parseRetryAfter('-5', now), undefined)
    assert.equal(parseRetryAfter('1.5', now), undefined)
  })
})

describe('networkDetail', () => {
  it("names the cause's code, else its name, and never a message", () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
    assert.equal(networkDetail(new TypeError('fetch failed', { cause: refused })), 'ECONNREFUSED')
    assert.equal(networkDetail(new TypeError('fetch failed')), 'TypeError')
    assert.equal(networkDetail('text'), 'unknown')
  })
})
