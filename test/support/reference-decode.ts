import { runPython } from './python.js';

/**
 * Decodes ESS FlatBuffers with the Python reference library (ess-streaming-data-types), all in one Python
 * process. Each result is the reference deserialiser's named tuple as a plain object (numpy values as lists,
 * enums as their names), or {error} when the reference cannot read the buffer.
 */
export async function decodeWithReference(
  payloads: readonly Uint8Array[],
): Promise<Array<Record<string, unknown>>> {
  const code = `
import base64, enum, json, sys
import numpy as np
from streaming_data_types import DESERIALISERS
from streaming_data_types.utils import get_schema

def plain(value):
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode()
    if hasattr(value, '_asdict'):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if hasattr(value, 'name') and hasattr(value, 'value') and type(value).__module__.startswith('streaming_data_types'):
        return value.name
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) or isinstance(value, (str, bool)) or value is None:
        return value
    return repr(value)

out = []
for line in sys.stdin:
    buffer = base64.b64decode(line)
    try:
        schema = get_schema(buffer)
        out.append({'schema': schema, 'message': plain(DESERIALISERS[schema](buffer))})
    except Exception as error:
        out.append({'error': f'{type(error).__name__}: {error}'})
print(json.dumps(out))
`;
  const input = payloads.map((payload) => Buffer.from(payload).toString('base64')).join('\n');
  const { stdout } = await runPython(['-c', code], { input, timeoutMs: 60_000 });
  return JSON.parse(stdout) as Array<Record<string, unknown>>;
}
