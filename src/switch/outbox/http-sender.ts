// SPDX-License-Identifier: Apache-2.0
/**
 * The default outbox sender: one HTTP request per attempt through undici's `request` on a keep-alive pool
 * of its own, with a timeout. (It used fetch, whose WHATWG streams and headers cost about twice the CPU per
 * callback; the switch sends several per transfer.) Redirects are not followed (FSPIOP: 3xx must not be
 * retried, and the outbox counts one as a refusal). The response body is read and dropped, up to a small
 * limit, so the connection can be reused; FSPIOP answers callbacks with an empty body, and nothing of a body
 * is reported or logged.
 */
import { Agent, request as undiciRequest } from 'undici'
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
  return async (request: DeliveryRequest, signal: AbortSignal): Promise<SendResult> => {
    // One controller that either deadline aborts: AbortSignal.any with AbortSignal.timeout costs a composite
    // signal, a weakly held timer and their bookkeeping per attempt, several callbacks per transfer.
    const controller = new AbortController()
    const deadline = controller.signal
    const abort = (): void => controller.abort(signal.reason)
    if (signal.aborted) abort()
    else signal.addEventListener('abort', abort, { once: true })
    const timer = setTimeout(() => controller.abort(new DOMException('the callback took too long', 'TimeoutError')), timeoutMs)
    try {
      const response = await undiciRequest(request.url, {
        method: request.method,
        headers: outgoingHeaders(request.headers),
        body: request.body ?? null,
        signal: deadline,
        dispatcher,
      })
      await response.body.dump({ limit: responseBytesMax, signal: deadline })
      const retryAfter = response.headers['retry-after']
      const retryAfterMs = parseRetryAfter(Array.isArray(retryAfter) ? (retryAfter[0] ?? null) : (retryAfter ?? null), Date.now())
      return retryAfterMs === undefined ? { status: response.statusCode } : { status: response.statusCode, retryAfterMs }
    } catch (error) {
      // Both abort sources are deadlines: the outbox's attempt timeout and this sender's own.
      if (deadline.aborted) return { error: 'timeout' }
      return { error: 'network', detail: networkDetail(error) }
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', abort)
    }
  }
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
