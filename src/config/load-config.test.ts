// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, loadConfig, schemeMaxFor, strictBoolean } from './load-config.ts'
import { DEFAULT_SCHEME_MAX_MINOR } from '../core/money.ts'

describe('loadConfig', () => {
  it('has working defaults and a frozen result', () => {
    const config = loadConfig({})
    assert.equal(config.store, './data/kivuko.db')
    assert.equal(config.ledger.batchEventsMax, 2_000)
    assert.equal(config.switch.outboxRetentionHours, 24)
    assert.equal(config.switch.signingKeyFile, undefined)
    assert.ok(Object.isFrozen(config))
    assert.equal(schemeMaxFor(config)('USD'), DEFAULT_SCHEME_MAX_MINOR)
  })

  it('reads every setting', () => {
    const config = loadConfig({
      KIVUKO_STORE: 'postgres://db/kivuko',
      KIVUKO_LEDGER_BATCH_MAX: '500',
      KIVUKO_EXPIRY_SWEEP_MS: '100',
      KIVUKO_SCHEME_MAX: 'USD=1000000, UGX=5000000000',
      KIVUKO_LOG_LEVEL: 'debug',
      KIVUKO_OUTBOX_RETENTION_HOURS: '168',
      KIVUKO_HUB_JWS_KEY_FILE: '/etc/kivuko/hub.pem',
    })
    assert.equal(config.switch.outboxRetentionHours, 168)
    assert.equal(config.switch.signingKeyFile, '/etc/kivuko/hub.pem')
    assert.equal(config.store, 'postgres://db/kivuko')
    assert.equal(config.ledger.batchEventsMax, 500)
    assert.equal(schemeMaxFor(config)('USD'), 100_000_000n)
    assert.equal(schemeMaxFor(config)('UGX'), 5_000_000_000n)
    assert.equal(config.logLevel, 'debug')
  })

  it('reports every problem at once', () => {
    assert.throws(
      () => loadConfig({ KIVUKO_LEDGER_BATCH_MAX: '1e3', KIVUKO_EXPIRY_SWEEP_MS: '0', KIVUKO_SCHEME_MAX: 'ABC=1,USD=1.001', KIVUKO_LOG_LEVEL: 'loud', KIVUKO_STORE: ' ', KIVUKO_OUTBOX_RETENTION_HOURS: '0' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError)
        assert.equal(error.problems.length, 7, error.message)
        return true
      },
    )
  })

  it('parses booleans strictly: "false" is false and "yes" is an error', () => {
    const problems: string[] = []
    assert.equal(strictBoolean({ X: 'false' }, 'X', true, problems), false)
    assert.equal(strictBoolean({ X: 'true' }, 'X', false, problems), true)
    assert.equal(strictBoolean({ X: 'yes' }, 'X', false, problems), false)
    assert.deepEqual(problems, ['X must be "true" or "false", got "yes"'])
  })
})
