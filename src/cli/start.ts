// SPDX-License-Identifier: Apache-2.0
/**
 * `kivuko start`: the switch and two demo DFSPs ("bank" and "wallet"), each in its own process so that
 * they use both CPU cores, each on its own store (SQLite files under the data folder, or PostgreSQL schemas
 * of the given database). The parent provisions the scheme through the switch's admin API — participants,
 * endpoints, net debit caps, opening liquidity, credentials — then starts the DFSPs, which open their demo
 * customers and register them in the switch's oracle.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { DEFAULT_HUB_NAME } from '../switch/switch.ts'
import { adminCall, provisionParticipant } from './provision.ts'
import { untilSignal } from './signals.ts'

const KIVUKO = join(import.meta.dirname, '..', '..', 'bin', 'kivuko.js')

export interface StartOptions {
  /** A folder for SQLite files and secrets, or undefined with a PostgreSQL URL. */
  readonly dataDir: string
  /** A postgres:// URL: each process gets its own schema there. Undefined: SQLite files in dataDir. */
  readonly postgresUrl: string | undefined
  readonly currency: string
  readonly env: Readonly<Record<string, string | undefined>>
}

interface DemoDfsp {
  readonly id: 'bank' | 'wallet'
  readonly fspiopPort: number
  readonly apiPort: number
  readonly liquidity: string
}

/** The demo DFSPs' ports: bank at base and base+1, wallet at base+10 and base+11 (KIVUKO_DEMO_PORT_BASE, default 4110). */
function demoDfsps(base: number): readonly DemoDfsp[] {
  return [
    { id: 'bank', fspiopPort: base, apiPort: base + 1, liquidity: '100000' },
    { id: 'wallet', fspiopPort: base + 10, apiPort: base + 11, liquidity: '100000' },
  ]
}
const NET_DEBIT_CAP = '50000'

/** Each part's store: a SQLite file, or a schema `<prefix>_<part>` (prefix from ?schema=, default kivuko). */
function storeFor(options: StartOptions, part: string): string {
  if (options.postgresUrl === undefined) return join(options.dataDir, `${part}.db`)
  const url = new URL(options.postgresUrl)
  const prefix = url.searchParams.get('schema') ?? 'kivuko'
  url.searchParams.set('schema', `${prefix}_${part}`)
  return url.toString()
}

/** A DFSP's secrets must outlive restarts (quotes and OTPs in flight depend on them): kept in the data folder. */
function secretFor(dataDir: string, id: string, kind: 'ilp' | 'otp'): string {
  const file = join(dataDir, `${id}.${kind}-secret`)
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 })
  return readFileSync(file, 'utf8').trim()
}

/**
 * A demo DFSP's JWS key pair, kept in the data folder like its secrets (`{id}.jws-private.pem`, mode 0600,
 * and `{id}.jws-public.pem`): made when the scheme signs (KIVUKO_HUB_JWS_KEY_FILE), so that the demo DFSPs
 * sign as the switch then expects of every participant whose key it holds. Returns the private key's file.
 */
export function jwsKeyFor(dataDir: string, id: string): { privateFile: string; publicPem: string } {
  const privateFile = join(dataDir, `${id}.jws-private.pem`)
  const publicFile = join(dataDir, `${id}.jws-public.pem`)
  if (!existsSync(privateFile) || !existsSync(publicFile)) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    writeFileSync(privateFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
    writeFileSync(publicFile, publicKey.export({ type: 'spki', format: 'pem' }))
  }
  return { privateFile, publicPem: readFileSync(publicFile, 'utf8') }
}

/**
 * V8 flags for each part (a flag given in NODE_OPTIONS wins):
 * - a young generation of 2 × 16 MB. Under load V8 otherwise grows it to 2 × 64 MB, which was most of a
 *   part's resident memory (RSS ~300 MB with ~40 MB live), for no measurable CPU gain: what a request
 *   allocates dies young either way;
 * - an old generation of at most 512 MB (12 × what a part holds live). With V8's default for this machine
 *   (about 4 GB) full collections came so rarely that memory held by garbage grew RSS by ~50 MB per 100,000
 *   transfers between them (bench:e2e, 1M transfers: 270 → 340 MB, back to ~180 after a full GC, live heap
 *   ~40 MB throughout); with a limit, 15,000 transfers left RSS flat at ~200-225 MB, at the same throughput.
 */
