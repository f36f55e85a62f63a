// ES module entry: the same addon as the CommonJS entry, with named exports.
import { createRequire } from 'node:module'

const binding = createRequire(import.meta.url)('./index.js')

export const {
  Action,
  Admin,
  AsapiClient,
  BatchConsumer,
  BatchMessageStream,
  BrokerRole,
  Consumer,
  DirectConsumeResult,
  ErrorCode,
  Message,
  MessageStream,
  ONSClientException,
  ONSFactory,
  OrderAction,
  OrderConsumer,
  OpenApiClient,
  OrderProducer,
  Producer,
  PropertyKeyConst,
  PropertyValueConst,
  PullConsumer,
  ResetPosition,
  RetryPolicyType,
  TrackType,
  TransactionProducer,
  TransactionStatus,
  setLogHandler,
} = binding
export default binding
