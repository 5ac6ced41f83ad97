// SPDX-License-Identifier: Apache-2.0
/**
 * `npm run bench:e2e`: full transfers (look-up + quote + transfer) through the real `kivuko start` — the
 * switch and two DFSPs in their own processes, fsync on — driven through the DFSPs' outbound API at a
 * chosen concurrency, half of the load each way so positions stay inside their caps. Reports transfers/s,
 * p50/p95/p99, success rate, each process's memory, and `kivuko check` on every store at the end.
 * BENCH_QUICK=1 runs a short version; KIVUKO_BENCH_POSTGRES_URL adds a run on PostgreSQL. The last line
 * is one JSON object for the SQLite run (with the PostgreSQL figures inside when measured).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Agent, request } from 'undici'
import { PostgresClient, quoteIdent } from '../src/store/postgres/postgres-client.ts'

const QUICK = process.env.BENCH_QUICK === '1'
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? (QUICK ? 10_000 : 60_000))
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64)
const POSTGRES_URL = process.env.KIVUKO_BENCH_POSTGRES_URL
const KIVUKO = join(import.meta.dirname, '..', 'bin', 'kivuko.js')

interface Figures {
  bench: 'e2e'
  store: 'sqlite' | 'postgres'
  perSec: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
  successRate: number
  transfers: number
  failures: Record<string, number>
  concurrency: number
  rssMb: Record<string, number>
  checkOk: boolean
}

const agent = new Agent({ connections: CONCURRENCY, pipelining: 1 })

async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), dispatcher: agent })
  return { status: response.statusCode, body: await response.body.json() }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number)
}

/** RSS of a process and all its descendants, by process name (switch, bank, wallet), from /proc. */
function rssOfTree(rootPid: number): Record<string, number> {
  const result: Record<string, number> = {}
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const ppid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1])
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)])
    } catch {
      // The process ended while we looked.
    }
  }
  const visit = (pid: number): void => {
    for (const child of children.get(pid) ?? []) {
      try {
        const cmdline = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0')
        const part = cmdline.includes('switch') ? 'switch' : cmdline.includes('--id') ? (cmdline[cmdline.indexOf('--id') + 1] ?? 'dfsp') : `pid${child}`
        const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child}/status`, 'utf8'))?.[1] ?? 0)
        result[part] = Math.round(rss / 1024)
      } catch {
        // The process ended while we looked.
      }
      visit(child)
    }
  }
  visit(rootPid)
  return result
}

async function runOn(kind: 'sqlite' | 'postgres'): Promise<Figures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kivuko-bench-e2e-'))
  const schemaTag = randomBytes(3).toString('hex')
  // On PostgreSQL each run gets its own schemas (kivuko_bench_<tag>_switch, …), dropped at the end.
  const prefix = `kivuko_bench_${schemaTag}`
  const store = kind === 'sqlite' ? dataDir : `${POSTGRES_URL}${(POSTGRES_URL as string).includes('?') ? '&' : '?'}schema=${prefix}`
  const child: ChildProcess = spawn(process.execPath, [KIVUKO, 'start', '--store', store], { env: { ...process.env, KIVUKO_LOG_LEVEL: 'error' }, stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    const ready = await new Promise<Record<string, string>>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
      lines.on('line', (line) => {
        if (line.startsWith('{"ready":"kivuko"')) resolve(JSON.parse(line) as Record<string, string>)
      })
      child.on('exit', (code) => reject(new Error(`kivuko start exited with ${code}`)))
    })
    const bank = ready.bank as string
    const wallet = ready.wallet as string
    // Enough money on both sides for the whole run.
    await post(`${bank}/customers/256700000001/deposits`, { amount: '1000000' })
    await post(`${wallet}/customers/256780000001/deposits`, { amount: '1000000' })

    const latencies: number[] = []
    const failures: Record<string, number> = {}
    let ok = 0
    const deadline = performance.now() + DURATION_MS
    const startedMs = performance.now()
    const worker = async (index: number): Promise<void> => {
      const [from, to, payee] = index % 2 === 0 ? [bank, '256700000001', '256780000001'] : [wallet, '256780000001', '256700000001']
      while (performance.now() < deadline) {
        const t0 = performance.now()
        const sent = await post(`${from}/send`, { from: { msisdn: to }, to: { idType: 'MSISDN', idValue: payee }, amount: '1', currency: 'USD', amountType: 'SEND' }).catch((error: Error) => ({ status: 0, body: { error: { code: error.message } } }))
        latencies.push(performance.now() - t0)
        if (sent.status === 200 && sent.body.currentState === 'COMMITTED') ok += 1
        else {
          const key = `${sent.status} ${sent.body?.error?.code ?? sent.body?.currentState ?? ''}`
          failures[key] = (failures[key] ?? 0) + 1
        }
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => worker(i)))
    const elapsedS = (performance.now() - startedMs) / 1000
    const rssMb = rssOfTree(child.pid as number)
    child.kill('SIGTERM')
    await new Promise((resolve) => child.on('exit', resolve))

    let checkOk = true
    for (const part of ['switch', 'bank', 'wallet']) {
      const location = kind === 'sqlite' ? join(dataDir, `${part}.db`) : `${POSTGRES_URL}${(POSTGRES_URL as string).includes('?') ? '&' : '?'}schema=${prefix}_${part}`
      const check = spawnSync(process.execPath, [KIVUKO, 'check', '--store', location], { encoding: 'utf8' })
      if (check.status !== 0) {
        checkOk = false
        process.stdout.write(`check ${part}: ${check.stdout}${check.stderr}\n`)
      }
    }
    const sorted = Float64Array.from(latencies).sort()
    const total = latencies.length
    return {
      bench: 'e2e',
      store: kind,
      perSec: Math.round(ok / elapsedS),
      p50Ms: Math.round(percentile(sorted, 50) * 10) / 10,
      p95Ms: Math.round(percentile(sorted, 95) * 10) / 10,
      p99Ms: Math.round(percentile(sorted, 99) * 10) / 10,
      successRate: total === 0 ? 0 : Math.round((ok / total) * 10_000) / 10_000,
      transfers: ok,
      failures,
      concurrency: CONCURRENCY,
      rssMb,
      checkOk,
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
    if (kind === 'postgres') {
      const admin = new PostgresClient({ url: POSTGRES_URL as string, poolMax: 1 })
      for (const part of ['switch', 'bank', 'wallet']) await admin.run(`DROP SCHEMA IF EXISTS ${quoteIdent(`${prefix}_${part}`)} CASCADE`)
      await admin.close()
    }
  }
}

function print(f: Figures): void {
  process.stdout.write(
    `${f.store.padEnd(8)} ${f.perSec} full transfers/s (look-up + quote + transfer), p50 ${f.p50Ms} ms p95 ${f.p95Ms} ms p99 ${f.p99Ms} ms, ` +
      `success ${(f.successRate * 100).toFixed(2)} %, concurrency ${f.concurrency}, rss MB ${JSON.stringify(f.rssMb)}, check ${f.checkOk ? 'ok' : 'FAILED'}` +
      `${Object.keys(f.failures).length > 0 ? `, failures ${JSON.stringify(f.failures)}` : ''}\n`,
  )
}

const sqlite = await runOn('sqlite')
print(sqlite)
let postgres: Figures | undefined
if (POSTGRES_URL !== undefined) {
  postgres = await runOn('postgres')
  print(postgres)
} else {
  process.stdout.write('postgres skipped: set KIVUKO_BENCH_POSTGRES_URL to measure it too\n')
}
await agent.close()
process.stdout.write(`${JSON.stringify({ ...sqlite, ...(postgres === undefined ? {} : { postgres }) })}\n`)
