// SPDX-License-Identifier: Apache-2.0
/**
 * The `kivuko` command. The one place, with config/, that sees process.env; everything below it is given
 * its configuration explicitly.
 */
import type { KeyObject } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { ConfigError, loadConfig, type KivukoConfig } from '../config/load-config.ts'
import { checkLedger } from '../store/ledger/ledger-check.ts'
import { migrate } from '../store/migrate.ts'
import { openStore } from '../store/open-store.ts'
import { parseSigningKey } from '../fspiop/index.ts'
import { verificationKeysIn } from './jws-keys.ts'
import { startSwitch } from '../http/switch/start-switch.ts'
import { startDfsp, type DfspHandle } from '../http/dfsp/index.ts'
import { DEMO_CUSTOMERS, DEMO_TERMINALS, DEMO_WITHDRAWAL_FEE, type CustomerSeed } from '../dfsp/index.ts'
import { runInteractiveTerminal, TerminalGateway, TerminalRegistry, TerminalServer } from '../channels/terminal/index.ts'
import { dfspPayee } from '../http/terminal/dfsp-payee.ts'
import { runStart } from './start.ts'
import { untilSignal } from './signals.ts'

const USAGE = `usage: kivuko <command> [--store <path or postgres:// URL>]

commands:
  start     run the switch and two demo DFSPs ("bank", "wallet") in separate processes; --store picks SQLite
            files under ./data (default) or a postgres:// database (one schema per process)
  dfsp      run one DFSP against a switch: --id NAME --switch URL [--demo] [--currency USD]
            [--fspiop-port N] [--api-port N]; KIVUKO_DFSP_TOKEN and KIVUKO_DFSP_ILP_SECRET from the environment
  atm, pos  a virtual ATM or POS in the terminal, speaking ISO 8583 to a gateway: [--terminal ID]
            [--host 127.0.0.1] [--gateway-port 4300] [--currency USD]; the POS takes an OTP or the QR code
            of the customer's wallet app, and R at the OTP prompt asks for the code to be sent again
  sms       the SMS a DFSP kept (OTPs, payment notices), newest first, through its customer API:
            [--dfsp-url http://127.0.0.1:4121] (default: the demo wallet; the demo bank is :4111)
            [--msisdn NUMBER] [--limit 20]
  switch    run the switch alone: FSPIOP API on KIVUKO_SWITCH_PORT (4040), admin API on KIVUKO_ADMIN_PORT (4041)
  migrate   create or update the database schema
  check     verify every ledger invariant against the journal (exit 1 on any problem)
  help      this text

The store defaults to KIVUKO_STORE, else ./data/kivuko.db (SQLite).`

