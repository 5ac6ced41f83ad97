// SPDX-License-Identifier: Apache-2.0
/**
 * `npm run bench:atm`: ATM cash-outs through many virtual terminals over ISO 8583/TCP, end to end. The switch,
 * the customers' wallet and the virtual ATMs run as processes of their own (this file, started again with
 * --role); this process runs the ATMs' bank and its terminal gateway (TerminalServer → TerminalGateway →
 * dfspPayee, as `kivuko dfsp --gateway-port` builds it). Each ATM has its own funded customer and
 * loops: 0100 → 0110 (amount + fee) → the customer reads the OTP from the wallet's SMS outbox through the
 * wallet's API, as from their phone → 0200 → 0210 00. Fsync is on everywhere.
 *
 * Reported: approved cash-outs/s; p50/p95/p99 of the whole cash-out as the terminal sees it (0100 sent →
 * 0210 received, the customer's SMS read included); and the gateway's own overhead per message: the round
 * trip the terminal measures minus the time the gateway spent waiting on the PayeeDfsp port (the port is
 * wrapped here and each call timed; messages are matched by terminal id, RRN and MTI). The overhead thus
 * holds the codec, framing, TCP on loopback, the gateway's rules and any event-loop wait in this process
 * (which also runs the bank); a second figure times TerminalGateway.handle alone (no TCP, no codec). Also
 * peak RSS per process and the ledger check of every store at the end. Every process runs with the V8 heap
 * flags `kivuko start` gives its parts (this one through the npm script), so figures match a real run.
 *
 * BENCH_QUICK=1 runs 10 s; BENCH_DURATION_MS, BENCH_TERMINALS (default 50) override. The store is SQLite
 * files by default; `--store postgres://…` (or KIVUKO_BENCH_STORE) runs on PostgreSQL, one schema per
 * process, dropped at the end. The last line is one JSON object.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { Agent, request } from 'undici'
import {
  TerminalGateway,
  TerminalRegistry,
  TerminalServer,
  VirtualTerminal,
  type PayeeDfsp,
  type RequestOutcome,
  type TerminalEntry,
} from '../src/channels/terminal/index.ts'
import type { Iso8583Message } from '../src/channels/terminal/iso8583/index.ts'
import { untilSignal } from '../src/cli/signals.ts'
import { nodeFlags } from '../src/cli/start.ts'
import { provisionParticipant } from '../src/cli/provision.ts'
import { startDfsp } from '../src/http/dfsp/index.ts'
import { startSwitch } from '../src/http/switch/start-switch.ts'
import { dfspPayee } from '../src/http/terminal/dfsp-payee.ts'
import { checkLedger } from '../src/store/ledger/ledger-check.ts'
import { migrate } from '../src/store/migrate.ts'
import { openStore } from '../src/store/open-store.ts'
import { PostgresClient, quoteIdent } from '../src/store/postgres/postgres-client.ts'
import { freePort } from '../test/support/ports.ts'

const { values: args } = parseArgs({ options: { role: { type: 'string' }, store: { type: 'string' } }, allowPositionals: false })
const QUICK = process.env.BENCH_QUICK === '1'
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? (QUICK ? 10_000 : 60_000))
const TERMINALS = Number(process.env.BENCH_TERMINALS ?? 50)
const CASH_OUT_MINOR = 1_000n // 10.00 USD each
const CURRENCY = 'USD'
const msisdnOf = (i: number): string => `2567900${String(i).padStart(5, '0')}`
const terminalIdOf = (i: number): string => `ATM${String(i).padStart(5, '0')}`
const accountOf = (i: number): string => `ATM-${String(i).padStart(5, '0')}`
// Bounds on what the DFSPs and the gateway keep in memory (defaults: the product's), to measure what each costs.
const REQUEST_SESSIONS = process.env.BENCH_REQUEST_SESSIONS_MAX === undefined ? {} : { requestSessionsMax: Number(process.env.BENCH_REQUEST_SESSIONS_MAX) }
const GATEWAY_REMEMBERED = process.env.BENCH_GATEWAY_REMEMBERED_MAX === undefined ? {} : { rememberedMax: Number(process.env.BENCH_GATEWAY_REMEMBERED_MAX) }
const OTP_IN_SMS = /code is ([0-9]+)\./

/** Prints one ready line for the parent and runs until SIGTERM. */
async function runRole(role: string, location: string): Promise<void> {
  process.on('SIGUSR2', () => process.stdout.write(`${JSON.stringify({ liveHeapMb: liveHeapMb() })}\n`))
  const store = await openStore(location)
  await migrate(store)
  if (role === 'switch') {
    const hub = await startSwitch({ store, fspiopPort: 0, adminPort: 0 })
    process.stdout.write(`${JSON.stringify({ ready: 'switch', fspiopUrl: hub.fspiopUrl, adminUrl: hub.adminUrl })}\n`)
    await untilSignal()
    await hub.close()
  } else if (role === 'wallet') {
    const count = Number(process.env.BENCH_CUSTOMERS)
    const handle = await startDfsp(
      {
        dfspId: 'wallet',
        currency: CURRENCY,
        switchUrl: process.env.BENCH_SWITCH_URL as string,
        switchToken: process.env.BENCH_TOKEN as string,
        ilpSecret: randomBytes(24).toString('base64url'),
        listen: { fspiopPort: Number(process.env.BENCH_FSPIOP_PORT) },
        fees: { withdrawal: { flat: '1.5', rounding: 'half-up' } },
        ...REQUEST_SESSIONS,
        // One customer cashes out again and again: the issue limit must not be the bottleneck.
        otp: { secret: randomBytes(32).toString('hex'), issueLimit: { max: 100, windowMs: 1_000 } },
        customers: Array.from({ length: count }, (_, i) => ({ name: `Bench customer ${i + 1}`, msisdn: msisdnOf(i + 1), balance: '1000000' })),
      },
      store,
      { logger: pino({ level: 'error' }) },
    )
    process.stdout.write(`${JSON.stringify({ ready: 'wallet', apiUrl: handle.urls.api })}\n`)
    await untilSignal()
    await handle.close()
  } else {
    throw new Error(`unknown role ${role}`)
  }
  await store.close()
}

