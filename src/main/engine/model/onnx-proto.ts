// The ONNX protobuf schema for export: graph/onnx-schema.ts's subset (what the engine's own
// graphs need), cloned and extended with the two TensorProto fields of external data
// (onnx/onnx.proto: `repeated StringStringEntryProto external_data = 13;
// DataLocation data_location = 14;` with DEFAULT 0, EXTERNAL 1). A clone, so the engine's
// serialiser keeps its own schema untouched.
import protobuf from 'protobufjs/light.js';
import { ModelProto as BaseModelProto } from '../graph/onnx-schema.js';

const json = BaseModelProto.root.toJSON();
const tensor = (json.nested?.onnx as protobuf.INamespace | undefined)?.nested?.TensorProto as protobuf.IType;
tensor.fields.external_data = { rule: 'repeated', type: 'StringStringEntryProto', id: 13 };
tensor.fields.data_location = { type: 'int32', id: 14 };

const root = protobuf.Root.fromJSON(json);

export const ONNX = {
  ModelProto: root.lookupType('onnx.ModelProto'),
};

/** TensorProto.DataLocation.EXTERNAL. */
export const EXTERNAL = 1;
/** TensorProto.DataType codes used by export. */
export const DATA_TYPE = { float: 1, int64: 7, float16: 10 } as const;
