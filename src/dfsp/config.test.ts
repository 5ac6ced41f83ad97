// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError } from '../config/load-config.ts'
import { DFSP_DEFAULTS, resolveDfspConfig, type DfspConfigInput } from './config.ts'
import { SESSIONS_RETAINED_MAX } from './retained-sessions.ts'

const INPUT: DfspConfigInput = { dfspId: 'bank', currency: 'USD', switchUrl: 'http://127.0.0.1:4040', ilpSecret: 'a-secret-of-16-chars' }

function problemsOf(input: DfspConfigInput): string[] {
  try {
    resolveDfspConfig(input)
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems]
    throw error
  }
  return []
}

describe('resolveDfspConfig', () => {
  it('keeps at most SESSIONS_RETAINED_MAX settled request sessions per side unless told otherwise', () => {
    assert.equal(resolveDfspConfig(INPUT).requestSessionsMax, SESSIONS_RETAINED_MAX)
    assert.equal(DFSP_DEFAULTS.requestSessionsMax, SESSIONS_RETAINED_MAX)
    assert.equal(resolveDfspConfig({ ...INPUT, requestSessionsMax: 500 }).requestSessionsMax, 500)
  })

  it('reports a bound that is not a whole number in range together with every other problem', () => {
    for (const bad of [0, 1.5, 10_000_001]) {
      const problems = problemsOf({ ...INPUT, requestSessionsMax: bad, callbackAttemptsMax: 0 })
      assert.ok(problems.some((p) => p.includes('requestSessionsMax must be a whole number from 1 to 10000000')), `${bad}: ${problems.join('; ')}`)
      assert.ok(problems.some((p) => p.includes('callbackAttemptsMax')), `${bad}: ${problems.join('; ')}`)
    }
  })
})