function spawnRole(role: string, location: string, env: Record<string, string> = {}): { child: ChildProcess; ready: Promise<Record<string, string>>; heap: () => Promise<number | null> } {
  const child = spawn(process.execPath, [...nodeFlags(process.env), '--expose-gc', import.meta.filename, '--role', role, '--store', location], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  const heapAnswers: ((mb: number | null) => void)[] = []
  const ready = new Promise<Record<string, string>>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.startsWith('{"ready"')) resolve(JSON.parse(line) as Record<string, string>)
      else if (line.startsWith('{"liveHeapMb"')) heapAnswers.shift()?.((JSON.parse(line) as { liveHeapMb: number | null }).liveHeapMb)
    })
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)))
  })
  /** The role's heap in use after a full GC: it answers SIGUSR2 with one line. */
  const heap = (): Promise<number | null> =>
    new Promise((resolve) => {
      heapAnswers.push(resolve)
      child.kill('SIGUSR2')
    })
  return { child, ready, heap }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.removeAllListeners('exit')
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
}

function rssMbOf(pid: number | undefined): number {
  if (pid === undefined) return 0
  try {
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024)
  } catch {
    return 0
  }
}

/** Heap in use after a full GC (MB): what the process really keeps. Needs --expose-gc (the npm script gives it). */
function liveHeapMb(): number | null {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) return null
  gc()
  return Math.round(process.memoryUsage().heapUsed / 104_857.6) / 10
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number)
}
const round1 = (ms: number): number => Math.round(ms * 10) / 10
const sortedOf = (values: readonly number[]): Float64Array => Float64Array.from(values).sort()

/** Where each process part keeps its data: SQLite files in dataDir, or one PostgreSQL schema each. */
function locationOf(part: string, dataDir: string, postgresUrl: string | undefined, prefix: string): string {
  if (postgresUrl === undefined) return join(dataDir, `${part}.db`)
  return `${postgresUrl}${postgresUrl.includes('?') ? '&' : '?'}schema=${prefix}_${part}`
}

