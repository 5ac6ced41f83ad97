// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { nodeFlags } from './start.ts'

describe('kivuko start: V8 flags for each part', () => {
  it('bounds the young and the old generation', () => {
    assert.deepEqual(nodeFlags({}), ['--max-semi-space-size=16', '--max-old-space-size=512'])
  })

  it('leaves each flag to NODE_OPTIONS when it sets it', () => {
    assert.deepEqual(nodeFlags({ NODE_OPTIONS: '--max-old-space-size=2048' }), ['--max-semi-space-size=16'])
    assert.deepEqual(nodeFlags({ NODE_OPTIONS: '--max-semi-space-size=64 --max-old-space-size=1024' }), [])
  })
})
