// SPDX-License-Identifier: Apache-2.0
/**
 * The ledger's writes to a SQLite file, on a thread of their own. node:sqlite runs statements and the
 * commit's fsync on the calling thread; with a writer thread the main thread validates the next batch while
 * this one is being written and made durable, so the ledger uses both cores. Only BatchingLedger writes
 * through it; every other store user keeps the ordinary SqliteClient, whose semantics do not change.
 *
 * A second connection means SQLite's own data_version no longer tells the ledger who wrote what (the main
 * connection's commits of other tables would count as foreign). So each ledger batch, on either path,
 * increments ledger_epoch (migration 008), and the writer thread refuses a batch when the epoch is not the
 * one its own last commit left: someone else changed ledger rows, and the main thread must read again.
 */
import type { EventLoopUtilization } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import { transferables, type PackedWrites } from './packed-writes.ts'
import type { WriterReply, WriterRequest } from './sqlite-ledger-worker.ts'

const WORKER_FILE = new URL('./sqlite-ledger-worker.ts', import.meta.url)

/** When the thread writes account rows back (sqlite-ledger-worker.ts); the defaults suit a busy ledger. */
export interface WriteBackPolicy {
  /** At most this many commits in a row leave account rows behind (1: every commit writes them). */
  readonly commits: number
  /** With no batch for this long (ms), the rows kept are written back in a commit of their own. */
  readonly idleMs: number
}

export const WRITE_BACK_DEFAULTS: WriteBackPolicy = { commits: 8, idleMs: 20 }

export class SqliteLedgerWriter {
  readonly #path: string
  readonly #busyTimeoutMs: number
  #worker: Worker | null = null
  readonly #waiting = new Map<number, (reply: WriterReply) => void>()
  #seq = 0
  #cpuUs = 0

  readonly #writeBack: WriteBackPolicy

  constructor(path: string, writeBack: WriteBackPolicy, busyTimeoutMs = 5_000) {
    this.#path = path
    this.#writeBack = writeBack
    this.#busyTimeoutMs = busyTimeoutMs
  }

  /**
   * Hands one validated batch to the thread; resolves once it has committed (ok) or was refused. The packed
   * rows' buffers move to the thread: `writes` is unusable here afterwards. `writeBack`: the batch creates
   * accounts or sets limits, so every account row is written in its commit (sqlite-ledger-worker.ts).
   */
  write(generation: number, syncEpoch: bigint | null, writeBack: boolean, writes: PackedWrites): Promise<WriterReply> {
    const worker = this.#start()
    const seq = (this.#seq += 1)
    return this.#send(worker, { kind: 'batch', seq, generation, syncEpoch, writeBack, writes }, transferables(writes))
  }

  #send(worker: Worker, request: WriterRequest, transfer: readonly ArrayBuffer[] = []): Promise<WriterReply> {
    return new Promise<WriterReply>((resolve) => {
      // While a request is in flight the thread keeps the process alive; when idle it does not.
      if (this.#waiting.size === 0) worker.ref()
      this.#waiting.set(request.seq, resolve)
      worker.postMessage(request, transfer)
    })
  }

  /** The thread's event-loop utilisation since it started (see performance.eventLoopUtilization); null before. */
  utilization(): EventLoopUtilization | null {
    return this.#worker === null ? null : this.#worker.performance.eventLoopUtilization()
  }

  /** CPU time (µs) the thread had used when it last answered; 0 before. */
  cpuUs(): number {
    return this.#cpuUs
  }

  /**
   * Waits for the batches in flight, has the account rows kept on the thread written back (so that a clean
   * stop leaves no journal tail to replay), then ends the thread (and its connection).
   */
  async close(): Promise<void> {
    const worker = this.#worker
    if (worker === null) return
    while (this.#waiting.size > 0) await new Promise((resolve) => setImmediate(resolve))
    await this.#send(worker, { kind: 'flush', seq: (this.#seq += 1) })
    this.#worker = null
    await worker.terminate()
  }

  #start(): Worker {
    if (this.#worker !== null) return this.#worker
    const worker = new Worker(WORKER_FILE, { workerData: { path: this.#path, busyTimeoutMs: this.#busyTimeoutMs, writeBack: this.#writeBack } })
    worker.unref()
    worker.on('message', (reply: WriterReply) => {
      if (reply.cpuUs !== undefined) this.#cpuUs = reply.cpuUs
      const resolve = this.#waiting.get(reply.seq)
      this.#waiting.delete(reply.seq)
      if (this.#waiting.size === 0) worker.unref()
      resolve?.(reply)
    })
    const fail = (message: string): void => {
      // The thread is gone: nothing it had not answered was acknowledged. The next write starts a new one.
      if (this.#worker === worker) this.#worker = null
      for (const [seq, resolve] of this.#waiting) resolve({ seq, ok: false, reason: 'error', message })
      this.#waiting.clear()
    }
    worker.on('error', (error) => fail(`ledger writer thread failed: ${error.message}`))
    worker.on('exit', (code) => fail(`ledger writer thread exited (${code})`))
    this.#worker = worker
    return worker
  }
}
