// SPDX-License-Identifier: Apache-2.0
/**
 * Configuration: pure, strict, and honest. Environment in, frozen object out; every problem is reported at
 * once; booleans are only "true" or "false"; nothing secret has a default. Only the CLI passes process.env.
 */
import { DEFAULT_SCHEME_MAX_MINOR, findCurrency, parseAmount } from '../core/money.ts'

export type Env = Readonly<Record<string, string | undefined>>

export interface KivukoConfig {
  /** Where the data lives: a SQLite file path (the default) or a postgres:// URL. */
  readonly store: string
  readonly ledger: {
    /** Most operations in one database transaction (one fsync). */
    readonly batchEventsMax: number
    /** How often the expiry sweeper looks for due reservations. */
    readonly expirySweepMs: number
    /** The scheme maximum per operation, per currency, in minor units. */
    readonly schemeMaxMinor: ReadonlyMap<string, bigint>
  }
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  readonly switch: {
    readonly host: string
    /** The FSPIOP API, for participants. */
    readonly fspiopPort: number
    /** The operator's admin API; on adminHost, loopback by default. */
    readonly adminPort: number
    readonly adminHost: string
    /** When set, the admin API requires `Authorization: Bearer <adminToken>`. */
    readonly adminToken: string | undefined
    /** One callback delivery attempt's time limit. */
    readonly callbackTimeoutMs: number
    /** How long a claimed callback stays with the process that claimed it before another may take it. */
    readonly callbackLeaseMs: number
    /** How long delivered (or given-up) callbacks are kept before they are purged. */
    readonly outboxRetentionHours: number
    /** A PEM file with the hub's private key: messages the switch writes itself are then signed (FSPIOP-Signature). */
    readonly signingKeyFile: string | undefined
    /** How long an external oracle (registered with POST /oracles) has to answer a look-up. */
    readonly oracleTimeoutMs: number
  }
}

