// SPDX-License-Identifier: Apache-2.0
import { createServer } from 'node:net'

/**
 * A loopback port free right now, for a server whose URL must be known before it starts (or that restarts on
 * it). Chosen below Linux's ephemeral range (32768 up), which port 0 would give: there an outgoing connection
 * of a parallel test could take it before the server listens.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 12_000 + Math.floor(Math.random() * 8_000)
    if (await portIsFree(port)) return port
  }
}

/**
 * A base for `kivuko start`'s demo ports (base, base+1, base+10, base+11, base+190) where all of them are free.
 * It stays below Linux's ephemeral range (32768 up), where any outgoing connection of a parallel test could
 * take one of them between this check and the listen.
 */
export async function freeDemoPortBase(): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 12_000)
    const free = await Promise.all([0, 1, 10, 11, 190].map((offset) => portIsFree(base + offset)))
    if (free.every(Boolean)) return base
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}