/** The time each terminal's latest PayeeDfsp call took, by terminal id: one message in flight per terminal. */
class TimedPort implements PayeeDfsp {
  readonly lastMs = new Map<string, number>()
  readonly #inner: PayeeDfsp
  readonly #terminalOfAccount: ReadonlyMap<string, string>
  readonly #terminalOfRequest = new Map<string, string>()
  constructor(inner: PayeeDfsp, terminalOfAccount: ReadonlyMap<string, string>) {
    this.#inner = inner
    this.#terminalOfAccount = terminalOfAccount
  }
  async #timed<T>(terminalId: string | undefined, call: () => Promise<T>): Promise<T> {
    const t0 = performance.now()
    try {
      return await call()
    } finally {
      if (terminalId !== undefined) this.lastMs.set(terminalId, performance.now() - t0)
    }
  }
  requestToPay(r: Parameters<PayeeDfsp['requestToPay']>[0]): Promise<RequestOutcome> {
    const terminalId = this.#terminalOfAccount.get(r.payee.idValue)
    if (terminalId !== undefined) this.#terminalOfRequest.set(r.transactionRequestId, terminalId)
    return this.#timed(terminalId, () => this.#inner.requestToPay(r))
  }
  authorize(id: string, otp: string): Promise<RequestOutcome> {
    return this.#timed(this.#terminalOfRequest.get(id), () => this.#inner.authorize(id, otp))
  }
  resend(id: string): Promise<RequestOutcome> {
    return this.#timed(this.#terminalOfRequest.get(id), () => this.#inner.resend(id))
  }
  reject(id: string): Promise<RequestOutcome> {
    return this.#timed(this.#terminalOfRequest.get(id), () => this.#inner.reject(id))
  }
  refund(id: string, reason: string): ReturnType<PayeeDfsp['refund']> {
    return this.#timed(this.#terminalOfRequest.get(id), () => this.#inner.refund(id, reason))
  }
}

/**
 * TerminalGateway.handle timed per message, with the PayeeDfsp time spent inside it, by terminal id, RRN
 * and MTI (one message in flight per terminal, one 0100 and one 0200 per cash-out in this bench).
 */
class TimedGateway extends TerminalGateway {
  readonly samples = new Map<string, { handleMs: number; portMs: number }>()
  readonly #port: TimedPort
  constructor(options: ConstructorParameters<typeof TerminalGateway>[0] & { payee: TimedPort }) {
    super(options)
    this.#port = options.payee
  }
  override async handle(message: Iso8583Message): Promise<Iso8583Message | undefined> {
    const terminalId = message.fields.terminalId?.trimEnd()
    if (terminalId !== undefined) this.#port.lastMs.delete(terminalId)
    const t0 = performance.now()
    try {
      return await super.handle(message)
    } finally {
      const handleMs = performance.now() - t0
      const portMs = terminalId === undefined ? undefined : this.#port.lastMs.get(terminalId)
      if (portMs !== undefined) this.samples.set(`${terminalId}|${message.fields.rrn}|${message.mti}`, { handleMs, portMs })
    }
  }
}

/** What the terminals' process reports: per message its round trip, and per cash-out its whole time. */
interface TerminalsReport {
  readonly messages: readonly (readonly [key: string, roundTripMs: number])[]
  readonly whole: readonly number[]
  readonly approved: number
  readonly attempts: number
  readonly failures: Record<string, number>
  readonly elapsedS: number
}

/**
 * The ATMs, in a process of their own as real terminals are remote: each loops over cash-outs until the
 * deadline, after one warm-up cash-out that is not counted, and the report is one JSON line.
 */