export class ConfigError extends Error {
  readonly problems: readonly string[]
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

export const CONFIG_DEFAULTS = {
  store: './data/kivuko.db',
  batchEventsMax: 2_000,
  expirySweepMs: 250,
  logLevel: 'info',
  // Clear of the machine's other services (PostgreSQL 5432, Redis 6379, MariaDB 3306, RabbitMQ 5672, MQTT 1883, NATS 4222).
  switchHost: '127.0.0.1',
  switchPort: 4040,
  adminPort: 4041,
  adminHost: '127.0.0.1',
} as const

export function loadConfig(env: Env): KivukoConfig {
  const problems: string[] = []
  const config: KivukoConfig = {
    store: nonEmpty(env, 'KIVUKO_STORE', CONFIG_DEFAULTS.store, problems),
    ledger: {
      batchEventsMax: integer(env, 'KIVUKO_LEDGER_BATCH_MAX', { min: 1, max: 100_000, fallback: CONFIG_DEFAULTS.batchEventsMax }, problems),
      expirySweepMs: integer(env, 'KIVUKO_EXPIRY_SWEEP_MS', { min: 10, max: 60_000, fallback: CONFIG_DEFAULTS.expirySweepMs }, problems),
      schemeMaxMinor: schemeMaxima(env, 'KIVUKO_SCHEME_MAX', problems),
    },
    logLevel: oneOf(env, 'KIVUKO_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, CONFIG_DEFAULTS.logLevel, problems),
    switch: {
      host: nonEmpty(env, 'KIVUKO_SWITCH_HOST', CONFIG_DEFAULTS.switchHost, problems),
      fspiopPort: integer(env, 'KIVUKO_SWITCH_PORT', { min: 0, max: 65_535, fallback: CONFIG_DEFAULTS.switchPort }, problems),
      adminPort: integer(env, 'KIVUKO_ADMIN_PORT', { min: 0, max: 65_535, fallback: CONFIG_DEFAULTS.adminPort }, problems),
      adminHost: nonEmpty(env, 'KIVUKO_ADMIN_HOST', CONFIG_DEFAULTS.adminHost, problems),
      adminToken: env.KIVUKO_ADMIN_TOKEN === undefined || env.KIVUKO_ADMIN_TOKEN === '' ? undefined : env.KIVUKO_ADMIN_TOKEN,
      callbackTimeoutMs: integer(env, 'KIVUKO_CALLBACK_TIMEOUT_MS', { min: 100, max: 120_000, fallback: 10_000 }, problems),
      callbackLeaseMs: integer(env, 'KIVUKO_CALLBACK_LEASE_MS', { min: 1_000, max: 600_000, fallback: 30_000 }, problems),
      outboxRetentionHours: integer(env, 'KIVUKO_OUTBOX_RETENTION_HOURS', { min: 1, max: 24 * 366, fallback: 24 }, problems),
      signingKeyFile: env.KIVUKO_HUB_JWS_KEY_FILE === undefined || env.KIVUKO_HUB_JWS_KEY_FILE === '' ? undefined : env.KIVUKO_HUB_JWS_KEY_FILE,
      oracleTimeoutMs: integer(env, 'KIVUKO_ORACLE_TIMEOUT_MS', { min: 100, max: 60_000, fallback: 5_000 }, problems),
    },
  }
  if (config.switch.callbackLeaseMs <= config.switch.callbackTimeoutMs) problems.push('KIVUKO_CALLBACK_LEASE_MS must be longer than KIVUKO_CALLBACK_TIMEOUT_MS')
  if (config.switch.adminToken !== undefined && config.switch.adminToken.length < 16) problems.push('KIVUKO_ADMIN_TOKEN must be at least 16 characters')
  if (config.switch.adminHost !== '127.0.0.1' && config.switch.adminHost !== 'localhost' && config.switch.adminToken === undefined) {
    problems.push('KIVUKO_ADMIN_TOKEN is required when the admin API listens beyond loopback (KIVUKO_ADMIN_HOST)')
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return Object.freeze(config)
}

/** The scheme maximum for a currency: the configured one, else the default. */
export function schemeMaxFor(config: KivukoConfig): (currency: string) => bigint {
  return (currency) => config.ledger.schemeMaxMinor.get(currency) ?? DEFAULT_SCHEME_MAX_MINOR
}

function nonEmpty(env: Env, name: string, fallback: string, problems: string[]): string {
  const value = env[name]
  if (value === undefined) return fallback
  if (value.trim() === '') problems.push(`${name} must not be empty`)
  return value
}

export function integer(env: Env, name: string, range: { min: number; max: number; fallback: number }, problems: string[]): number {
  const value = env[name]
  if (value === undefined) return range.fallback
  if (!/^\d+$/.test(value)) {
    problems.push(`${name} must be a whole number, got "${value}"`)
    return range.fallback
  }
  const n = Number(value)
  if (n < range.min || n > range.max) {
    problems.push(`${name} must be between ${range.min} and ${range.max}, got ${value}`)
    return range.fallback
  }
  return n
}

export function strictBoolean(env: Env, name: string, fallback: boolean, problems: string[]): boolean {
  const value = env[name]
  if (value === undefined) return fallback
  if (value === 'true') return true
  if (value === 'false') return false
  problems.push(`${name} must be "true" or "false", got "${value}"`)
  return fallback
}

export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T, problems: string[]): T {
  const value = env[name]
  if (value === undefined) return fallback
  if ((allowed as readonly string[]).includes(value)) return value as T
  problems.push(`${name} must be one of ${allowed.join(', ')}, got "${value}"`)
  return fallback
}

/** "USD=1000000,UGX=500000000": maxima as decimal amounts of each currency. */
function schemeMaxima(env: Env, name: string, problems: string[]): ReadonlyMap<string, bigint> {
  const value = env[name]
  const maxima = new Map<string, bigint>()
  if (value === undefined || value.trim() === '') return maxima
  for (const entry of value.split(',')) {
    const [currency = '', amount = ''] = entry.trim().split('=')
    if (findCurrency(currency) === undefined) {
      problems.push(`${name}: "${currency}" is not an ISO 4217 currency`)
      continue
    }
    const parsed = parseAmount(amount, currency, { grammar: 'decimal', maxMinor: 2n ** 62n })
    if (!parsed.ok) problems.push(`${name}: "${amount}" is not a valid ${currency} amount (${parsed.status})`)
    else maxima.set(currency, parsed.value)
  }
  return maxima
}
