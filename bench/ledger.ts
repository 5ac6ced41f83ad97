// SPDX-License-Identifier: Apache-2.0
/**
 * `npm run bench:ledger`: two-phase transfers (reserve, then post) per second through the real ledger,
 * in process, durable (SQLite synchronous=FULL in WAL mode; PostgreSQL synchronous_commit=on), with
 * latency per operation and the batch sizes group commit formed. PostgreSQL runs when
 * KIVUKO_BENCH_POSTGRES_URL (or KIVUKO_TEST_POSTGRES_URL) is set. BENCH_QUICK=1 runs a short version.
 * BENCH_WRITE_BACK_BATCHES sets how many batches in a row may leave the account rows behind the journal
 * (the ledger's default is 16; see BatchingLedger's WriteBackPolicy).
 * The last line is one JSON object with the figures.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BatchingLedger } from '../src/store/ledger/batching-ledger.ts'
import { checkLedger } from '../src/store/ledger/ledger-check.ts'
import { migrate } from '../src/store/migrate.ts'
import { openStore, type Store } from '../src/store/open-store.ts'
import { PostgresClient, quoteIdent } from '../src/store/postgres/postgres-client.ts'
import type { TransferInput } from '../src/ledger/types.ts'

const QUICK = process.env.BENCH_QUICK === '1'
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? (QUICK ? 4_000 : 15_000))
const SUBMIT_SIZE = Number(process.env.BENCH_SUBMIT_SIZE ?? 100)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? Math.max(1, Math.ceil(8_000 / SUBMIT_SIZE)))
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 10_000)
const BATCH_MAX = Number(process.env.BENCH_BATCH_MAX ?? 8_000)
/** BENCH_WRITER_THREAD=0 runs SQLite batches on the main thread, as before the writer thread. */
const WRITER_THREAD = process.env.BENCH_WRITER_THREAD !== '0'
const POSTGRES_URL = process.env.KIVUKO_BENCH_POSTGRES_URL ?? process.env.KIVUKO_TEST_POSTGRES_URL

