// SPDX-License-Identifier: Apache-2.0
/**
 * `npm run interop:sdk`: Mojaloop's own DFSP software against Kivuko. Two SDK scheme adapters
 * (`@mojaloop/sdk-scheme-adapter`, the connector most Mojaloop DFSPs run, installed apart in
 * interop/sdk-scheme-adapter) join a `kivuko start` scheme as the participants `sdkpayer` and `sdkpayee`,
 * provisioned through the admin API as Mojaloop's scripts do, each with a small core-banking backend of its
 * own; then transfers run through the SDK's outbound API and Kivuko's DFSP API in every direction, and the
 * errors a DFSP must see come back with their FSPIOP codes.
 *
 * With INTEROP_JWS=0 the adapters neither sign nor verify; by default they do both, as Mojaloop's SDK does out
 * of the box: each adapter's key is registered at the switch, the switch signs what it writes with the hub
 * key, and Kivuko's demo DFSPs sign with theirs and verify their peers' (kivuko start makes and registers their
 * keys when the hub signs), so every message with a body is signed and checked at both ends.
 *
 * Needs Redis (the adapter's cache) at INTEROP_REDIS_URL, default redis://127.0.0.1:6379 (databases 11 and
 * 12). Prints one line per scenario; the last line is one JSON object; exits 1 if any scenario failed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { adminCall, provisionParticipant } from '../src/cli/provision.ts'
import { formatAmount, parseAmount } from '../src/core/money.ts'
import { freeDemoPortBase, freePort } from '../test/support/ports.ts'

const ROOT = join(import.meta.dirname, '..')
const ADAPTER_DIR = join(ROOT, 'interop', 'sdk-scheme-adapter')
const ADAPTER = join(ADAPTER_DIR, 'node_modules', '@mojaloop', 'sdk-scheme-adapter', 'src', 'index.js')
const KIVUKO = join(ROOT, 'bin', 'kivuko.js')
const JWS = process.env.INTEROP_JWS !== '0'
const REDIS_URL = (process.env.INTEROP_REDIS_URL ?? 'redis://127.0.0.1:6379').replace(/\/$/, '')
const VERBOSE = process.env.INTEROP_VERBOSE === '1'
const CURRENCY = 'USD'
// Demo customers of `kivuko start` (src/dfsp/demo.ts).
const ALICE = '256700000001'
const CAROL = '256780000001'

const children: ChildProcess[] = []
const dataDir = mkdtempSync(join(tmpdir(), 'kivuko-interop-sdk-'))
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  rmSync(dataDir, { recursive: true, force: true })
})

/** Installs the adapter from its lock file the first time (no install scripts: no native addons). */
function installAdapter(): void {
  if (existsSync(ADAPTER)) return
  process.stdout.write('installing @mojaloop/sdk-scheme-adapter into interop/sdk-scheme-adapter (once)…\n')
  const npm = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: ADAPTER_DIR, stdio: 'inherit' })
  if (npm.status !== 0) throw new Error('npm ci in interop/sdk-scheme-adapter failed')
}

async function json(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  const text = await response.text()
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) }
}

function readBody(req: IncomingMessage): Promise<any> {
  return new Promise((resolve) => {
    let text = ''
    req.on('data', (chunk: Buffer) => (text += chunk.toString()))
    req.on('end', () => resolve(text === '' ? undefined : JSON.parse(text)))
  })
}

interface Backend {
  readonly port: number
  /** Transfers the adapter announced to its backend (POST /transfers), by transferId. */
  readonly transfers: Map<string, any>
}

/**
 * A DFSP's core system behind its adapter (the SDK's backend API): one customer per MSISDN it is asked
 * about, quotes without fees, every transfer accepted.
 */
