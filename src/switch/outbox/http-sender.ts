// SPDX-License-Identifier: Apache-2.0
/**
 * The default outbox sender: one HTTP request per attempt through Node's global fetch (undici inside), with
 * a timeout. Redirects are not followed (FSPIOP: 3xx must not be retried, and the outbox counts one as a
 * refusal). The response body is read and dropped, up to a small limit, so the connection can be reused;
 * FSPIOP answers callbacks with an empty body, and nothing of a body is reported or logged.
 */
import type { DeliveryRequest } from './message.ts'
import type { Sender } from './outbox.ts'
import type { SendResult } from './retry-policy.ts'

export interface FetchSenderOptions {
  /** Real time after which the attempt is abandoned, response body included. Default 10 s. */
  readonly timeoutMs?: number
  /** Bytes of response body read to keep the connection reusable; past this it is cancelled. Default 64 KiB. */
  readonly responseBytesMax?: number
}

/** fetch computes these itself, or they describe one connection only and must not be copied. */
const HEADERS_FETCH_OWNS = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade'])

export function createFetchSender(options: FetchSenderOptions = {}): Sender {
  const timeoutMs = options.timeoutMs ?? 10_000
  const responseBytesMax = options.responseBytesMax ?? 65_536
  return async (request: DeliveryRequest, signal: AbortSignal): Promise<SendResult> => {
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])
    try {
      const response = await fetch(request.url, {
        method: request.method,
        headers: outgoingHeaders(request.headers),
        body: request.body,
        redirect: 'manual',
        signal: deadline,
      })
      await drain(response, responseBytesMax)
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now())
      return retryAfterMs === undefined ? { status: response.status } : { status: response.status, retryAfterMs }
    } catch (error) {
      // Both abort sources are deadlines: the outbox's attempt timeout and this sender's own.
      if (deadline.aborted) return { error: 'timeout' }
      return { error: 'network', detail: networkDetail(error) }
    }
  }
}

function outgoingHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) if (!HEADERS_FETCH_OWNS.has(name.toLowerCase())) out[name] = value
  return out
}

async function drain(response: Response, bytesMax: number): Promise<void> {
  if (response.body === null) return
  const reader = response.body.getReader()
  let bytes = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return
    bytes += value.byteLength
    if (bytes > bytesMax) {
      await reader.cancel()
      return
    }
  }
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