async function runTerminals(): Promise<void> {
  const [host, portText] = (process.env.BENCH_GATEWAY as string).split(':')
  const walletApi = process.env.BENCH_WALLET_API as string
  const count = Number(process.env.BENCH_TERMINALS)
  const agent = new Agent({ connections: count, pipelining: 1 })
  const readCode = async (msisdn: string): Promise<string | undefined> => {
    const response = await request(`${walletApi}/customers/${msisdn}/notifications`, { dispatcher: agent })
    const body = (await response.body.json()) as { notifications: { body: string }[] }
    for (const n of body.notifications) {
      const match = OTP_IN_SMS.exec(n.body ?? '')
      if (match !== null) return match[1]
    }
    return undefined
  }
  const terminals = await Promise.all(
    Array.from({ length: count }, (_, i) => VirtualTerminal.connect({ host: host as string, port: Number(portText), terminalId: terminalIdOf(i + 1), responseTimeoutMs: 30_000 })),
  )
  const messages: [string, number][] = []
  const whole: number[] = []
  const failures: Record<string, number> = {}
  let approved = 0
  let attempts = 0
  let measuring = false
  const fail = (key: string): void => {
    if (measuring) failures[key] = (failures[key] ?? 0) + 1
  }
  const cashOut = async (i: number): Promise<void> => {
    const terminal = terminals[i] as VirtualTerminal
    const msisdn = msisdnOf(i + 1)
    if (measuring) attempts += 1
    try {
      const t0 = performance.now()
      const quote = await terminal.cashOut({ msisdn, amountMinor: CASH_OUT_MINOR, currency: CURRENCY })
      const t1 = performance.now()
      if (measuring) messages.push([`${terminal.terminalId}|${quote.rrn}|0100`, t1 - t0])
      if (!quote.approved) return fail(`0110 ${quote.responseCode}`)
      const code = await readCode(msisdn)
      if (code === undefined) {
        await terminal.reverse()
        return fail('no OTP SMS')
      }
      const t2 = performance.now()
      const result = await terminal.enterOtp(code)
      const t3 = performance.now()
      if (measuring) messages.push([`${terminal.terminalId}|${quote.rrn}|0200`, t3 - t2])
      if (result.outcome !== 'APPROVED') return fail(`0210 ${result.responseCode}`)
      if (measuring) {
        whole.push(t3 - t0)
        approved += 1
      }
    } catch (error) {
      fail(error instanceof Error ? error.message.replace(/STAN \d+/, 'STAN n') : String(error))
    }
  }
  await Promise.all(terminals.map((_, i) => cashOut(i)))
  measuring = true
  const startedMs = performance.now()
  const deadline = startedMs + DURATION_MS
  await Promise.all(
    terminals.map(async (_, i) => {
      while (performance.now() < deadline) await cashOut(i)
    }),
  )
  const elapsedS = (performance.now() - startedMs) / 1000
  await Promise.all(terminals.map((t) => t.close()))
  await agent.close()
  const report: TerminalsReport = { messages, whole, approved, attempts, failures, elapsedS }
  process.stdout.write(`${JSON.stringify({ report })}\n`)
}

interface Figures {
  bench: 'atm'
  store: 'sqlite' | 'postgres'
  perSec: number
  p50Ms: number
  p99Ms: number
  gatewayOverheadP99Ms: number
  successRate: number
  p95Ms: number
  gatewayOverheadP50Ms: number
  gatewayHandleOverheadP50Ms: number
  gatewayHandleOverheadP99Ms: number
  portP50Ms: number
  portP99Ms: number
  /** Event-loop delay of the bank-and-gateway process during the run. */
  eventLoopDelayP50Ms: number
  eventLoopDelayP99Ms: number
  cashOuts: number
  failures: Record<string, number>
  terminals: number
  durationS: number
  rssMb: Record<string, number>
  /** Heap in use after a full GC, before the terminals start and after they stop (MB; null without --expose-gc). */
  liveHeapMb: { start: Record<string, number | null>; end: Record<string, number | null> }
  /** Heap kept per approved cash-out over the run (bytes): sessions held for their retention, caches. */
  keptBytesPerCashOut: Record<string, number | null>
  checkOk: boolean
}

