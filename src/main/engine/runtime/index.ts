// The runtime's public surface: devices, sessions per shape bucket, device-resident training
// state, and the trainer and encoder that run engine/nn's graphs (contract.ts).

export type { DataInputSpec, DropoutSpec, EncodeGraph, ParamSpec, StepGraph } from './contract.js';
export { LOSS_SCALE, STEP_SCALARS, nextName, stateNames } from './contract.js';
export {
  type Device,
  type DeviceTensor,
  type OutputLocation,
  type Session,
  type SessionOptions,
  DEVICES,
  ONNXRUNTIME_VERSION,
  createSession,
  defaultThreads,
} from './session.js';
export { type DeviceAttempt, type DeviceChoice, type DevicePref, AUTO_ORDER, probeDevice, selectDevice } from './device.js';
export { type ModelSource, type SessionKey, SessionCache, keyString } from './session-cache.js';
export { type StateRunOptions, StateStore, Transfer, keepsStateOnDevice, stateOutputLocations } from './state.js';
export { type BucketShape, type PadOptions, type PaddedBatch, LENGTH_BUCKETS, bucketFor, padToBucket } from './buckets.js';
export { KeepMaskBuffers, dropoutKey, fillKeepMask, keepThreshold } from './dropout.js';
export { type OptimizerState, type StepResult, type Trainer, type TrainerOptions, createTrainer } from './trainer.js';
export { type Encoder, type EncoderOptions, createEncoder } from './encoder.js';
export { OneAtATime } from './one-at-a-time.js';
export { type Precision, type PrecisionResolution, float16Problem, resolvePrecision } from './precision.js';
