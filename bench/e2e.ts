// SPDX-License-Identifier: Apache-2.0
/**
 * `npm run bench:e2e`: first the transfer phase alone (prepare → fulfil → commit through `kivuko switch`),
 * then full transfers (look-up + quote + transfer) through the real `kivuko start` — the
 * switch and two DFSPs in their own processes, fsync on — driven through the DFSPs' outbound API at a
 * chosen concurrency, half of the load each way so positions stay inside their caps. Reports transfers/s,
 * p50/p95/p99, success rate, each process's memory, and `kivuko check` on every store at the end.
 * BENCH_QUICK=1 runs a short version; KIVUKO_BENCH_POSTGRES_URL adds a run on PostgreSQL; BENCH_E2E=phase
 * or =full runs only one of the two; BENCH_TRANSFERS=1000000 runs the full flow for that many transfers and
 * records each process's RSS every BENCH_RSS_EVERY (100,000) of them. Each run warms up under the same load
 * for BENCH_WARMUP_MS (3 s quick, 10 s otherwise) before its window opens, and uses free ports. The last line is one JSON object for the SQLite run (with the
 * PostgreSQL figures inside when measured).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Agent, request } from 'undici'
import { PostgresClient, quoteIdent } from '../src/store/postgres/postgres-client.ts'
import { provisionParticipant } from '../src/cli/provision.ts'
import { buildFspiopHeaders } from '../src/fspiop/index.ts'
import { freeDemoPortBase, freePort } from '../test/support/ports.ts'

const QUICK = process.env.BENCH_QUICK === '1'
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? (QUICK ? 10_000 : 60_000))
/**
 * BENCH_TRANSFERS=N runs the full flow until N transfers have committed instead of for a duration, and
 * samples every process's RSS along the way (BENCH_RSS_EVERY, default 100,000 transfers): the memory test.
 */
const TRANSFERS_TARGET = process.env.BENCH_TRANSFERS === undefined ? null : Number(process.env.BENCH_TRANSFERS)
const RSS_EVERY = Number(process.env.BENCH_RSS_EVERY ?? 100_000)
/** Load runs this long before the measured window opens, so that figures are taken with the JIT warm. */
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? (QUICK ? 3_000 : 10_000))
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64)
const POSTGRES_URL = process.env.KIVUKO_BENCH_POSTGRES_URL
/** BENCH_E2E=phase or BENCH_E2E=full runs one of the two measurements (default: both). */
const PARTS = new Set((process.env.BENCH_E2E ?? 'phase,full').split(','))
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
  /** CPU ms per committed transfer over the measured window, per process (bench: this load generator). */
  cpuMsPerTransfer: Record<string, number>
  /** The 1-minute load average when the window ended: how much else the machine was doing. */
  loadAverage: number
  checkOk: boolean
  /** With BENCH_TRANSFERS: RSS (MB) of each process after every BENCH_RSS_EVERY committed transfers. */
  rssTimeline?: { transfers: number; rssMb: Record<string, number> }[]
}

const agent = new Agent({ connections: CONCURRENCY, pipelining: 1 })

async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), dispatcher: agent })
  return { status: response.statusCode, body: await response.body.json() }
}

function cpuMs(): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number)
}

/** RSS (MB) of a process and all its descendants, by process name (switch, bank, wallet), from /proc. */
function rssOfTree(rootPid: number): Record<string, number> {
  return statOfTree(rootPid, (pid) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024))
}

const CLOCK_TICKS_PER_S = 100
/** CPU time (ms, user + system, all threads) of a process and all its descendants, by process name, from /proc. */
function cpuOfTree(rootPid: number): Record<string, number> {
  return statOfTree(rootPid, (pid) => {
    // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are 14th and 15th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S
  })
}

/**
 * The measured window: the load runs unmeasured for WARMUP_MS (the JIT warms up), then the window opens for
 * `durationMs`; `readCpu` is read as it opens, the baseline for CPU per transfer.
 */
function measuredWindow(durationMs: number, readCpu: () => Record<string, number>): { measuring: boolean; startedMs: number; deadline: number; cpuBefore: Record<string, number> } {
  const window = { measuring: false, startedMs: 0, deadline: Number.POSITIVE_INFINITY, cpuBefore: {} as Record<string, number> }
  setTimeout(() => {
    window.measuring = true
    window.startedMs = performance.now()
    window.deadline = window.startedMs + durationMs
    window.cpuBefore = readCpu()
  }, WARMUP_MS)
  return window
}

