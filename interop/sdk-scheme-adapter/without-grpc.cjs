// SPDX-License-Identifier: Apache-2.0
// Preloaded into the SDK scheme adapter's process (node --require). The adapter loads event-sdk, whose gRPC
// event-logger transport needs the `grpc` native addon at require time; the adapter never sends events over it
// here, and the addon is not built (installs run with --ignore-scripts: no native code). `grpc` resolves to
// an inert object instead, so that nothing else about the adapter changes.
const Module = require('node:module')

const inert = {
  loadPackageDefinition: () => new Proxy({}, { get: () => function Service() {} }),
  credentials: { createInsecure: () => ({}) },
  ServerCredentials: { createInsecure: () => ({}) },
  Server: class Server {},
}
const load = Module._load
Module._load = function (request, ...rest) {
  return request === 'grpc' ? inert : load.call(this, request, ...rest)
}