export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      store: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      id: { type: 'string' },
      switch: { type: 'string' },
      demo: { type: 'boolean' },
      currency: { type: 'string' },
      'fspiop-port': { type: 'string' },
      'api-port': { type: 'string' },
      'gateway-port': { type: 'string' },
      terminal: { type: 'string' },
      host: { type: 'string' },
      'dfsp-url': { type: 'string' },
      msisdn: { type: 'string' },
      limit: { type: 'string' },
    },
  })
  const command = positionals[0] ?? 'help'
  if (values.help === true || command === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  // Only an HTTP client of a running DFSP: no store, no configuration.
  if (command === 'sms') {
    return runSms({ dfspUrl: values['dfsp-url'] ?? DEMO_WALLET_API, msisdn: values.msisdn, limit: values.limit }, (text) => process.stdout.write(text), (text) => process.stderr.write(text))
  }
  let config: KivukoConfig
  try {
    config = loadConfig(values.store === undefined ? env : { ...env, KIVUKO_STORE: values.store })
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`)
      return 2
    }
    throw error
  }
  switch (command) {
    case 'start':
      return runStart({
        dataDir: values.store === undefined || !/^postgres(ql)?:\/\//.test(values.store) ? (values.store ?? './data') : './data',
        postgresUrl: values.store !== undefined && /^postgres(ql)?:\/\//.test(values.store) ? values.store : undefined,
        currency: values.currency ?? 'USD',
        env,
      })
    case 'dfsp':
      return runDfsp(config, env, values)
    case 'atm':
    case 'pos':
      await runInteractiveTerminal({
        host: values.host ?? '127.0.0.1',
        port: Number(values['gateway-port'] ?? env.KIVUKO_GATEWAY_PORT ?? 4300),
        terminalId: values.terminal ?? (command === 'atm' ? 'ATM00001' : 'POS00001'),
        kind: command === 'atm' ? 'ATM' : 'POS',
        currency: values.currency ?? 'USD',
        input: process.stdin,
        output: process.stdout,
      })
      return 0
    case 'switch':
      return runSwitch(config)
    case 'migrate':
      return runMigrate(config)
    case 'check':
      return runCheck(config)
    default:
      process.stderr.write(`kivuko: unknown command "${command}"\n${USAGE}\n`)
      return 2
  }
}

async function runSwitch(config: KivukoConfig): Promise<number> {
  const store = await openStore(config.store)
  const running = await startSwitch({
    store,
    host: config.switch.host,
    fspiopPort: config.switch.fspiopPort,
    adminPort: config.switch.adminPort,
    adminHost: config.switch.adminHost,
    batchEventsMax: config.ledger.batchEventsMax,
    expirySweepMs: config.ledger.expirySweepMs,
    outbox: { attemptTimeoutMs: config.switch.callbackTimeoutMs, leaseMs: config.switch.callbackLeaseMs, retentionMs: config.switch.outboxRetentionHours * 3_600_000 },
    oracleTimeoutMs: config.switch.oracleTimeoutMs,
    ...(config.switch.adminToken === undefined ? {} : { adminToken: config.switch.adminToken }),
    ...(config.switch.signingKeyFile === undefined ? {} : { signingKey: parseSigningKey(readFileSync(config.switch.signingKeyFile, 'utf8')) }),
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
  })
  // One JSON line that a parent process (kivuko start) or a script can wait for.
  process.stdout.write(`${JSON.stringify({ ready: 'switch', fspiopUrl: running.fspiopUrl, adminUrl: running.adminUrl })}\n`)
  await untilSignal()
  await running.close()
  await store.close()
  return 0
}

async function runDfsp(
  config: KivukoConfig,
  env: Readonly<Record<string, string | undefined>>,
  values: { id?: string; switch?: string; demo?: boolean; currency?: string; 'fspiop-port'?: string; 'api-port'?: string; 'gateway-port'?: string },
): Promise<number> {
  const id = values.id ?? env.KIVUKO_DFSP_ID
  const switchUrl = values.switch ?? env.KIVUKO_SWITCH_URL
  const ilpSecret = env.KIVUKO_DFSP_ILP_SECRET
  const problems = [
    ...(id === undefined ? ['--id (or KIVUKO_DFSP_ID) is required'] : []),
    ...(switchUrl === undefined ? ['--switch (or KIVUKO_SWITCH_URL) is required'] : []),
    ...(ilpSecret === undefined ? ['KIVUKO_DFSP_ILP_SECRET is required (at least 16 characters; keep it stable across restarts)'] : []),
  ]
  // The DFSP's JWS key: read here so that a missing or unusable file is a configuration problem, reported with the rest.
  const jwsKeyFile = env.KIVUKO_DFSP_JWS_KEY_FILE
  let signingKey: KeyObject | undefined
  if (jwsKeyFile !== undefined && jwsKeyFile !== '') {
    try {
      signingKey = parseSigningKey(readFileSync(jwsKeyFile, 'utf8'))
    } catch (error) {
      problems.push(`KIVUKO_DFSP_JWS_KEY_FILE ${jwsKeyFile}: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  const verifyDir = env.KIVUKO_DFSP_JWS_VERIFY_DIR
  if (verifyDir !== undefined && verifyDir !== '' && !existsSync(verifyDir)) problems.push(`KIVUKO_DFSP_JWS_VERIFY_DIR ${verifyDir} does not exist`)
  if (problems.length > 0) {
    process.stderr.write(`invalid configuration:\n  ${problems.join('\n  ')}\n`)
    return 2
  }
  const dfspId = id as string
  const currency = values.currency ?? env.KIVUKO_DFSP_CURRENCY ?? 'USD'
  const demo = values.demo === true ? (DEMO_CUSTOMERS as Record<string, readonly CustomerSeed[]>)[dfspId] : undefined
  const otpSecret = env.KIVUKO_DFSP_OTP_SECRET
  // Sessions kept per side, and as many responses and transactions in the gateway (a 0420 finds both).
  const sessionsMax = env.KIVUKO_DFSP_REQUEST_SESSIONS_MAX === undefined ? undefined : Number(env.KIVUKO_DFSP_REQUEST_SESSIONS_MAX)
  const store = await openStore(config.store)
  let handle: DfspHandle
  try {
    handle = await startDfsp(
      {
        dfspId,
        currency,
        ...(otpSecret === undefined ? {} : { otp: { secret: otpSecret } }),
        ...(sessionsMax === undefined ? {} : { requestSessionsMax: sessionsMax }),
        ...(values.demo === true ? { fees: { withdrawal: DEMO_WITHDRAWAL_FEE } } : {}),
        switchUrl: switchUrl as string,
        ilpSecret: ilpSecret as string,
        ...(env.KIVUKO_DFSP_TOKEN === undefined ? {} : { switchToken: env.KIVUKO_DFSP_TOKEN }),
        ...(demo === undefined ? {} : { customers: demo }),
        listen: { host: '127.0.0.1', fspiopPort: Number(values['fspiop-port'] ?? 0), apiPort: Number(values['api-port'] ?? 0) },
      },
      store,
      {
        logger: pino({ name: `dfsp:${dfspId}`, level: config.logLevel }),
        ...(signingKey === undefined ? {} : { signingKey }),
        ...(verifyDir === undefined || verifyDir === '' ? {} : { verificationKeyOf: verificationKeysIn(verifyDir) }),
      },
    )
  } catch (error) {
    await store.close()
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`)
      return 2
    }
    throw error
  }
  // The demo bank runs the ISO 8583 gateway of its ATM and POS, serving them in process.
  const gatewayPort = values['gateway-port']
  let gateway: TerminalServer | undefined
  let gatewayUrl: string | undefined
  if (gatewayPort !== undefined) {
    const registry = new TerminalRegistry(values.demo === true ? DEMO_TERMINALS.map((t) => ({ ...t, currency })) : [])
    const log = pino({ name: `gateway:${dfspId}`, level: config.logLevel })
    gateway = new TerminalServer({
      gateway: new TerminalGateway({ registry, payee: dfspPayee(handle.dfsp, currency), logger: log, ...(sessionsMax === undefined ? {} : { rememberedMax: sessionsMax }) }),
      port: Number(gatewayPort),
      logger: log,
    })
    const bound = await gateway.start()
    gatewayUrl = `tcp://${bound.host}:${bound.port}`
  }
  process.stdout.write(`${JSON.stringify({ ready: dfspId, fspiopUrl: handle.urls.fspiop, apiUrl: handle.urls.api, ...(gatewayUrl === undefined ? {} : { gatewayUrl }) })}\n`)
  await untilSignal()
  await gateway?.stop()
  await handle.close()
  await store.close()
  return 0
}

/** The demo wallet's customer API under `kivuko start` (KIVUKO_DEMO_PORT_BASE 4110 + 11). */
const DEMO_WALLET_API = 'http://127.0.0.1:4121'

export interface SmsOptions {
  /** The DFSP's customer API, e.g. http://127.0.0.1:4121. */
  readonly dfspUrl: string
  readonly msisdn?: string | undefined
  /** 1 to 999; default 20. */
  readonly limit?: string | undefined
}

/**
 * `kivuko sms`: lists the SMS a DFSP's keeping sender kept, newest first, one per line (time, number, state,
 * text), through GET /notifications of its customer API. The texts may hold codes: they are meant for the
 * person at this terminal playing the customer, and are printed, never logged. 0 listed, 1 the DFSP refused
 * or could not be reached, 2 bad arguments.
 */
export async function runSms(options: SmsOptions, out: (text: string) => void, err: (text: string) => void): Promise<number> {
  const problems: string[] = []
  let base: URL | undefined
  try {
    base = new URL(options.dfspUrl)
    if (base.protocol !== 'http:' && base.protocol !== 'https:') problems.push('--dfsp-url must be an http:// or https:// URL')
  } catch {
    problems.push(`--dfsp-url is not a URL: ${options.dfspUrl}`)
  }
  if (options.msisdn !== undefined && !/^[0-9]{3,15}$/.test(options.msisdn)) problems.push('--msisdn must be 3 to 15 digits')
  const limit = options.limit ?? '20'
  if (!/^[1-9][0-9]{0,2}$/.test(limit)) problems.push('--limit must be a whole number from 1 to 999')
  if (problems.length > 0 || base === undefined) {
    err(`kivuko sms: ${problems.join('; ')}\n`)
    return 2
  }
  const url = new URL('notifications', base.href.endsWith('/') ? base.href : `${base.href}/`)
  url.searchParams.set('limit', limit)
  if (options.msisdn !== undefined) url.searchParams.set('msisdn', options.msisdn)
  let response: Response
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  } catch (error) {
    err(`kivuko sms: ${url.origin} did not answer (${error instanceof Error ? error.message : String(error)}); is the DFSP running?\n`)
    return 1
  }
  const text = await response.text()
  let body: { notifications?: { msisdn: string; state: string; body: string | null; createdAt: string }[]; error?: { message?: string } } | undefined
  try {
    body = JSON.parse(text) as typeof body
  } catch {
    body = undefined
  }
  if (response.status !== 200 || body?.notifications === undefined) {
    err(`kivuko sms: ${url.origin} answered ${response.status}${body?.error?.message === undefined ? '' : `: ${body.error.message}`}\n`)
    return 1
  }
  if (body.notifications.length === 0) {
    out(options.msisdn === undefined ? 'no messages\n' : `no messages for ${options.msisdn}\n`)
    return 0
  }
  for (const n of body.notifications) out(`${n.createdAt}  ${n.msisdn.padEnd(15)}  ${n.state.padEnd(7)}  ${n.body ?? '(text purged after delivery)'}\n`)
  return 0
}

async function runMigrate(config: KivukoConfig): Promise<number> {
  const store = await openStore(config.store)
  try {
    const applied = await migrate(store)
    process.stdout.write(applied.length === 0 ? 'schema is up to date\n' : `applied ${applied.join(', ')}\n`)
    return 0
  } finally {
    await store.close()
  }
}

async function runCheck(config: KivukoConfig): Promise<number> {
  const store = await openStore(config.store)
  try {
    const report = await checkLedger(store)
    process.stdout.write(`${JSON.stringify({ ok: report.ok, accounts: report.accounts, transfers: report.transfers, problems: report.problems })}\n`)
    if (!report.ok) process.stderr.write(`kivuko check: ${report.problems.length} problem(s):\n  ${report.problems.join('\n  ')}\n`)
    return report.ok ? 0 : 1
  } finally {
    await store.close()
  }
}

if (import.meta.main) {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code
    },
    (error: unknown) => {
      process.stderr.write(`kivuko: ${error instanceof Error ? error.message : String(error)}\n`)
      process.exitCode = 1
    },
  )
}
