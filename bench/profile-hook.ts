// SPDX-License-Identifier: Apache-2.0
/**
 * Profiles every Kivuko process of a benchmark for a window in the middle of its run, the way the figures in
 * docs/perf/ were taken: loaded into each process with
 *
 *   PROFILE_DIR=/tmp/prof NODE_OPTIONS="--import ./bench/profile-hook.ts" BENCH_QUICK=1 BENCH_E2E=full node bench/e2e.ts
 *
 * (NODE_OPTIONS reaches the children `kivuko start` spawns). After PROFILE_DELAY_MS (6 s: past start-up and
 * JIT warm-up) it records for PROFILE_SPAN_MS (6 s), then writes, per process, named by its role (switch,
 * bank, wallet…) and pid:
 * - `<role>-<pid>.cpuprofile`: the main thread's V8 CPU profile (sampled every PROFILE_INTERVAL_US, 1,000 µs;
 *   open it in Chrome DevTools, or summarise it with bench/profile-summary.ts);
 * - `sql-<role>-<pid>.txt` (with PROFILE_SQL=1): every node:sqlite statement the process ran in the window,
 *   per thread (the ledger's writer thread is `thread-…`), with its calls, wall time and the thread's own CPU
 *   time (process.threadCpuUsage), worst first. Wall time includes waiting for the disk and for the other
 *   process's lock; CPU time is what the statement cost, plus the timing's own (two getrusage calls: ~3 µs
 *   on an idle machine, more under load), so take CPU profiles in a run without PROFILE_SQL.
 * The benchmark process itself is left alone. Never loaded by Kivuko: a measuring tool only.
 */
import { Session } from 'node:inspector'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync, StatementSync } from 'node:sqlite'
import { isMainThread } from 'node:worker_threads'

const DIR = process.env.PROFILE_DIR ?? '/tmp/kivuko-profile'
const DELAY_MS = Number(process.env.PROFILE_DELAY_MS ?? 6_000)
const SPAN_MS = Number(process.env.PROFILE_SPAN_MS ?? 6_000)
const INTERVAL_US = Number(process.env.PROFILE_INTERVAL_US ?? 1_000)
const SQL = process.env.PROFILE_SQL === '1'

/** switch, or the DFSP's id after --id, or `other` (kivuko start's own process). */
function role(): string {
  const args = process.argv
  const name = args.includes('switch') ? 'switch' : args.includes('--id') ? (args[args.indexOf('--id') + 1] ?? 'dfsp') : 'other'
  return isMainThread ? name : `thread-${name}`
}

const isBenchmark = process.argv.some((arg) => /[\\/]bench[\\/]/.test(arg))

function later(ms: number, action: () => void): void {
  setTimeout(action, ms).unref()
}

function profileCpu(): void {
  const session = new Session()
  session.connect()
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error === null ? resolve(result) : reject(error))))
  later(DELAY_MS, () => {
    void (async () => {
      await post('Profiler.enable')
      await post('Profiler.setSamplingInterval', { interval: INTERVAL_US })
      await post('Profiler.start')
      later(SPAN_MS, () => {
        void post('Profiler.stop').then((result) => {
          mkdirSync(DIR, { recursive: true })
          writeFileSync(join(DIR, `${role()}-${process.pid}.cpuprofile`), JSON.stringify((result as { profile: unknown }).profile))
        })
      })
    })()
  })
}

interface StatementFigures {
  calls: number
  wallMs: number
  cpuMs: number
}

/** Wraps node:sqlite's statement and exec calls of this thread with a timer that runs only in the window. */
function profileSql(): void {
  const figures = new Map<string, StatementFigures>()
  let recording = false
  const count = (sql: string, wallMs: number, cpuMs: number): void => {
    const key = sql.replace(/\s+/g, ' ').slice(0, 120)
    const entry = figures.get(key) ?? { calls: 0, wallMs: 0, cpuMs: 0 }
    entry.calls += 1
    entry.wallMs += wallMs
    entry.cpuMs += cpuMs
    figures.set(key, entry)
  }
  const timed = <A extends unknown[], R>(sqlOf: (self: never, args: A) => string, original: (...args: A) => R) =>
    function (this: never, ...args: A): R {
      if (!recording) return original.apply(this, args)
      const startedMs = performance.now()
      const cpuBefore = process.threadCpuUsage()
      try {
        return original.apply(this, args)
      } finally {
        const cpu = process.threadCpuUsage(cpuBefore)
        count(sqlOf(this, args), performance.now() - startedMs, (cpu.user + cpu.system) / 1_000)
      }
    }
  const statement = StatementSync.prototype as unknown as Record<string, (...args: unknown[]) => unknown>
  for (const method of ['run', 'all', 'get', 'iterate']) {
    statement[method] = timed((self: StatementSync) => self.sourceSQL, statement[method] as (...args: unknown[]) => unknown)
  }
  const database = DatabaseSync.prototype as unknown as { exec: (sql: string) => void }
  database.exec = timed((_self, args: [string]) => `EXEC ${args[0]}`, database.exec)
  later(DELAY_MS, () => {
    recording = true
    later(SPAN_MS, () => {
      recording = false
      const lines = [...figures]
        .sort((a, b) => b[1].cpuMs - a[1].cpuMs)
        .map(([sql, f]) => `${f.cpuMs.toFixed(0).padStart(6)} ms cpu ${f.wallMs.toFixed(0).padStart(6)} ms wall ${String(f.calls).padStart(7)} calls ${((1_000 * f.cpuMs) / f.calls).toFixed(1).padStart(7)} µs cpu/call  ${sql}`)
      mkdirSync(DIR, { recursive: true })
      writeFileSync(join(DIR, `sql-${role()}-${process.pid}.txt`), `${lines.join('\n')}\n`)
    })
  })
}

if (!isBenchmark) {
  if (isMainThread) profileCpu()
  if (SQL) profileSql()
}