interface Figures {
  bench: 'ledger'
  store: 'sqlite' | 'postgres'
  perSec: number
  opsPerSec: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
  transferP50Ms: number
  transferP99Ms: number
  batchMean: number
  batchP50: number
  batchMax: number
  commitP50Ms: number
  commitP99Ms: number
  transfers: number
  concurrency: number
  submitSize: number
  accounts: number
  /** RSS of the process (both threads) at the end of the measured window. */
  rssMb: number
  /** CPU time of the whole process (both threads) per two-phase transfer, in µs: comparable on a busy machine. */
  cpuUsPerTransfer: number
  /** Event-loop utilisation (0..1) of the main thread and of the ledger's writer thread during the run. */
  mainBusy: number
  writerBusy: number | null
  /** CPU time of the main thread and of the writer thread per two-phase transfer, in µs: where the ceiling is. */
  mainUsPerTransfer: number
  writerUsPerTransfer: number | null
  checkOk: boolean
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

const round2 = (n: number): number => Math.round(n * 100) / 100

async function runOn(kind: 'sqlite' | 'postgres', store: Store): Promise<Figures> {
  await migrate(store)
  const batchSizes: number[] = []
  const commitMs: number[] = []
  let recording = false
  const ledger = new BatchingLedger(store, {
    batchEventsMax: BATCH_MAX,
    ...(process.env.BENCH_WRITE_BACK_BATCHES === undefined ? {} : { accountsWriteBack: { batches: Number(process.env.BENCH_WRITE_BACK_BATCHES) } }),
    writerThread: WRITER_THREAD,
    onBatch: (events, durationMs) => {
      if (!recording) return
      batchSizes.push(events)
      commitMs.push(durationMs)
    },
  })
  const accountIds = Array.from({ length: ACCOUNTS }, (_, i) => `bench:wallet:${i}`)
  await ledger.createAccounts([
    { id: 'bench:funding', currency: 'USD', code: 'FUNDING' },
    ...accountIds.map((id) => ({ id, currency: 'USD', code: 'WALLET', debitsLimitMinor: 0n })),
  ])
  await ledger.createTransfers(
    accountIds.map((id, i) => ({ id: `bench:fund:${i}`, type: 'posted', debitAccountId: 'bench:funding', creditAccountId: id, amountMinor: 10n ** 12n, currency: 'USD' })),
  )

  const opLatencies: number[] = []
  const transferLatencies: number[] = []
  const run = randomBytes(4).toString('hex')
  let seq = 0
  let completed = 0
  let failed = 0
  const deadline = performance.now() + DURATION_MS
  const startedMs = performance.now()
  const cpuStart = process.cpuUsage()
  const mainStart = performance.eventLoopUtilization()
  const writerStart = ledger.writerUtilization()
  const mainCpuStart = process.threadCpuUsage()
  const writerCpuStart = ledger.writerCpuUs()
  recording = true
  // Each submitter sends SUBMIT_SIZE reservations in one call, then their posts in one call, as a client
  // of TigerBeetle batches its requests; SUBMIT_SIZE=1 measures one operation per call.
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const reservations: TransferInput[] = []
      const posts: TransferInput[] = []
      for (let i = 0; i < SUBMIT_SIZE; i += 1) {
        const n = seq++
        const id = `b${run}:${String(n).padStart(12, '0')}` // time-ordered, as TigerBeetle advises for ids
        reservations.push({
          id: `${id}:p`,
          type: 'pending',
          debitAccountId: accountIds[n % ACCOUNTS] as string,
          creditAccountId: accountIds[(n * 7 + 1) % ACCOUNTS] as string,
          amountMinor: BigInt(100 + (n % 10_000)),
          currency: 'USD',
          expiresAtMs: Date.now() + 60_000,
        })
        posts.push({ id: `${id}:c`, type: 'post_pending', pendingId: `${id}:p` })
      }
      const t0 = performance.now()
      const reserved = await ledger.createTransfers(reservations)
      const t1 = performance.now()
      const posted = await ledger.createTransfers(posts)
      const t2 = performance.now()
      opLatencies.push(t1 - t0, t2 - t1)
      transferLatencies.push(t2 - t0)
      for (let i = 0; i < SUBMIT_SIZE; i += 1) {
        if (reserved[i]?.status === 'created' && posted[i]?.status === 'created') completed += 1
        else failed += 1
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  const elapsedS = (performance.now() - startedMs) / 1000
  const cpu = process.cpuUsage(cpuStart)
  const mainCpu = process.threadCpuUsage(mainCpuStart)
  const writerCpuEnd = ledger.writerCpuUs()
  const mainBusy = performance.eventLoopUtilization(mainStart).utilization
  const writerNow = ledger.writerUtilization()
  const writerBusy = writerNow === null ? null : writerStart === null ? writerNow.utilization : performance.eventLoopUtilization(writerNow, writerStart).utilization
  // At the end of the window, before kivuko check (which reads the whole journal and takes the RSS up by
  // hundreds of MB on its own).
  const rssMb = Math.round(process.memoryUsage().rss / 2 ** 20)
  recording = false
  await ledger.close()
  if (failed > 0) throw new Error(`${failed} two-phase transfers did not complete`)

  const check = await checkLedger(store)
  const ops = Float64Array.from(opLatencies).sort()
  const transfers = Float64Array.from(transferLatencies).sort()
  const batches = Float64Array.from(batchSizes).sort()
  const commits = Float64Array.from(commitMs).sort()
  return {
    bench: 'ledger',
    store: kind,
    perSec: Math.round(completed / elapsedS),
    opsPerSec: Math.round((completed * 2) / elapsedS),
    p50Ms: round2(percentile(ops, 50)),
    p95Ms: round2(percentile(ops, 95)),
    p99Ms: round2(percentile(ops, 99)),
    transferP50Ms: round2(percentile(transfers, 50)),
    transferP99Ms: round2(percentile(transfers, 99)),
    batchMean: Math.round(batchSizes.reduce((a, b) => a + b, 0) / Math.max(1, batchSizes.length)),
    batchP50: percentile(batches, 50),
    batchMax: batches.length === 0 ? 0 : (batches[batches.length - 1] as number),
    commitP50Ms: round2(percentile(commits, 50)),
    commitP99Ms: round2(percentile(commits, 99)),
    transfers: completed,
    concurrency: CONCURRENCY,
    submitSize: SUBMIT_SIZE,
    accounts: ACCOUNTS,
    rssMb,
    cpuUsPerTransfer: round2((cpu.user + cpu.system) / Math.max(1, completed)),
    mainBusy: round2(mainBusy),
    writerBusy: writerBusy === null ? null : round2(writerBusy),
    mainUsPerTransfer: round2((mainCpu.user + mainCpu.system) / Math.max(1, completed)),
    writerUsPerTransfer: writerCpuEnd === null || writerCpuStart === null ? null : round2((writerCpuEnd - writerCpuStart) / Math.max(1, completed)),
    checkOk: check.ok,
  }
}

function print(f: Figures): void {
  process.stdout.write(
    `${f.store.padEnd(8)} ${f.perSec.toLocaleString('en')} two-phase transfers/s (${f.opsPerSec.toLocaleString('en')} ledger ops/s), ` +
      `op p50 ${f.p50Ms} ms p95 ${f.p95Ms} ms p99 ${f.p99Ms} ms; batch mean ${f.batchMean} events, commit p50 ${f.commitP50Ms} ms p99 ${f.commitP99Ms} ms; ` +
      `cpu ${f.cpuUsPerTransfer} µs/transfer, busy main ${f.mainBusy} (cpu ${f.mainUsPerTransfer} µs/transfer) writer ${f.writerBusy ?? '-'} (cpu ${f.writerUsPerTransfer ?? '-'} µs/transfer); rss ${f.rssMb} MB; check ${f.checkOk ? 'ok' : 'FAILED'}\n`,
  )
}

const results: Figures[] = []
{
  const dir = mkdtempSync(join(tmpdir(), 'kivuko-bench-'))
  const store = await openStore(join(dir, 'bench.db'))
  try {
    const figures = await runOn('sqlite', store)
    print(figures)
    results.push(figures)
  } finally {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
if (POSTGRES_URL !== undefined) {
  const schema = `kivuko_bench_${randomBytes(4).toString('hex')}`
  const store = await openStore(`${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}schema=${schema}`)
  try {
    const figures = await runOn('postgres', store)
    print(figures)
    results.push(figures)
  } finally {
    await store.close()
    const admin = new PostgresClient({ url: POSTGRES_URL, poolMax: 1 })
    await admin.run(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`)
    await admin.close()
  }
} else {
  process.stdout.write('postgres skipped: set KIVUKO_BENCH_POSTGRES_URL to measure it too\n')
}
const [sqlite, postgres] = results
process.stdout.write(`${JSON.stringify({ ...sqlite, ...(postgres === undefined ? {} : { postgres }) })}\n`)