async function runBench(postgresUrl: string | undefined): Promise<Figures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kivuko-bench-atm-'))
  const prefix = `kivuko_bench_atm_${randomBytes(3).toString('hex')}`
  const where = (part: string): string => locationOf(part, dataDir, postgresUrl, prefix)
  const children: ChildProcess[] = []
  try {
    const switchRole = spawnRole('switch', where('switch'))
    children.push(switchRole.child)
    const hub = await switchRole.ready
    const [bankPort, walletPort] = [await freePort(), await freePort()]
    const provision = (name: string, port: number) =>
      provisionParticipant(hub.adminUrl as string, { name, currency: CURRENCY, fspiopUrl: `http://127.0.0.1:${port}`, netDebitCap: '100000000', liquidity: '100000000' })
    const bankToken = await provision('bank', bankPort)
    const walletToken = await provision('wallet', walletPort)
    const walletRole = spawnRole('wallet', where('wallet'), {
      BENCH_CUSTOMERS: String(TERMINALS),
      BENCH_SWITCH_URL: hub.fspiopUrl as string,
      BENCH_TOKEN: walletToken,
      BENCH_FSPIOP_PORT: String(walletPort),
    })
    children.push(walletRole.child)
    const wallet = await walletRole.ready

    const bankStore = await openStore(where('bank'))
    const bank = await startDfsp(
      {
        dfspId: 'bank',
        currency: CURRENCY,
        switchUrl: hub.fspiopUrl as string,
        switchToken: bankToken,
        ilpSecret: randomBytes(24).toString('base64url'),
        listen: { fspiopPort: bankPort },
        fees: { payee: { flat: '1', rounding: 'half-up' } },
        ...REQUEST_SESSIONS,
        customers: Array.from({ length: TERMINALS }, (_, i) => ({ name: `Bench ATM ${i + 1}`, accountId: accountOf(i + 1), balance: '1000' })),
      },
      bankStore,
      { logger: pino({ level: 'error' }) },
    )
    const entries: TerminalEntry[] = Array.from({ length: TERMINALS }, (_, i) => ({ terminalId: terminalIdOf(i + 1), type: 'ATM', payeeId: accountOf(i + 1), currency: CURRENCY, name: `Bench ATM ${i + 1}` }))
    const port = new TimedPort(dfspPayee(bank.dfsp, CURRENCY), new Map(entries.map((e) => [e.payeeId as string, e.terminalId])))
    const gateway = new TimedGateway({ registry: new TerminalRegistry(entries), payee: port, ...GATEWAY_REMEMBERED })
    const server = new TerminalServer({ gateway, port: 0 })
    const bound = await server.start()

    const heapAtStart = { bankAndGateway: liveHeapMb(), switch: await switchRole.heap(), wallet: await walletRole.heap() }
    const terminalsRole = spawn(process.execPath, [...nodeFlags(process.env), import.meta.filename, '--role', 'terminals'], {
      env: { ...process.env, BENCH_GATEWAY: `${bound.host}:${bound.port}`, BENCH_WALLET_API: wallet.apiUrl as string, BENCH_TERMINALS: String(TERMINALS), BENCH_DURATION_MS: String(DURATION_MS) },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    children.push(terminalsRole)
    // The gateway shares its event loop with the bank: how long callbacks waited for it explains most overhead.
    const loopDelay = monitorEventLoopDelay({ resolution: 5 })
    loopDelay.enable()
    const rssPeak: Record<string, number> = { bankAndGateway: 0, switch: 0, wallet: 0, terminals: 0 }
    const sampler = setInterval(() => {
      rssPeak.bankAndGateway = Math.max(rssPeak.bankAndGateway as number, Math.round(process.memoryUsage().rss / 1_048_576))
      rssPeak.switch = Math.max(rssPeak.switch as number, rssMbOf(switchRole.child.pid))
      rssPeak.wallet = Math.max(rssPeak.wallet as number, rssMbOf(walletRole.child.pid))
      rssPeak.terminals = Math.max(rssPeak.terminals as number, rssMbOf(terminalsRole.pid))
    }, 500)
    const report = await new Promise<TerminalsReport>((resolve, reject) => {
      createInterface({ input: terminalsRole.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        if (line.startsWith('{"report"')) resolve((JSON.parse(line) as { report: TerminalsReport }).report)
      })
      terminalsRole.once('exit', (code) => reject(new Error(`the terminals exited with ${code}`)))
    })
    clearInterval(sampler)
    loopDelay.disable()
    const { approved, attempts, failures, elapsedS } = report
    const whole = [...report.whole]
    const overhead: number[] = []
    const handleOverhead: number[] = []
    const portTimes: number[] = []
    for (const [key, roundTripMs] of report.messages) {
      const inside = gateway.samples.get(key)
      if (inside === undefined) continue
      portTimes.push(inside.portMs)
      overhead.push(roundTripMs - inside.portMs)
      handleOverhead.push(inside.handleMs - inside.portMs)
    }
    // The bench's own samples go first: what stays is what the bank, its gateway and the peers keep.
    gateway.samples.clear()
    const heapAtEnd = { bankAndGateway: liveHeapMb(), switch: await switchRole.heap(), wallet: await walletRole.heap() }
    const keptPerCashOut = (part: keyof typeof heapAtEnd): number | null => {
      const [start, end] = [heapAtStart[part], heapAtEnd[part]]
      return start === null || end === null || approved === 0 ? null : Math.round(((end - start) * 1_048_576) / approved)
    }

    await server.stop()
    await bank.close()
    await Promise.all(children.map(stop))
    let checkOk = true
    const bankCheck = await checkLedger(bankStore)
    await bankStore.close()
    const reports = [['bank', bankCheck]] as [string, Awaited<ReturnType<typeof checkLedger>>][]
    for (const part of ['switch', 'wallet']) {
      const store = await openStore(where(part))
      reports.push([part, await checkLedger(store)])
      await store.close()
    }
    for (const [part, check] of reports) {
      if (check.problems.length > 0) {
        checkOk = false
        process.stdout.write(`check ${part}: ${JSON.stringify(check.problems.slice(0, 5))}\n`)
      }
    }

    const wholeSorted = sortedOf(whole)
    const overheadSorted = sortedOf(overhead)
    const handleSorted = sortedOf(handleOverhead)
    const portSorted = sortedOf(portTimes)
    return {
      bench: 'atm',
      store: postgresUrl === undefined ? 'sqlite' : 'postgres',
      perSec: Math.round((approved / elapsedS) * 10) / 10,
      p50Ms: round1(percentile(wholeSorted, 50)),
      p99Ms: round1(percentile(wholeSorted, 99)),
      gatewayOverheadP99Ms: round1(percentile(overheadSorted, 99)),
      successRate: attempts === 0 ? 0 : Math.round((approved / attempts) * 10_000) / 10_000,
      p95Ms: round1(percentile(wholeSorted, 95)),
      gatewayOverheadP50Ms: round1(percentile(overheadSorted, 50)),
      gatewayHandleOverheadP50Ms: round1(percentile(handleSorted, 50)),
      gatewayHandleOverheadP99Ms: round1(percentile(handleSorted, 99)),
      portP50Ms: round1(percentile(portSorted, 50)),
      portP99Ms: round1(percentile(portSorted, 99)),
      eventLoopDelayP50Ms: round1(loopDelay.percentile(50) / 1e6),
      eventLoopDelayP99Ms: round1(loopDelay.percentile(99) / 1e6),
      cashOuts: approved,
      failures,
      terminals: TERMINALS,
      durationS: Math.round(elapsedS * 10) / 10,
      rssMb: rssPeak,
      liveHeapMb: { start: heapAtStart, end: heapAtEnd },
      keptBytesPerCashOut: { bankAndGateway: keptPerCashOut('bankAndGateway'), switch: keptPerCashOut('switch'), wallet: keptPerCashOut('wallet') },
      checkOk,
    }
  } finally {
    await Promise.all(children.map(stop))
    rmSync(dataDir, { recursive: true, force: true })
    if (postgresUrl !== undefined) {
      const admin = new PostgresClient({ url: postgresUrl, poolMax: 1 })
      for (const part of ['switch', 'bank', 'wallet']) await admin.run(`DROP SCHEMA IF EXISTS ${quoteIdent(`${prefix}_${part}`)} CASCADE`)
      await admin.close()
    }
  }
}

if (args.role === 'terminals') {
  await runTerminals()
} else if (args.role !== undefined) {
  await runRole(args.role, args.store as string)
} else {
  const store = args.store ?? process.env.KIVUKO_BENCH_STORE
  const postgresUrl = store !== undefined && /^postgres(ql)?:\/\//.test(store) ? store : undefined
  if (store !== undefined && postgresUrl === undefined) throw new Error('--store takes a postgres:// URL; SQLite files are the default')
  const f = await runBench(postgresUrl)
  process.stdout.write(
    `${f.store.padEnd(8)} ${f.perSec} ATM cash-outs/s through ${f.terminals} terminals over ${f.durationS} s (${f.cashOuts} approved, success ${(f.successRate * 100).toFixed(2)} %)\n` +
      `         whole cash-out as the terminal sees it (0100 → SMS read → 0210): p50 ${f.p50Ms} ms p95 ${f.p95Ms} ms p99 ${f.p99Ms} ms\n` +
      `         PayeeDfsp port per message: p50 ${f.portP50Ms} ms p99 ${f.portP99Ms} ms\n` +
      `         gateway overhead per message (terminal round trip − port): p50 ${f.gatewayOverheadP50Ms} ms p99 ${f.gatewayOverheadP99Ms} ms (target < 20 ms p99)\n` +
      `         gateway handle() alone − port: p50 ${f.gatewayHandleOverheadP50Ms} ms p99 ${f.gatewayHandleOverheadP99Ms} ms; ` +
      `event-loop delay of the bank+gateway process p50 ${f.eventLoopDelayP50Ms} ms p99 ${f.eventLoopDelayP99Ms} ms\n` +
      `         rss MB (peak) ${JSON.stringify(f.rssMb)}, live heap MB after GC ${JSON.stringify(f.liveHeapMb)}, kept bytes per cash-out ${JSON.stringify(f.keptBytesPerCashOut)}\n` +
      `         ledger check ${f.checkOk ? 'ok' : 'FAILED'}` +
      `${Object.keys(f.failures).length > 0 ? `, failures ${JSON.stringify(f.failures)}` : ''}\n`,
  )
  process.stdout.write(`${JSON.stringify(f)}\n`)
}
