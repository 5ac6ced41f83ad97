// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createSwitchMetrics } from './metrics.ts'

describe('switch metrics', () => {
  it('counts requests and their latency per route, method and status', async () => {
    const metrics = createSwitchMetrics(() => undefined)
    metrics.request('/transfers', 'POST', 202, 4)
    metrics.request('/transfers', 'POST', 202, 40)
    metrics.request('/transfers', 'POST', 400, 1)
    metrics.request('/transfers/:id', 'PUT', 200, 2)
    const text = await metrics.text()
    assert.match(text, /kivuko_fspiop_requests_total\{route="\/transfers",method="POST",status="202"\} 2\n/)
    assert.match(text, /kivuko_fspiop_requests_total\{route="\/transfers",method="POST",status="400"\} 1\n/)
    assert.match(text, /kivuko_fspiop_requests_total\{route="\/transfers\/:id",method="PUT",status="200"\} 1\n/)
    assert.match(text, /kivuko_fspiop_request_duration_seconds_count\{route="\/transfers",method="POST"\} 3\n/)
    assert.match(text, /kivuko_fspiop_request_duration_seconds_bucket\{le="0.005",route="\/transfers",method="POST"\} 2\n/)
    assert.match(text, /kivuko_fspiop_request_duration_seconds_count\{route="\/transfers\/:id",method="PUT"\} 1\n/)
  })

  it('counts deliveries and times attempts per destination', async () => {
    const metrics = createSwitchMetrics(() => undefined)
    const info = (destination: string) => ({ id: 'm', destination, method: 'PUT' as const, correlation: 'transfers/1', attempt: 1, status: 200, error: null, ageMs: 3 })
    for (const destination of ['payerfsp', 'payerfsp', 'payeefsp']) {
      metrics.outbox.delivered?.(info(destination))
      metrics.outbox.attemptLatency?.(info(destination), 3)
    }
    const text = await metrics.text()
    assert.match(text, /kivuko_callbacks_delivered_total\{destination="payerfsp"\} 2\n/)
    assert.match(text, /kivuko_callbacks_delivered_total\{destination="payeefsp"\} 1\n/)
    assert.match(text, /kivuko_callback_attempt_duration_seconds_count\{destination="payerfsp"\} 2\n/)
    assert.match(text, /kivuko_callback_attempt_duration_seconds_bucket\{le="0.005",destination="payeefsp"\} 1\n/)
  })
})