/** CPU ms per committed transfer, by process, over a window: the figure that survives a noisy shared machine. */
function cpuPerTransfer(before: Record<string, number>, after: Record<string, number>, transfers: number): Record<string, number> {
  const result: Record<string, number> = {}
  for (const [part, ms] of Object.entries(after)) result[part] = transfers === 0 ? 0 : Math.round(((ms - (before[part] ?? 0)) / transfers) * 100) / 100
  return result
}

function cpuOfProcess(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S
}

function statOfTree(rootPid: number, read: (pid: number) => number): Record<string, number> {
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
        result[part] = read(child)
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
  // Ports of its own, so that benchmarks (and a `kivuko start` someone left running) never collide.
  const [switchPort, adminPort, demoBase] = [await freePort(), await freePort(), await freeDemoPortBase()]
  const ports = { KIVUKO_SWITCH_PORT: String(switchPort), KIVUKO_ADMIN_PORT: String(adminPort), KIVUKO_DEMO_PORT_BASE: String(demoBase) }
  const child: ChildProcess = spawn(process.execPath, [KIVUKO, 'start', '--store', store], { env: { ...process.env, ...ports, KIVUKO_LOG_LEVEL: 'error' }, stdio: ['ignore', 'pipe', 'inherit'] })
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
    // Warm-up: the same load, not counted; the window opens when it ends.
    const window = measuredWindow(DURATION_MS, () => ({ ...cpuOfTree(child.pid as number), bench: cpuMs() }))
    const rssTimeline: { transfers: number; rssMb: Record<string, number> }[] = []
    let nextSample = RSS_EVERY
    const going = (): boolean => (TRANSFERS_TARGET === null || !window.measuring ? performance.now() < window.deadline : ok + Object.values(failures).reduce((a, b) => a + b, 0) < TRANSFERS_TARGET)
    const worker = async (index: number): Promise<void> => {
      const [from, to, payee] = index % 2 === 0 ? [bank, '256700000001', '256780000001'] : [wallet, '256780000001', '256700000001']
      while (going()) {
        const t0 = performance.now()
        const sent = await post(`${from}/send`, { from: { msisdn: to }, to: { idType: 'MSISDN', idValue: payee }, amount: '1', currency: 'USD', amountType: 'SEND' }).catch((error: Error) => ({ status: 0, body: { error: { code: error.message } } }))
        if (!window.measuring || t0 < window.startedMs) continue
        latencies.push(performance.now() - t0)
        if (sent.status === 200 && sent.body.currentState === 'COMMITTED') {
          ok += 1
          if (TRANSFERS_TARGET !== null && ok >= nextSample) {
            nextSample += RSS_EVERY
            rssTimeline.push({ transfers: ok, rssMb: rssOfTree(child.pid as number) })
            process.stdout.write(`${ok} transfers, ${Math.round(ok / ((performance.now() - window.startedMs) / 1000))}/s, rss MB ${JSON.stringify(rssTimeline.at(-1)?.rssMb)}\n`)
          }
        } else {
          const key = `${sent.status} ${sent.body?.error?.code ?? sent.body?.currentState ?? ''}`
          failures[key] = (failures[key] ?? 0) + 1
        }
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => worker(i)))
    const elapsedS = (performance.now() - window.startedMs) / 1000
    const cpuAfter = { ...cpuOfTree(child.pid as number), bench: cpuMs() }
    const rssMb = rssOfTree(child.pid as number)
    const loadAverage = Math.round((loadavg()[0] as number) * 100) / 100
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
      cpuMsPerTransfer: cpuPerTransfer(window.cpuBefore, cpuAfter, ok),
      loadAverage,
      checkOk,
      ...(TRANSFERS_TARGET === null ? {} : { rssTimeline }),
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

interface PhaseFigures {
  bench: 'e2e-transfer-phase'
  store: 'sqlite' | 'postgres'
  perSec: number
  p50Ms: number
  p99Ms: number
  successRate: number
  transfers: number
  concurrency: number
  cpuMsPerTransfer: Record<string, number>
  loadAverage: number
}

/**
 * The transfer phase alone: `kivuko switch` as its own process, and this process playing both DFSPs over
 * HTTP — the payer prepares, the payee fulfils the moment the prepare reaches it, and a transfer counts once
 * the payer has the switch's COMMITTED callback.
 */
async function runTransferPhase(kind: 'sqlite' | 'postgres'): Promise<PhaseFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kivuko-bench-phase-'))
  const schema = `kivuko_bench_phase_${randomBytes(3).toString('hex')}`
  const store = kind === 'sqlite' ? join(dataDir, 'switch.db') : `${POSTGRES_URL}${(POSTGRES_URL as string).includes('?') ? '&' : '?'}schema=${schema}`
  const [fspiopPort, adminPort] = [await freePort(), await freePort()]
  const child = spawn(process.execPath, [KIVUKO, 'switch'], {
    env: { ...process.env, KIVUKO_STORE: store, KIVUKO_SWITCH_PORT: String(fspiopPort), KIVUKO_ADMIN_PORT: String(adminPort), KIVUKO_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const waiting = new Map<string, (state: string) => void>()
  const fulfilments = new Map<string, string>()
  const tokens = new Map<string, string>()
  const fspiopUrl = `http://127.0.0.1:${fspiopPort}`
  const callSwitch = (fsp: string, method: 'POST' | 'PUT', path: string, body: unknown, destination: string) =>
    request(`${fspiopUrl}${path}`, {
      method,
      headers: { ...buildFspiopHeaders({ resource: 'transfers', method, source: fsp, destination, nowMs: Date.now() }), authorization: `Bearer ${tokens.get(fsp)}` },
      body: JSON.stringify(body),
      dispatcher: agent,
    }).then(async (r) => {
      await r.body.dump()
      return r.statusCode
    })
  const dfsp = (handle: (method: string, path: string, body: any) => void) =>
    createServer((req, res) => {
      let text = ''
      req.on('data', (chunk: Buffer) => (text += chunk.toString()))
      req.on('end', () => {
        res.statusCode = req.method === 'POST' || req.method === 'GET' ? 202 : 200
        res.end()
        handle(req.method ?? '', req.url ?? '', text === '' ? undefined : JSON.parse(text))
      })
    })
  const payer = dfsp((method, path, body) => {
    const id = path.split('/')[2] ?? ''
    if (method === 'PUT') waiting.get(id)?.(path.endsWith('/error') ? 'ERROR' : body?.transferState)
  })
  const payee = dfsp((method, path, body) => {
    if (method !== 'POST' || path !== '/transfers') return
    const fulfilment = fulfilments.get(body.transferId)
    if (fulfilment !== undefined) void callSwitch('payeefsp', 'PUT', `/transfers/${body.transferId}`, { fulfilment, completedTimestamp: new Date().toISOString(), transferState: 'COMMITTED' }, 'payerfsp')
  })
  await Promise.all([payer, payee].map((server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))))
  try {
    const ready = await new Promise<Record<string, string>>((resolve, reject) => {
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        if (line.startsWith('{"ready"')) resolve(JSON.parse(line) as Record<string, string>)
      })
      child.on('exit', (code) => reject(new Error(`kivuko switch exited with ${code}`)))
    })
    for (const [name, server] of [['payerfsp', payer], ['payeefsp', payee]] as const) {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      tokens.set(name, await provisionParticipant(ready.adminUrl as string, { name, currency: 'USD', fspiopUrl: url, netDebitCap: '100000000', liquidity: '100000000' }))
    }
    const latencies: number[] = []
    let ok = 0
    let total = 0
    const window = measuredWindow(Math.min(DURATION_MS, 20_000), () => ({ switch: cpuOfProcess(child.pid as number), bench: cpuMs() }))
    const worker = async (): Promise<void> => {
      while (performance.now() < window.deadline) {
        const preimage = randomBytes(32)
        const transferId = randomUUID()
        fulfilments.set(transferId, preimage.toString('base64url'))
        const t0 = performance.now()
        const outcome = new Promise<string>((resolve) => {
          waiting.set(transferId, resolve)
          setTimeout(() => resolve('TIMEOUT'), 30_000)
        })
        const status = await callSwitch('payerfsp', 'POST', '/transfers', {
          transferId,
          payerFsp: 'payerfsp',
          payeeFsp: 'payeefsp',
          amount: { amount: '1', currency: 'USD' },
          ilpPacket: 'AYIBgQAAAAAAAASwNGxldmVsb25lLmRmc3AxLm1lci45T2RTOF81MDdqUUZERmZl',
          condition: createHash('sha256').update(preimage).digest('base64url'),
          expiration: new Date(Date.now() + 60_000).toISOString(),
        }, 'payeefsp')
        const state = status === 202 ? await outcome : `HTTP ${status}`
        waiting.delete(transferId)
        fulfilments.delete(transferId)
        if (!window.measuring || t0 < window.startedMs) continue
        total += 1
        latencies.push(performance.now() - t0)
        if (state === 'COMMITTED') ok += 1
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
    const elapsedS = (performance.now() - window.startedMs) / 1000
    const cpuAfter = { switch: cpuOfProcess(child.pid as number), bench: cpuMs() }
    const loadAverage = Math.round((loadavg()[0] as number) * 100) / 100
    const sorted = Float64Array.from(latencies).sort()
    return {
      bench: 'e2e-transfer-phase',
      store: kind,
      perSec: Math.round(ok / elapsedS),
      p50Ms: Math.round(percentile(sorted, 50) * 10) / 10,
      p99Ms: Math.round(percentile(sorted, 99) * 10) / 10,
      successRate: total === 0 ? 0 : Math.round((ok / total) * 10_000) / 10_000,
      transfers: ok,
      concurrency: CONCURRENCY,
      cpuMsPerTransfer: cpuPerTransfer(window.cpuBefore, cpuAfter, ok),
      loadAverage,
    }
  } finally {
    child.kill('SIGTERM')
    await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)))
    payer.close()
    payee.close()
    rmSync(dataDir, { recursive: true, force: true })
    if (kind === 'postgres') {
      const admin = new PostgresClient({ url: POSTGRES_URL as string, poolMax: 1 })
      await admin.run(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`)
      await admin.close()
    }
  }
}

function print(f: Figures): void {
  process.stdout.write(
    `${f.store.padEnd(8)} ${f.perSec} full transfers/s (look-up + quote + transfer), p50 ${f.p50Ms} ms p95 ${f.p95Ms} ms p99 ${f.p99Ms} ms, ` +
      `success ${(f.successRate * 100).toFixed(2)} %, concurrency ${f.concurrency}, rss MB ${JSON.stringify(f.rssMb)}, ` +
      `cpu ms/transfer ${JSON.stringify(f.cpuMsPerTransfer)}, load ${f.loadAverage}, check ${f.checkOk ? 'ok' : 'FAILED'}` +
      `${Object.keys(f.failures).length > 0 ? `, failures ${JSON.stringify(f.failures)}` : ''}\n`,
  )
}

const printPhase = (f: PhaseFigures): void => {
  process.stdout.write(`${f.store.padEnd(8)} ${f.perSec} transfer-phase transfers/s (prepare → fulfil → commit callback), p50 ${f.p50Ms} ms p99 ${f.p99Ms} ms, success ${(f.successRate * 100).toFixed(2)} %, cpu ms/transfer ${JSON.stringify(f.cpuMsPerTransfer)}, load ${f.loadAverage}\n`)
}
const sqlitePhase = PARTS.has('phase') ? await runTransferPhase('sqlite') : undefined
if (sqlitePhase !== undefined) printPhase(sqlitePhase)
const sqlite = PARTS.has('full') ? await runOn('sqlite') : undefined
if (sqlite !== undefined) print(sqlite)
let postgres: Figures | undefined
let postgresPhase: PhaseFigures | undefined
if (POSTGRES_URL !== undefined) {
  postgresPhase = PARTS.has('phase') ? await runTransferPhase('postgres') : undefined
  if (postgresPhase !== undefined) printPhase(postgresPhase)
  postgres = PARTS.has('full') ? await runOn('postgres') : undefined
  if (postgres !== undefined) print(postgres)
} else {
  process.stdout.write('postgres skipped: set KIVUKO_BENCH_POSTGRES_URL to measure it too\n')
}
await agent.close()
// The full flow's figures with the transfer phase inside; with BENCH_E2E=phase, the transfer phase's own.
const last =
  sqlite === undefined
    ? { ...sqlitePhase, ...(postgresPhase === undefined ? {} : { postgres: postgresPhase }) }
    : { ...sqlite, transferPhase: sqlitePhase, ...(postgres === undefined ? {} : { postgres: { ...postgres, transferPhase: postgresPhase } }) }
process.stdout.write(`${JSON.stringify(last)}\n`)
