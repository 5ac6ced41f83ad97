// SPDX-License-Identifier: Apache-2.0
/**
 * FSPIOP protocol primitives shared by the switch and the DFSP: ILP packets and fulfilments compatible
 * with Mojaloop's SDK, header checks and builders, v1.1 body validation, and errorInformation bodies.
 * Everything here is pure apart from schemas.ts reading api-snippets' document once, on first use.
 */
export * from './types.ts'
export {
  buildIlpPacket,
  buildIlpV1Packet,
  canonicalJson,
  conditionOf,
  decodeIlpPacket,
  decodeIlpV1Packet,
  deriveFulfilment,
  fulfilmentOfV1Packet,
  ilpAmountOf,
  ilpScaleOf,
  ILP_ADDRESS,
  ilpV1AddressOf,
  ilpVersionOf,
  matchTransferToIlpPacket,
  transactionFromQuote,
  validateFulfilment,
  type DecodedIlpPacket,
  type DecodedIlpV1Packet,
  type DecodedTransaction,
  type FulfilmentStatus,
  type IlpAmountStatus,
  type IlpBuildStatus,
  type IlpDecodeStatus,
  type IlpResponse,
  type IlpSecret,
  type IlpTransaction,
  type TransferMatchStatus,
} from './ilp.ts'
export {
  acceptOf,
  buildFspiopHeaders,
  CONTENT_LENGTH_MAX,
  contentTypeOf,
  parseHttpDate,
  SUPPORTED_VERSIONS,
  validateFspiopHeaders,
  versionExtensionList,
  type FspiopHeaders,
  type FspiopHeaderValues,
  type HeaderCheck,
  type OutgoingHeaders,
} from './headers.ts'
export {
  bodyRouteOf,
  FSPIOP_BODY_ROUTES,
  validateFspiopBody,
  validateFspiopSchema,
  validationErrorOf,
  type FspiopBodyRoute,
  type FspiopSchemaName,
} from './schemas.ts'
export {
  classifyFspiopErrorCode,
  ERROR_DESCRIPTION_MAX,
  errorCodeForFspiop,
  errorInformationFor,
  errorInformationOf,
  FSPIOP_ERROR_NAMES,
  hubErrorOf,
  httpStatusOf,
  parseErrorInformation,
  relayableErrorInformation,
  type ClassifiedErrorCode,
  type FspiopErrorCodeKind,
  type ReceivedErrorInformation,
} from './error-information.ts'
export { JWS_ALGORITHMS, parseSigningKey, parseVerificationKey, requireFspiopSignature, signFspiop, verifyFspiopSignature, type JwsCheck, type OutgoingSignature, type SignedRequest } from './jws.ts'
