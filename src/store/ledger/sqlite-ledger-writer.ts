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

export class SqliteLedgerWriter {
  readonly #path: string
  readonly #busyTimeoutMs: number
  #worker: Worker | null = null
  readonly #waiting = new Map<number, (reply: WriterReply) => void>()
  #seq = 0
  #cpuUs = 0

  constructor(path: string, busyTimeoutMs = 5_000) {
    this.#path = path
    this.#busyTimeoutMs = busyTimeoutMs
  }

  /**
   * Hands one validated batch to the thread; resolves once it has committed (ok) or was refused. The packed
   * rows' buffers move to the thread: `writes` is unusable here afterwards. `writeBack`: the batch carries
   * every account row the journal's tail touched, and its commit makes the rows current (sqlite-ledger-worker.ts).
   */
  write(generation: number, syncEpoch: bigint | null, writeBack: boolean, writes: PackedWrites): Promise<WriterReply> {
    const worker = this.#start()
    const seq = (this.#seq += 1)
    const request: WriterRequest = { seq, generation, syncEpoch, writeBack, writes }
    return new Promise<WriterReply>((resolve) => {
      // While a batch is in flight the thread keeps the process alive; when idle it does not.
      if (this.#waiting.size === 0) worker.ref()
      this.#waiting.set(seq, resolve)
      worker.postMessage(request, transferables(writes))
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

  /** Waits for the batches in flight, then ends the thread (and its connection). */
  async close(): Promise<void> {
    const worker = this.#worker
    if (worker === null) return
    while (this.#waiting.size > 0) await new Promise((resolve) => setImmediate(resolve))
    this.#worker = null
    await worker.terminate()
  }

  #start(): Worker {
    if (this.#worker !== null) return this.#worker
    const worker = new Worker(WORKER_FILE, { workerData: { path: this.#path, busyTimeoutMs: this.#busyTimeoutMs } })
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
