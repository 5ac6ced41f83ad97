// SPDX-License-Identifier: Apache-2.0
/**
 * ISO 8583:1987 for the terminal gateway: field specifications as data, a codec for the ASCII and
 * binary (BCD) wire variants, TCP length-header framing, masking for logs, and the MTI, response-code
 * and processing-code tables. Our own codec, because no well-kept TypeScript ISO 8583 codec exists.
 */
export { amountToFeeField, amountToField4, feeFieldToAmount, field4ToAmount, type FeeSign, type SignedAmount } from './amounts.ts'
export { Iso8583Codec, type Iso8583CodecOptions } from './codec.ts'
export {
  ACCOUNT_TYPES,
  formatProcessingCode,
  NETWORK_MANAGEMENT_CODES,
  networkManagementCodeName,
  parseProcessingCode,
  RESPONSE_CODES,
  responseCodeName,
  TRANSACTION_TYPES,
  type AccountTypeName,
  type NetworkManagementCodeName,
  type ProcessingCode,
  type ResponseCode,
  type ResponseCodeName,
  type TransactionTypeName,
} from './codes.ts'
export { ISO8583_ERROR_REASONS, Iso8583Error, MESSAGE_PART, type Iso8583ErrorReason } from './errors.ts'
export {
  frame,
  FrameDecoder,
  LENGTH_HEADER_BYTES,
  MESSAGE_BYTES_MAX_DEFAULT,
  MESSAGE_BYTES_MIN,
  readLengthHeader,
  writeLengthHeader,
  type FrameDecoderOptions,
  type LengthHeader,
} from './framing.ts'
export { describe, maskPan, toLogObject, type DescribeOptions, type Iso8583LogObject } from './mask.ts'
export {
  describeMti,
  expectsResponse,
  MTI,
  MTI_CLASSES,
  MTI_FUNCTIONS,
  MTI_ORIGINS,
  MTI_VERSIONS,
  parseMti,
  responseMtiFor,
  type MtiParts,
} from './mti.ts'
export {
  FIELD_NAMES,
  FIELD_NUMBERS,
  fieldName,
  fieldNumber,
  fieldSpec,
  findFieldNumber,
  SPEC_87,
  type Charset,
  type FieldName,
  type FieldSpec,
  type Iso8583Fields,
  type Iso8583Message,
  type Iso8583Spec,
  type LengthPrefix,
  type Padding,
  type Sensitivity,
} from './spec-87.ts'
export { ASCII_BINARY_BITMAP_VARIANT, ASCII_VARIANT, BINARY_VARIANT, type WireVariant } from './variants.ts'
