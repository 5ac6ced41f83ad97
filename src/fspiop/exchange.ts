// SPDX-License-Identifier: Apache-2.0
/**
 * One HTTP exchange on an undici dispatcher with a handler of its own, for the FSPIOP messages Kivuko sends
 * (the switch's callbacks, a DFSP's requests and callbacks to the switch). undici's `request` builds a
 * readable stream for every response body and wraps the exchange in promises and signals: about a sixth of
 * a sender's CPU per message, for answers that are an empty 200/202 nearly always. Redirects are not
 * followed (FSPIOP: a 3xx is an answer, never a place to go). The body is kept up to a limit when asked
 * (a synchronous refusal carries errorInformation); past the limit the exchange ends with the status known
 * and the connection dropped, not read to its end. One deadline covers the whole exchange, body included.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'

export interface ExchangeRequest {
  readonly url: string
  readonly method: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | null
}

export type ExchangeResult =
  | { readonly status: number; readonly headers: IncomingHttpHeaders; readonly body: string | undefined }
  | { readonly error: 'timeout' | 'network'; readonly detail: string }

export interface ExchangeOptions {
  /** Real time after which the exchange is abandoned, response body included. */
  readonly timeoutMs: number
  /** Bytes of response body read; past this the exchange ends with the status and no body. */
  readonly responseBytesMax: number
  /** Whether the caller wants the body's text (else it is read and dropped, for the connection's sake). */
  readonly keepBody: boolean
  /** A second deadline of the caller's: when it fires the exchange ends as a timeout too. */
  readonly signal?: AbortSignal
}

/** The HTTP client computes these itself, or they describe one connection only and must not be copied. */
const HEADERS_CLIENT_OWNS = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade'])

export function exchange(dispatcher: Dispatcher, request: ExchangeRequest, options: ExchangeOptions): Promise<ExchangeResult> {
  return new Promise<ExchangeResult>((resolve) => {
    const signal = options.signal
    let settled = false
    let timedOut = signal?.aborted === true
    let controller: Dispatcher.DispatchController | undefined
    let status: number | undefined
    let headers: IncomingHttpHeaders = {}
    const chunks: Buffer[] = []
    let bodyBytes = 0
    const finish = (result: ExchangeResult): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onDeadline)
      resolve(result)
    }
    const answered = (withBody: boolean): ExchangeResult => {
      if (status === undefined) return { error: 'network', detail: 'no status' }
      if (!withBody || !options.keepBody || chunks.length === 0) return { status, headers, body: withBody && options.keepBody ? '' : undefined }
      return { status, headers, body: chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8') }
    }
    // Either deadline ends the exchange as a timeout.
    const onDeadline = (): void => {
      timedOut = true
      controller?.abort(new DOMException('the exchange took too long', 'TimeoutError'))
      finish({ error: 'timeout', detail: `no answer in ${options.timeoutMs} ms` })
    }
    const timer = setTimeout(onDeadline, options.timeoutMs)
    if (timedOut) return onDeadline()
    signal?.addEventListener('abort', onDeadline, { once: true })
    let url: URL
    try {
      url = new URL(request.url)
    } catch (error) {
      return finish({ error: 'network', detail: networkDetail(error) })
    }
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(started) {
        controller = started
        if (timedOut) started.abort(new DOMException('the exchange took too long', 'TimeoutError'))
      },
      onResponseStart(_controller, statusCode, responseHeaders) {
        // 1xx answers are interim; the status that counts comes after them.
        if (statusCode < 200) return
        status = statusCode
        headers = responseHeaders
      },
      onResponseData(started, chunk) {
        bodyBytes += chunk.length
        if (bodyBytes <= options.responseBytesMax) {
          if (options.keepBody && status !== undefined) chunks.push(chunk)
          return
        }
        if (status === undefined) return
        // Enough read: the answer is known, and the rest is not worth the connection.
        finish(answered(false))
        started.abort(new Error('response body over the limit'))
      },
      onResponseEnd() {
        finish(answered(true))
      },
      onResponseError(_controller, error) {
        finish(timedOut ? { error: 'timeout', detail: `no answer in ${options.timeoutMs} ms` } : { error: 'network', detail: networkDetail(error) })
      },
    }
    try {
      dispatcher.dispatch({ origin: url.origin, path: `${url.pathname}${url.search}`, method: request.method as Dispatcher.HttpMethod, headers: outgoingHeaders(request.headers), body: request.body }, handler)
    } catch (error) {
      finish({ error: 'network', detail: networkDetail(error) })
    }
  })
}

function outgoingHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name in headers) if (!HEADERS_CLIENT_OWNS.has(name.toLowerCase())) out[name] = headers[name] as string
  return out
}

/** The error's code (ECONNREFUSED, UND_ERR_SOCKET, …) or its name: enough to act on, never a body. */
export function networkDetail(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error
  const code = (cause as { code?: unknown } | null)?.code
  if (typeof code === 'string' && code.length > 0) return code
  return cause instanceof Error ? cause.name : 'unknown'
}
