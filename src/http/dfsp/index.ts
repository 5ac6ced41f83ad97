// SPDX-License-Identifier: Apache-2.0
/** The DFSP's HTTP edges: its FSPIOP API, its outbound and customer API, and the composition that runs them. */
export { startDfsp, type DfspHandle, type DfspUrls, type StartDfspOptions } from './start-dfsp.ts'
export { buildDfspFspiopApp, type DfspFspiopAppOptions } from './fspiop-app.ts'
export { buildDfspApiApp, type DfspApiAppOptions } from './api-app.ts'
export { createFetchTransport } from './fetch-transport.ts'