async function startBackend(fspId: string): Promise<Backend> {
  const transfers = new Map<string, any>()
  const server = createServer(async (req, res) => {
    const body = await readBody(req)
    const url = req.url ?? ''
    res.setHeader('content-type', 'application/json')
    if (req.method === 'GET' && url.startsWith('/parties/MSISDN/')) {
      const idValue = url.split('/')[3]
      res.end(JSON.stringify({ idType: 'MSISDN', idValue, displayName: 'Ada Lovelace', firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1990-01-01', fspId }))
    } else if (req.method === 'POST' && url === '/quoterequests') {
      // No fee on SEND; on RECEIVE the payee charges a flat 0.50, which the payer pays on top.
      const fee = body.amountType === 'RECEIVE' ? '0.5' : '0'
      const transferAmount = body.amountType === 'RECEIVE' ? formatAmount(minor(body.amount) + 50n, CURRENCY) : body.amount
      res.end(
        JSON.stringify({
          quoteId: body.quoteId,
          transactionId: body.transactionId,
          transferAmount,
          transferAmountCurrency: body.currency,
          payeeReceiveAmount: body.amount,
          payeeReceiveAmountCurrency: body.currency,
          payeeFspFeeAmount: fee,
          payeeFspFeeAmountCurrency: body.currency,
        }),
      )
    } else if (req.method === 'POST' && url === '/transfers') {
      transfers.set(body.transferId, body)
      res.end(JSON.stringify({ homeTransactionId: `core-${body.transferId}` }))
    } else if (req.method === 'PUT') {
      res.end('{}')
    } else {
      res.statusCode = 404
      res.end(JSON.stringify({ statusCode: '3201', message: `${req.method} ${url} is not served here` }))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  server.unref()
  return { port: (server.address() as AddressInfo).port, transfers }
}

interface Keys {
  readonly privatePem: string
  readonly publicPem: string
}

function rsaKeys(): Keys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string }
}

interface Adapter {
  readonly fspId: string
  readonly outbound: string
  readonly backend: Backend
  readonly log: string[]
}

/** One SDK scheme adapter as participant `fspId`: provisioned at the switch, then started against it. */
async function startAdapter(fspId: string, redisDb: number, scheme: Scheme, keysDir: string, keys: Keys): Promise<Adapter> {
  const backend = await startBackend(fspId)
  const [inbound, outbound, test, metrics] = [await freePort(), await freePort(), await freePort(), await freePort()]
  const token = await provisionParticipant(scheme.adminUrl, { name: fspId, currency: CURRENCY, fspiopUrl: `http://127.0.0.1:${inbound}`, netDebitCap: '1000', liquidity: '1000' })
  if (JWS) await adminCall(scheme.adminUrl, 'PUT', `/participants/${fspId}/jwsKey`, { publicKey: keys.publicPem })
  const signingKey = join(dataDir, `${fspId}-private.pem`)
  writeFileSync(signingKey, keys.privatePem)
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    DFSP_ID: fspId,
    INBOUND_LISTEN_PORT: String(inbound),
    OUTBOUND_LISTEN_PORT: String(outbound),
    TEST_LISTEN_PORT: String(test),
    METRICS_SERVER_LISTEN_PORT: String(metrics),
    PEER_ENDPOINT: new URL(scheme.fspiopUrl).host,
    // The oracle is the switch's own (`/participants`), as an ALS behind it would be.
    ALS_ENDPOINT: new URL(scheme.fspiopUrl).host,
    BACKEND_ENDPOINT: `127.0.0.1:${backend.port}`,
    CACHE_URL: `${REDIS_URL}/${redisDb}`,
    // The participant's API token at Kivuko's switch, sent as the SDK sends a WSO2 gateway's bearer token.
    WSO2_BEARER_TOKEN: token,
    ILP_SECRET: `interop-ilp-secret-${fspId}-${randomUUID()}`,
    JWS_SIGN: String(JWS),
    VALIDATE_INBOUND_JWS: String(JWS),
    JWS_SIGNING_KEY_PATH: signingKey,
    JWS_VERIFICATION_KEYS_DIRECTORY: keysDir,
    AUTO_ACCEPT_PARTY: 'true',
    AUTO_ACCEPT_QUOTES: 'true',
    EXPIRY_SECONDS: '60',
    REQUEST_PROCESSING_TIMEOUT_SECONDS: '20',
    LOG_INDENT: '0',
  }
  const child = spawn(process.execPath, ['--require', join(ADAPTER_DIR, 'without-grpc.cjs'), ADAPTER], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  const log: string[] = []
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      log.push(line)
      if (log.length > 400) log.shift()
      if (VERBOSE) process.stdout.write(`  [${fspId}] ${line.slice(0, 500)}\n`)
    })
  }
  const url = `http://127.0.0.1:${outbound}`
  for (let attempt = 0; ; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`the ${fspId} adapter exited (${child.exitCode}):\n${log.slice(-30).join('\n')}`)
    try {
      await fetch(url)
      break
    } catch {
      if (attempt > 150) throw new Error(`the ${fspId} adapter did not listen on ${url}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
  return { fspId, outbound: url, backend, log }
}

interface Scheme {
  readonly fspiopUrl: string
  readonly adminUrl: string
  readonly bank: string
  readonly wallet: string
}

async function startScheme(hubKeyFile: string | undefined): Promise<Scheme> {
  const [switchPort, adminPort, demoBase] = [await freePort(), await freePort(), await freeDemoPortBase()]
  const env: Record<string, string | undefined> = {
    ...process.env,
    KIVUKO_SWITCH_PORT: String(switchPort),
    KIVUKO_ADMIN_PORT: String(adminPort),
    KIVUKO_DEMO_PORT_BASE: String(demoBase),
    KIVUKO_LOG_LEVEL: VERBOSE ? 'info' : 'error',
    ...(hubKeyFile === undefined ? {} : { KIVUKO_HUB_JWS_KEY_FILE: hubKeyFile }),
  }
  const child = spawn(process.execPath, [KIVUKO, 'start', '--store', join(dataDir, 'kivuko')], { env, stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.startsWith('{"ready":"kivuko"')) resolve(JSON.parse(line) as Scheme)
    })
    child.on('exit', (code) => reject(new Error(`kivuko start exited with ${code}`)))
  })
}

interface Outcome {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
}

const outcomes: Outcome[] = []
async function scenario(name: string, run: () => Promise<string>): Promise<void> {
  const started = performance.now()
  try {
    const detail = await run()
    outcomes.push({ name, ok: true, detail })
    process.stdout.write(`ok    ${name} (${Math.round(performance.now() - started)} ms): ${detail}\n`)
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error)
    outcomes.push({ name, ok: false, detail })
    process.stdout.write(`FAIL  ${name} (${Math.round(performance.now() - started)} ms): ${detail}\n`)
  }
}

function expect(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message)
}

/** A transfer through an adapter's outbound API (look-up, quote and transfer, auto-accepted). */
function sdkSend(from: Adapter, toMsisdn: string, amount: string, amountType: 'SEND' | 'RECEIVE' = 'SEND'): Promise<{ status: number; body: any }> {
  return json('POST', `${from.outbound}/transfers`, {
    homeTransactionId: `home-${randomUUID()}`,
    from: { idType: 'MSISDN', idValue: '255700000001', displayName: 'Pat Payer', firstName: 'Pat', lastName: 'Payer' },
    to: { idType: 'MSISDN', idValue: toMsisdn },
    amountType,
    currency: CURRENCY,
    amount,
    transactionType: 'TRANSFER',
    note: 'interop',
  })
}

/** A USD amount as minor units, signed (positions go below zero); amounts never pass through a JS number. */
function minor(text: string): bigint {
  const negative = text.startsWith('-')
  const parsed = parseAmount(negative ? text.slice(1) : text, CURRENCY, { grammar: 'decimal' })
  if (!parsed.ok) throw new Error(`not a ${CURRENCY} amount: ${text}`)
  return negative ? -parsed.value : parsed.value
}

async function position(scheme: Scheme, fspId: string): Promise<string> {
  const { body } = await adminCall(scheme.adminUrl, 'GET', `/participants/${fspId}/positions`)
  return (body as { currency: string; value: string }[]).find((p) => p.currency === CURRENCY)?.value ?? 'none'
}

async function balance(apiUrl: string, msisdn: string): Promise<string> {
  const { body } = await json('GET', `${apiUrl}/customers/${msisdn}/balance`)
  return body.available as string
}

async function main(): Promise<void> {
  installAdapter()
  const keysDir = join(dataDir, 'jws-keys')
  const keys: Record<string, Keys> = Object.fromEntries(['switch', 'sdkpayer', 'sdkpayee'].map((fspId) => [fspId, rsaKeys()]))
  mkdirSync(keysDir)
  // What every adapter verifies with: the public key of each participant and of the hub, by FSPIOP-Source.
  for (const [fspId, pair] of Object.entries(keys)) writeFileSync(join(keysDir, `${fspId}.pem`), pair.publicPem)
  const hubKeyFile = join(dataDir, 'switch-private.pem')
  writeFileSync(hubKeyFile, (keys.switch as Keys).privatePem)
  // With the hub signing, kivuko start gives its demo DFSPs keys of their own and registers them at the switch.
  const scheme = await startScheme(JWS ? hubKeyFile : undefined)
  if (JWS) {
    for (const fspId of ['bank', 'wallet']) writeFileSync(join(keysDir, `${fspId}.pem`), readFileSync(join(dataDir, 'kivuko', `${fspId}.jws-public.pem`)))
    // Kivuko's DFSPs verify too: the adapters' keys go where they read peers' keys (the SDK's own layout).
    for (const fspId of ['sdkpayer', 'sdkpayee']) writeFileSync(join(dataDir, 'kivuko', 'jws-keys', `${fspId}.pem`), (keys[fspId] as Keys).publicPem)
  }
  const payer = await startAdapter('sdkpayer', 11, scheme, keysDir, keys.sdkpayer as Keys)
  const payee = await startAdapter('sdkpayee', 12, scheme, keysDir, keys.sdkpayee as Keys)
  process.stdout.write(`kivuko start, adapters sdkpayer and sdkpayee up (JWS ${JWS ? 'signed and verified' : 'off'})\n`)
  const payeeMsisdn = `2557${String(Date.now()).slice(-8)}`

  await scenario('SDK registers its customer in the oracle (POST /accounts → POST /participants/MSISDN/{id})', async () => {
    const { status, body } = await json('POST', `${payee.outbound}/accounts`, [{ idType: 'MSISDN', idValue: payeeMsisdn, currency: CURRENCY }])
    expect(status === 200, `status ${status}: ${JSON.stringify(body)}`)
    const created = body.response?.[0]
    expect(created?.idValue === payeeMsisdn && created.error === undefined, `response ${JSON.stringify(body.response)}`)
    return `${payeeMsisdn} registered by sdkpayee`
  })

  await scenario('SDK payer → SDK payee: look-up, quote, transfer', async () => {
    const before = await position(scheme, 'sdkpayer')
    const { status, body } = await sdkSend(payer, payeeMsisdn, '12.34')
    expect(status === 200 && body.currentState === 'COMPLETED', `status ${status}, state ${body.currentState}: ${JSON.stringify(body).slice(0, 600)}`)
    expect(body.getPartiesResponse?.body?.party?.name === 'Ada Lovelace', `party ${JSON.stringify(body.getPartiesResponse?.body)}`)
    expect(payee.backend.transfers.has(body.transferId), 'the payee backend was not told of the transfer')
    const detail = await adminCall(scheme.adminUrl, 'GET', `/transfers/${body.transferId}`)
    expect(detail.body.state === 'COMMITTED', `the switch has it ${detail.body.state}`)
    const after = await position(scheme, 'sdkpayer')
    expect(minor(after) - minor(before) === 1234n, `sdkpayer position ${before} → ${after}`)
    return `COMPLETED, transfer ${body.transferId} COMMITTED at the switch, sdkpayer position ${before} → ${after}`
  })

  await scenario('SDK payer → SDK payee, RECEIVE 10.00 with a payee fee of 0.50', async () => {
    const before = await position(scheme, 'sdkpayee')
    const { status, body } = await sdkSend(payer, payeeMsisdn, '10', 'RECEIVE')
    expect(status === 200 && body.currentState === 'COMPLETED', `status ${status}, state ${body.currentState}: ${JSON.stringify(body).slice(0, 600)}`)
    const quote = body.quoteResponse?.body
    expect(quote?.transferAmount?.amount === '10.5' && quote?.payeeReceiveAmount?.amount === '10' && quote?.payeeFspFee?.amount === '0.5', `quote ${JSON.stringify(quote)}`)
    const after = await position(scheme, 'sdkpayee')
    expect(minor(before) - minor(after) === 1050n, `sdkpayee position ${before} → ${after}`)
    return `COMPLETED, transfer amount ${quote.transferAmount.amount}, sdkpayee position ${before} → ${after}`
  })

  await scenario('SDK payer → Kivuko wallet customer', async () => {
    const before = await balance(scheme.wallet, CAROL)
    const { status, body } = await sdkSend(payer, CAROL, '5')
    expect(status === 200 && body.currentState === 'COMPLETED', `status ${status}, state ${body.currentState}: ${JSON.stringify(body).slice(0, 600)}`)
    const after = await balance(scheme.wallet, CAROL)
    expect(minor(after) - minor(before) === 500n, `Carol's balance ${before} → ${after}`)
    return `COMPLETED, Carol ${before} → ${after}`
  })

  await scenario('Kivuko bank customer → SDK payee', async () => {
    const before = await balance(scheme.bank, ALICE)
    const { status, body } = await json('POST', `${scheme.bank}/send`, { from: { msisdn: ALICE }, to: { idType: 'MSISDN', idValue: payeeMsisdn }, amount: '7', currency: CURRENCY, amountType: 'SEND' })
    expect(status === 200 && body.currentState === 'COMMITTED', `status ${status}: ${JSON.stringify(body).slice(0, 600)}`)
    expect(payee.backend.transfers.has(body.transferId), 'the payee backend was not told of the transfer')
    const after = await balance(scheme.bank, ALICE)
    expect(minor(before) - minor(after) === 700n, `Alice's balance ${before} → ${after}`)
    return `COMMITTED, Alice ${before} → ${after}, the SDK's backend got transfer ${body.transferId}`
  })

  await scenario('SDK payer, unknown party: 3204', async () => {
    const { status, body } = await sdkSend(payer, '255799999999', '1')
    expect(status >= 400 && body.statusCode === '3204', `status ${status}, statusCode ${body.statusCode}: ${JSON.stringify(body).slice(0, 400)}`)
    return `HTTP ${status}, statusCode ${body.statusCode}`
  })

  await scenario('SDK payer beyond its net debit cap: 4001', async () => {
    const { status, body } = await sdkSend(payer, payeeMsisdn, '5000')
    expect(status >= 400 && (body.statusCode === '4001' || body.statusCode === '4200'), `status ${status}, statusCode ${body.statusCode}: ${JSON.stringify(body).slice(0, 400)}`)
    return `HTTP ${status}, statusCode ${body.statusCode} (${body.transferState?.lastError?.mojaloopError?.errorInformation?.errorDescription ?? body.message})`
  })

  const check = spawnSync(process.execPath, [KIVUKO, 'check', '--store', join(dataDir, 'kivuko', 'switch.db')], { encoding: 'utf8' })
  await scenario('kivuko check on the switch store', async () => {
    expect(check.status === 0, `exit ${check.status}: ${check.stdout}${check.stderr}`)
    return check.stdout.trim()
  })

  const failed = outcomes.filter((o) => !o.ok)
  if (failed.length > 0 && !VERBOSE) {
    for (const adapter of [payer, payee]) process.stdout.write(`--- last lines of ${adapter.fspId}'s log\n${adapter.log.slice(-15).join('\n')}\n`)
  }
  process.stdout.write(`${JSON.stringify({ interop: 'sdk-scheme-adapter', version: '18.0.2', jws: JWS, passed: outcomes.length - failed.length, failed: failed.length, scenarios: outcomes.map((o) => ({ name: o.name, ok: o.ok })) })}\n`)
  process.exitCode = failed.length > 0 ? 1 : 0
}

await main()
process.exit()
