// SPDX-License-Identifier: Apache-2.0
/**
 * The default outbox sender: one HTTP exchange per attempt (src/fspiop/exchange.ts: undici's dispatcher with a
 * handler of its own, no redirects) on a keep-alive pool shared by the process, with a timeout. A callback
 * needs only the status (and Retry-After): the response body is read and dropped, up to a small limit, so
 * the connection can be reused; FSPIOP answers callbacks with an empty body, and nothing of a body is
 * reported or logged. A 3xx counts as a refusal (FSPIOP: it must not be followed or retried).
 */
import { Agent } from 'undici'
import { exchange, networkDetail } from '../../fspiop/exchange.ts'
import type { DeliveryRequest } from './message.ts'
import type { Sender } from './outbox.ts'
import type { SendResult } from './retry-policy.ts'

export { networkDetail }

export interface FetchSenderOptions {
  /** Real time after which the attempt is abandoned, response body included. Default 10 s. */
  readonly timeoutMs?: number
  /** Bytes of response body read to keep the connection reusable; past this it is cancelled. Default 64 KiB. */
  readonly responseBytesMax?: number
}

/** One pool per process: connections to each participant are kept alive and shared by every sender. */
let sharedAgent: Agent | undefined

export function createHttpSender(options: FetchSenderOptions = {}): Sender {
  const timeoutMs = options.timeoutMs ?? 10_000
  const responseBytesMax = options.responseBytesMax ?? 65_536
  const dispatcher = (sharedAgent ??= new Agent({ keepAliveTimeout: 30_000 }))
  return async (request: DeliveryRequest, signal: AbortSignal): Promise<SendResult> => {
    const result = await exchange(dispatcher, { url: request.url, method: request.method, headers: request.headers, body: request.body ?? null }, { timeoutMs, responseBytesMax, keepBody: false, signal })
    if ('error' in result) return result.error === 'timeout' ? { error: 'timeout' } : { error: 'network', detail: result.detail }
    const retryAfter = result.headers['retry-after']
    const retryAfterMs = parseRetryAfter(Array.isArray(retryAfter) ? (retryAfter[0] ?? null) : (retryAfter ?? null), Date.now())
    return retryAfterMs === undefined ? { status: result.status } : { status: result.status, retryAfterMs }
  }
}

/** The name this sender had when it used fetch; the same sender. */
export const createFetchSender = createHttpSender

/** Retry-After as a delay in ms: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Math.min(Number(text), 86_400) * 1_000
  const atMs = Date.parse(text)
  if (Number.isNaN(atMs) || !/[A-Za-z]/.test(text)) return undefined
  return Math.max(0, atMs - nowMs)
}
