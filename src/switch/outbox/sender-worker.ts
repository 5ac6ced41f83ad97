// SPDX-License-Identifier: Apache-2.0
/**
 * The outbox's sender thread (see sender-thread.ts): each attempt the main thread hands over is sent with
 * createHttpSender, on this thread's own keep-alive pool, and its SendResult handed back. An abort from the
 * main thread (the outbox's attempt deadline) ends the attempt as a timeout, as it would in process.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { createHttpSender, type FetchSenderOptions } from './http-sender.ts'
import type { DeliveryRequest } from './message.ts'
import type { SendResult } from './retry-policy.ts'

export type SenderRequest = { readonly kind: 'send'; readonly seq: number; readonly request: DeliveryRequest } | { readonly kind: 'abort'; readonly seq: number }

export interface SenderReply {
  readonly seq: number
  readonly result: SendResult
}

if (parentPort === null) throw new Error('sender-worker runs as a worker thread')
const port = parentPort
const send = createHttpSender((workerData as { options: FetchSenderOptions }).options)
const attempts = new Map<number, AbortController>()

port.on('message', (message: SenderRequest) => {
  if (message.kind === 'abort') {
    attempts.get(message.seq)?.abort()
    return
  }
  const controller = new AbortController()
  attempts.set(message.seq, controller)
  void send(message.request, controller.signal)
    .catch((): SendResult => ({ error: 'network', detail: 'sender failed' }))
    .then((result) => {
      attempts.delete(message.seq)
      port.postMessage({ seq: message.seq, result } satisfies SenderReply)
    })
})