export function nodeFlags(env: NodeJS.ProcessEnv): string[] {
  const options = env.NODE_OPTIONS ?? ''
  return [
    ...(/--max-semi-space-size/.test(options) ? [] : ['--max-semi-space-size=16']),
    ...(/--max-old-space-size/.test(options) ? [] : ['--max-old-space-size=512']),
  ]
}

/** Runs `kivuko <args>` as a child and resolves with its first JSON "ready" line. */
function spawnPart(name: string, args: string[], env: Record<string, string | undefined>, children: ChildProcess[]): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags(process.env), KIVUKO, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
    children.push(child)
    let ready = false
    const lines = createInterface({ input: child.stdout })
    lines.on('line', (line) => {
      if (!ready && line.startsWith('{"ready"')) {
        ready = true
        resolve(JSON.parse(line) as Record<string, string>)
        return
      }
      process.stdout.write(`${name}: ${line}\n`)
    })
    child.on('exit', (code, signal) => {
      if (!ready) reject(new Error(`${name} stopped before it was ready (code ${code}, signal ${signal})`))
    })
  })
}

export async function runStart(options: StartOptions): Promise<number> {
  mkdirSync(options.dataDir, { recursive: true })
  const base = Number(options.env.KIVUKO_DEMO_PORT_BASE ?? 4110)
  if (!Number.isInteger(base) || base < 1 || base > 65_500) throw new Error(`KIVUKO_DEMO_PORT_BASE must be a port number, got ${options.env.KIVUKO_DEMO_PORT_BASE}`)
  const DEMO_DFSPS = demoDfsps(base)
  const children: ChildProcess[] = []
  const stopAll = (): void => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM')
  }
  try {
    // The parts log warnings and errors only, unless KIVUKO_LOG_LEVEL asks for more.
    const logLevel = options.env.KIVUKO_LOG_LEVEL ?? 'warn'
    const switchReady = await spawnPart('switch', ['switch'], { KIVUKO_STORE: storeFor(options, 'switch'), KIVUKO_LOG_LEVEL: logLevel }, children)
    const adminUrl = switchReady.adminUrl as string
    const fspiopUrl = switchReady.fspiopUrl as string
    const tokens = new Map<string, string>()
    // A scheme whose hub signs (KIVUKO_HUB_JWS_KEY_FILE) has its demo DFSPs sign too, each with its own key.
    const signs = (options.env.KIVUKO_HUB_JWS_KEY_FILE ?? '') !== ''
    // …and each verifies what it receives: the hub's key and every demo DFSP's, by FspId, in one directory
    // (another participant's key dropped there later is read when that participant first signs).
    const verifyDir = join(options.dataDir, 'jws-keys')
    const jwsKeys = new Map(signs ? DEMO_DFSPS.map((dfsp) => [dfsp.id, jwsKeyFor(options.dataDir, dfsp.id)] as const) : [])
    if (signs) {
      mkdirSync(verifyDir, { recursive: true })
      const hubPublic = createPublicKey(readFileSync(options.env.KIVUKO_HUB_JWS_KEY_FILE as string, 'utf8')).export({ type: 'spki', format: 'pem' })
      writeFileSync(join(verifyDir, `${DEFAULT_HUB_NAME}.pem`), hubPublic)
      for (const [id, key] of jwsKeys) writeFileSync(join(verifyDir, `${id}.pem`), key.publicPem)
    }
    for (const dfsp of DEMO_DFSPS) {
      const provisioning = { name: dfsp.id, currency: options.currency, fspiopUrl: `http://127.0.0.1:${dfsp.fspiopPort}`, netDebitCap: NET_DEBIT_CAP, liquidity: dfsp.liquidity }
      tokens.set(dfsp.id, await provisionParticipant(adminUrl, provisioning, options.env.KIVUKO_ADMIN_TOKEN))
      const jwsKey = jwsKeys.get(dfsp.id)
      if (jwsKey !== undefined) await adminCall(adminUrl, 'PUT', `/participants/${dfsp.id}/jwsKey`, { publicKey: jwsKey.publicPem }, options.env.KIVUKO_ADMIN_TOKEN)
    }
    const dfspReady = await Promise.all(
      DEMO_DFSPS.map((dfsp) =>
        spawnPart(
          dfsp.id,
          [
            'dfsp',
            '--id',
            dfsp.id,
            '--demo',
            '--switch',
            fspiopUrl,
            '--fspiop-port',
            String(dfsp.fspiopPort),
            '--api-port',
            String(dfsp.apiPort),
            '--currency',
            options.currency,
            // The bank runs the ATM/POS gateway of its demo terminals.
            ...(dfsp.id === 'bank' ? ['--gateway-port', String(base + 190)] : []),
          ],
          {
            KIVUKO_STORE: storeFor(options, dfsp.id),
            KIVUKO_LOG_LEVEL: logLevel,
            KIVUKO_DFSP_TOKEN: tokens.get(dfsp.id),
            KIVUKO_DFSP_ILP_SECRET: secretFor(options.dataDir, dfsp.id, 'ilp'),
            KIVUKO_DFSP_OTP_SECRET: secretFor(options.dataDir, dfsp.id, 'otp'),
            ...(jwsKeys.has(dfsp.id) ? { KIVUKO_DFSP_JWS_KEY_FILE: jwsKeys.get(dfsp.id)?.privateFile, KIVUKO_DFSP_JWS_VERIFY_DIR: verifyDir } : {}),
          },
          children,
        ),
      ),
    )
    process.stdout.write(
      [
        '',
        'Kivuko is running:',
        `  switch FSPIOP API   ${fspiopUrl}`,
        `  switch admin API    ${adminUrl}   (OpenAPI: ${adminUrl}/documentation, metrics: ${adminUrl}/metrics)`,
        ...DEMO_DFSPS.map((dfsp, i) => `  ${dfsp.id.padEnd(6)} API          ${dfspReady[i]?.apiUrl}   (send money, balances; OpenAPI at /documentation)`),
        `  ATM/POS gateway     ${dfspReady[0]?.gatewayUrl}   (ISO 8583; terminals ATM00001 and POS00001 of the bank)`,
        '',
        'Try a transfer from Alice (bank) to Carol (wallet):',
        `  curl -s -X POST ${dfspReady[0]?.apiUrl}/send -H 'content-type: application/json' \\`,
        `    -d '{"from":{"msisdn":"256700000001"},"to":{"idType":"MSISDN","idValue":"256780000001"},"amount":"25","currency":"${options.currency}","amountType":"SEND"}'`,
        '',
        'Try an ATM cash-out for Carol (wallet): ask her wallet for an OTP, read the SMS, then use the virtual ATM:',
        `  curl -s -X POST ${dfspReady[1]?.apiUrl}/customers/256780000001/otp -H 'content-type: application/json' -d '{}'`,
        `  curl -s ${dfspReady[1]?.apiUrl}/customers/256780000001/notifications`,
        `  npx kivuko atm --gateway-port ${base + 190}`,
        '',
        'Or pay at the POS with a one-time QR code from her wallet app (choose 2 at the POS), then read the SMS sent:',
        `  curl -s -X POST ${dfspReady[1]?.apiUrl}/customers/256780000001/qrcode -H 'content-type: application/json' -d '{}'`,
        `  npx kivuko pos --gateway-port ${base + 190}`,
        `  npx kivuko sms --dfsp-url ${dfspReady[1]?.apiUrl}`,
        '',
        'Stop with Ctrl-C.',
        '',
      ].join('\n'),
    )
    process.stdout.write(`${JSON.stringify({ ready: 'kivuko', fspiopUrl, adminUrl, bank: dfspReady[0]?.apiUrl, wallet: dfspReady[1]?.apiUrl, gateway: dfspReady[0]?.gatewayUrl })}\n`)
  } catch (error) {
    stopAll()
    throw error
  }
  // One part dying takes the demo down with it, rather than leaving a half-working scheme.
  await untilSignal((stop) => {
    for (const child of children) child.on('exit', stop)
  })
  stopAll()
  await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.on('exit', resolve)) : undefined)))
  return 0
}
