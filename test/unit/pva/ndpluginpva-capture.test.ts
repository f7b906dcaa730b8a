/**
 * An NTNDArray in the structure areaDetector's NDPluginPva serves (normativeTypesCPP's NTNDArrayBuilder with
 * descriptor, timeStamp, alarm and display: its fields in another order than p4p's, NDAttributes with sourceType
 * and source, a dataTimeStamp counted from 1990 as ADSimDetector sets it). No areaDetector IOC runs here, so the
 * frame was served by p4p in that structure (test/env/pva/ntndarray_server.py, PV "ndpluginpva") and recorded by
 * test/env/pva/capture_monitor.py, a hand-written client, as the QSRV captures were. Decoded through the
 * client's own path, in any chunking, and serialised as ad00 and da00.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { NdArrayValue, PvUpdate } from '../../../src/model/update.js';
import { Ad00Serialiser, deserialiseAd00, DType } from '../../../src/schemas/ad00.js';
import { Da00Dtype, Da00Serialiser, deserialiseDa00 } from '../../../src/schemas/da00.js';
import { channelHarness, feed, fixture, serverStream } from './channel-harness.js';

const capture = fixture('ndpluginpva-frame');

function replay(chunkSizes: readonly number[] = []): PvUpdate[] {
  const harness = channelHarness(capture.pv);
  feed(harness, serverStream(capture), chunkSizes);
  return harness.updates;
}

const PIXELS = [7, 1007, 2007, 3007, 4007, 5007];
/** The frame's timeStamp: its EPICS time, in Unix seconds (not its dataTimeStamp, in seconds since 1990). */
const T = 1700000000123456789n;

describe('NDPluginPva capture: a 3 x 2 uint16 frame', () => {
  const [update] = replay();

  it('maps to an ndarray: elements, dimensions x first, unique id, no codec, the attributes', () => {
    assert.equal(update?.value.kind, 'ndarray');
    const image = update?.value as NdArrayValue;
    assert.equal(image.type, 'uint16');
    assert.deepEqual(Array.from(image.data as Uint16Array), PIXELS);
    assert.deepEqual(image.dimensions, [3, 2]);
    assert.equal(image.uniqueId, 4242);
    assert.equal(image.codec, '');
    assert.deepEqual(image.attributes, [
      {
        name: 'ColorMode',
        value: { kind: 'scalar', type: 'int32', value: 0 },
        description: 'Color mode',
        source: '13SIM1:cam1:ColorMode_RBV',
      },
      {
        name: 'AcquireTime',
        value: { kind: 'scalar', type: 'float64', value: 0.05 },
        description: 'Exposure time',
        source: '13SIM1:cam1:AcquireTime_RBV',
      },
      {
        name: 'Manufacturer',
        value: { kind: 'string', value: 'Simulated detector' },
        description: '',
        source: 'MANUFACTURER',
      },
    ]);
  });

  it('is stamped with timeStamp, the array’s EPICS time', () => {
    assert.equal(update?.timestampNs, T);
  });

  it('decodes the same in any chunking of the stream', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 40 }), (chunks) => {
        const [again] = replay(chunks);
        assert.deepEqual(again, update);
      }),
      { numRuns: 100 },
    );
  });

  it('becomes an ad00 of shape [2, 3], slowest-varying first, with its id, time and attributes', () => {
    const message = deserialiseAd00(new Ad00Serialiser(capture.pv).serialise(update!.value, T));
    assert.deepEqual(message.dimensions, BigInt64Array.of(2n, 3n));
    assert.equal(message.dataType, DType.uint16);
    assert.deepEqual(Array.from(new Uint16Array(message.data.buffer)), PIXELS);
    assert.equal(message.uniqueId, 4242);
    assert.equal(message.timestampNs, T);
    assert.deepEqual(
      message.attributes.map((attribute) => [attribute.name, attribute.dataType, attribute.source]),
      [
        ['ColorMode', DType.int32, '13SIM1:cam1:ColorMode_RBV'],
        ['AcquireTime', DType.float64, '13SIM1:cam1:AcquireTime_RBV'],
        ['Manufacturer', DType.c_string, 'MANUFACTURER'],
      ],
    );
  });

  it('becomes a da00 whose signal has axes y, x and whose attributes are variables', () => {
    const message = deserialiseDa00(new Da00Serialiser(capture.pv).serialise(update!.value, T));
    const [signal, uniqueId, ...attributes] = message.variables;
    assert.equal(signal?.name, 'signal');
    assert.deepEqual(signal?.axes, ['y', 'x']);
    assert.deepEqual(signal?.shape, BigInt64Array.of(2n, 3n));
    assert.equal(signal?.dataType, Da00Dtype.uint16);
    assert.deepEqual(Array.from(new Int32Array(uniqueId!.data.buffer)), [4242]);
    assert.deepEqual(
      attributes.map((variable) => [variable.name, variable.label, variable.source, variable.axes]),
      [
        ['ColorMode', 'Color mode', '13SIM1:cam1:ColorMode_RBV', []],
        ['AcquireTime', 'Exposure time', '13SIM1:cam1:AcquireTime_RBV', []],
        ['Manufacturer', undefined, 'MANUFACTURER', []],
      ],
    );
  });
});
