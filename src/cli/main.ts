// SPDX-License-Identifier: Apache-2.0
/**
 * The `kivuko` command. The one place, with config/, that sees process.env; everything below it is given
 * its configuration explicitly.
 */
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig, type KivukoConfig } from '../config/load-config.ts'
import { checkLedger } from '../store/ledger/ledger-check.ts'
import { migrate } from '../store/migrate.ts'
import { openStore } from '../store/open-store.ts'
import { startSwitch } from '../http/switch/start-switch.ts'

const USAGE = `usage: kivuko <command> [--store <path or postgres:// URL>]

commands:
  switch    run the switch alone: FSPIOP API on KIVUKO_SWITCH_PORT (4040), admin API on KIVUKO_ADMIN_PORT (4041)
  migrate   create or update the database schema
  check     verify every ledger invariant against the journal (exit 1 on any problem)
  help      this text

The store defaults to KIVUKO_STORE, else ./data/kivuko.db (SQLite).`

export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { store: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  })
  const command = positionals[0] ?? 'help'
  if (values.help === true || command === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return 0
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
    ...(config.switch.adminToken === undefined ? {} : { adminToken: config.switch.adminToken }),
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
  })
  // One JSON line that a parent process (kivuko start) or a script can wait for.
  process.stdout.write(`${JSON.stringify({ ready: 'switch', fspiopUrl: running.fspiopUrl, adminUrl: running.adminUrl })}\n`)
  await untilSignal()
  await running.close()
  await store.close()
  return 0
}

/** Resolves on SIGINT or SIGTERM: the process then stops taking work and drains what is in flight. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
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
