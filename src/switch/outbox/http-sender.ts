// SPDX-License-Identifier: Apache-2.0
/**
 * The default outbox sender: one HTTP request per attempt on a keep-alive pool of its own, with a timeout.
 * It dispatches through undici's Agent with a handler of its own rather than `request`: a callback needs
 * only the status (and Retry-After), and `request` builds a readable stream for every response body and
 * wraps the attempt in promises and signals, about a sixth of the sender's CPU per callback. (It used fetch
 * before, whose WHATWG streams and headers cost about twice as much again.) Redirects are not followed
 * (FSPIOP: 3xx must not be retried, and the outbox counts one as a refusal). The response body is read and
 * dropped, up to a small limit, so the connection can be reused; FSPIOP answers callbacks with an empty
 * body, and nothing of a body is reported or logged.
 */
import { Agent, type Dispatcher } from 'undici'
import type { DeliveryRequest } from './message.ts'
import type { Sender } from './outbox.ts'
import type { SendResult } from './retry-policy.ts'

export interface FetchSenderOptions {
  /** Real time after which the attempt is abandoned, response body included. Default 10 s. */
  readonly timeoutMs?: number
  /** Bytes of response body read to keep the connection reusable; past this it is cancelled. Default 64 KiB. */
  readonly responseBytesMax?: number
}

/** The HTTP client computes these itself, or they describe one connection only and must not be copied. */
const HEADERS_CLIENT_OWNS = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade'])

/** One pool per process: connections to each participant are kept alive and shared by every sender. */
let sharedAgent: Agent | undefined

export function createHttpSender(options: FetchSenderOptions = {}): Sender {
  const timeoutMs = options.timeoutMs ?? 10_000
  const responseBytesMax = options.responseBytesMax ?? 65_536
  const dispatcher = (sharedAgent ??= new Agent({ keepAliveTimeout: 30_000 }))
  return (request: DeliveryRequest, signal: AbortSignal): Promise<SendResult> =>
    new Promise<SendResult>((resolve) => {
      let settled = false
      let timedOut = signal.aborted
      let controller: Dispatcher.DispatchController | undefined
      let status: number | undefined
      let retryAfterMs: number | undefined
      let bodyBytes = 0
      const finish = (result: SendResult): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        signal.removeEventListener('abort', onDeadline)
        resolve(result)
      }
      // Either deadline, the outbox's attempt timeout or this sender's own, ends the exchange as a timeout.
      const onDeadline = (): void => {
        timedOut = true
        controller?.abort(new DOMException('the callback took too long', 'TimeoutError'))
        finish({ error: 'timeout' })
      }
      const timer = setTimeout(onDeadline, timeoutMs)
      if (timedOut) return onDeadline()
      signal.addEventListener('abort', onDeadline, { once: true })
      let url: URL
      try {
        url = new URL(request.url)
      } catch (error) {
        return finish({ error: 'network', detail: networkDetail(error) })
      }
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(started) {
          controller = started
          if (timedOut) started.abort(new DOMException('the callback took too long', 'TimeoutError'))
        },
        onResponseStart(_controller, statusCode, headers) {
          // 1xx answers are interim; the status that counts comes after them.
          if (statusCode < 200) return
          status = statusCode
          const retryAfter = headers['retry-after']
          retryAfterMs = parseRetryAfter(Array.isArray(retryAfter) ? (retryAfter[0] ?? null) : (retryAfter ?? null), Date.now())
        },
        onResponseData(started, chunk) {
          bodyBytes += chunk.length
          if (bodyBytes <= responseBytesMax || status === undefined) return
          // Enough read: the answer is known, and the rest is not worth the connection.
          finish(resultOf(status, retryAfterMs))
          started.abort(new Error('response body over the limit'))
        },
        onResponseEnd() {
          finish(status === undefined ? { error: 'network', detail: 'no status' } : resultOf(status, retryAfterMs))
        },
        onResponseError(_controller, error) {
          finish(timedOut ? { error: 'timeout' } : { error: 'network', detail: networkDetail(error) })
        },
      }
      try {
        dispatcher.dispatch(
          { origin: url.origin, path: `${url.pathname}${url.search}`, method: request.method, headers: outgoingHeaders(request.headers), body: request.body ?? null },
          handler,
        )
      } catch (error) {
        finish({ error: 'network', detail: networkDetail(error) })
      }
    })
}

function resultOf(status: number, retryAfterMs: number | undefined): SendResult {
  return retryAfterMs === undefined ? { status } : { status, retryAfterMs }
}

/** The name this sender had when it used fetch; the same sender. */
export const createFetchSender = createHttpSender

function outgoingHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name in headers) if (!HEADERS_CLIENT_OWNS.has(name.toLowerCase())) out[name] = headers[name] as string
  return out
}

/** The error's code (ECONNREFUSED, UND_ERR_SOCKET, …) or its name: enough for an operator, never a body. */
export function networkDetail(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error
  const code = (cause as { code?: unknown } | null)?.code
  if (typeof code === 'string' && code.length > 0) return code
  return cause instanceof Error ? cause.name : 'unknown'
}

/** Retry-After as a delay in ms: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Math.min(Number(text), 86_400) * 1_000
  const atMs = Date.parse(text)
  if (Number.isNaN(atMs) || !/[A-Za-z]/.test(text)) return undefined
  return Math.max(0, atMs - nowMs)
}
