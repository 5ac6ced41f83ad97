// SPDX-License-Identifier: Apache-2.0
/**
 * For sender-thread.test.ts only: the real sender thread, which ends itself on an attempt whose URL has
 * /crash in it, as a thread would that ran out of memory or met a bug, before the attempt is answered.
 */
import { parentPort } from 'node:worker_threads'
import type { SenderRequest } from './sender-worker.ts'

// Registered before the real thread's listener, so it runs first for the same message.
parentPort?.on('message', (message: SenderRequest) => {
  if (message.kind === 'send' && message.request.url.includes('/crash')) process.exit(3)
})
await import('./sender-worker.ts')
