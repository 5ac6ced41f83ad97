// SPDX-License-Identifier: Apache-2.0
/**
 * The outbox's HTTP attempts on a thread of their own (sender-worker.ts runs createHttpSender there). The
 * switch's main thread is its bottleneck: under the transfer phase it is ~95 % busy while the second core is
 * partly idle, and an attempt's client work (undici, the socket write, reading the answer) costs it ~30 µs
 * where handing the attempt to a thread and taking its result back costs ~5 µs. The outbox itself, its claims
 * and outcomes, stays on the main thread with the store; the thread only sends, so nothing durable moves.
 *
 * If the thread fails, every attempt it had not answered ends as a network error, which the outbox retries
 * like any other (at least once, as always), and the next attempt starts a new thread.
 */
import { Worker } from 'node:worker_threads'
import type { FetchSenderOptions } from './http-sender.ts'
import type { DeliveryRequest } from './message.ts'
import type { Sender } from './outbox.ts'
import type { SendResult } from './retry-policy.ts'
import type { SenderReply, SenderRequest } from './sender-worker.ts'

const WORKER_FILE = new URL('./sender-worker.ts', import.meta.url)

export interface SenderThreadOptions extends FetchSenderOptions {
  /** The thread's module; only tests give another. */
  readonly workerFile?: URL
}

export class SenderThread {
  /** The outbox's Sender: one attempt, sent by the thread. */
  readonly send: Sender
  readonly #options: FetchSenderOptions
  readonly #workerFile: URL
  #worker: Worker | null = null
  readonly #waiting = new Map<number, (result: SendResult) => void>()
  #seq = 0
  #closed = false

  constructor(options: SenderThreadOptions = {}) {
    const { workerFile, ...senderOptions } = options
    this.#options = senderOptions
    this.#workerFile = workerFile ?? WORKER_FILE
    this.send = (request, signal) => this.#send(request, signal)
  }

  /** Ends the thread; an attempt still unanswered ends as a network error. Later attempts fail the same way. */
  async close(): Promise<void> {
    this.#closed = true
    const worker = this.#worker
    if (worker === null) return
    await worker.terminate()
  }

  #send(request: DeliveryRequest, signal: AbortSignal): Promise<SendResult> {
    if (this.#closed) return Promise.resolve({ error: 'network', detail: 'sender closed' })
    if (signal.aborted) return Promise.resolve({ error: 'timeout' })
    const worker = this.#start()
    const seq = (this.#seq += 1)
    return new Promise<SendResult>((resolve) => {
      const onAbort = (): void => worker.postMessage({ kind: 'abort', seq } satisfies SenderRequest)
      signal.addEventListener('abort', onAbort, { once: true })
      // While an attempt is out the thread keeps the process alive, as the attempt's socket would; idle, it does not.
      if (this.#waiting.size === 0) worker.ref()
      this.#waiting.set(seq, (result) => {
        signal.removeEventListener('abort', onAbort)
        resolve(result)
      })
      worker.postMessage({ kind: 'send', seq, request } satisfies SenderRequest)
    })
  }

  #start(): Worker {
    if (this.#worker !== null) return this.#worker
    const worker = new Worker(this.#workerFile, { workerData: { options: this.#options } })
    worker.unref()
    worker.on('message', (reply: SenderReply) => {
      const resolve = this.#waiting.get(reply.seq)
      this.#waiting.delete(reply.seq)
      if (this.#waiting.size === 0) worker.unref()
      resolve?.(reply.result)
    })
    worker.on('error', () => this.#fail(worker, 'sender thread failed'))
    worker.on('exit', () => this.#fail(worker, 'sender thread exited'))
    this.#worker = worker
    return worker
  }

  /** The thread is gone: what it had not answered ends as a network error, and the next attempt starts a new one. */
  #fail(worker: Worker, detail: string): void {
    if (this.#worker !== worker) return
    this.#worker = null
    for (const resolve of this.#waiting.values()) resolve({ error: 'network', detail: this.#closed ? 'sender closed' : detail })
    this.#waiting.clear()
  }
}
