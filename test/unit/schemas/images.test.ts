/**
 * The area-detector serialisers: a message built around a stand-in for its array is byte for byte the message
 * built with the array itself, for every array length; and an NTNDArray becomes ad00 and da00 with its shape
 * reversed, its element type, id and attributes. Streams build their messages in one reused buffer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Builder, Offset } from 'flatbuffers';
import type { NdArrayValue, NdAttribute } from '../../../src/model/update.js';
import { Ad00Serialiser, deserialiseAd00, DType, serialiseAd00 } from '../../../src/schemas/ad00.js';
import {
  createNumericVector,
  finishMessageAroundArray,
  keepable,
  type MessageBuffer,
  startMessage,
  startMessageAroundArray,
} from '../../../src/schemas/builder.js';
import { Da00Serialiser, deserialiseDa00 } from '../../../src/schemas/da00.js';
import { UnsupportedValueError } from '../../../src/schemas/errors.js';
import { ad00_ADArray as ADArray } from '../../../src/schemas/generated/ad00/ad00-adarray.js';

/** A small message around the array: a string, a vector of longs and a long, so that alignment to 8 matters. */
function withArray(array: Offset, name: Offset, builder: Builder): Offset {
  const dimensions = createNumericVector(builder, BigInt64Array.of(7n, -1n));
  ADArray.startad00_ADArray(builder);
  ADArray.addDimensions(builder, dimensions);
  ADArray.addSourceName(builder, name);
  ADArray.addTimestamp(builder, 123456789n);
  ADArray.addData(builder, array);
  return ADArray.endad00_ADArray(builder);
}

describe('messages built around one big array', () => {
  it('are the bytes the builder makes with the array itself, at every length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.string(), (array, sourceName) => {
        const plain = startMessage(true);
        const plainArray = plain.createByteVector(array);
        plain.finish(withArray(plainArray, plain.createString(sourceName), plain), 'ad00');
        const expected = plain.asUint8Array().slice();
        const { builder, array: standIn } = startMessageAroundArray(true, array.length);
        const root = withArray(standIn, builder.createString(sourceName), builder);
        assert.deepEqual(new Uint8Array(finishMessageAroundArray(root, 'ad00', array, 'own')), expected);
      }),
      { numRuns: 300 },
    );
  });
});

const image: NdArrayValue = {
  kind: 'ndarray',
  type: 'int16',
  data: Int16Array.of(1, -2, 3, -4, 5, -6),
  dimensions: [3, 2],
  uniqueId: 17,
  codec: '',
  attributes: [
    {
      name: 'Gain',
      value: { kind: 'scalar', type: 'float32', value: 2.5 },
      description: 'gain',
      source: 'G',
    },
  ],
};

describe('NTNDArray as ad00 and da00', () => {
  it('ad00: shape slowest-varying first, element type, elements, id, time, attributes', () => {
    const message = deserialiseAd00(new Ad00Serialiser('CAM').serialise(image, 5n));
    assert.equal(message.sourceName, 'CAM');
    assert.deepEqual(message.dimensions, BigInt64Array.of(2n, 3n));
    assert.equal(message.dataType, DType.int16);
    assert.deepEqual(Array.from(new Int16Array(message.data.buffer)), [1, -2, 3, -4, 5, -6]);
    assert.equal(message.uniqueId, 17);
    assert.equal(message.timestampNs, 5n);
    assert.deepEqual(message.attributes, [
      {
        name: 'Gain',
        description: 'gain',
        source: 'G',
        dataType: DType.float32,
        data: new Uint8Array(Float32Array.of(2.5).buffer),
      },
    ]);
  });

  it("builds 'reused' messages in one buffer, which keepable copies out of; 'own' ones are kept as they are", () => {
    const message = (id: number, where: MessageBuffer, bytes = 4) =>
      serialiseAd00(
        {
          sourceName: 'CAM',
          uniqueId: id,
          timestampNs: 1n,
          dimensions: BigInt64Array.of(BigInt(bytes)),
          dataType: DType.uint8,
          data: new Uint8Array(bytes).fill(id),
          attributes: [],
        },
        where,
      );
    const first = message(1, 'reused');
    const kept = keepable(first);
    const own = message(2, 'own');
    assert.equal(keepable(own), own);
    assert.notEqual(kept, first);
    message(3, 'reused');
    assert.equal(deserialiseAd00(first).uniqueId, 3, 'the next message was built over the first');
    assert.equal(deserialiseAd00(kept).uniqueId, 1);
    assert.equal(deserialiseAd00(own).uniqueId, 2);
    const large = message(4, 'reused', 2 ** 20);
    assert.equal(keepable(large), large, 'over 1 MiB a message has a buffer of its own');
  });

  const attributeCases = [
    {
      schema: 'ad00',
      create: () => new Ad00Serialiser('CAM'),
      gainAndUniqueId: (bytes: Uint8Array): [number, number] => {
        const message = deserialiseAd00(bytes);
        return [float32Of(message.attributes[0]?.data), message.uniqueId];
      },
    },
    {
      schema: 'da00',
      create: () => new Da00Serialiser('CAM'),
      gainAndUniqueId: (bytes: Uint8Array): [number, number] => {
        const variables = deserialiseDa00(bytes).variables;
        const data = (name: string) => variables.find((variable) => variable.name === name)?.data;
        return [
          float32Of(data('Gain')),
          new Int32Array(data('unique_id')?.slice().buffer ?? new ArrayBuffer(4))[0] ?? 0,
        ];
      },
    },
  ];
  for (const { schema, create, gainAndUniqueId } of attributeCases) {
    it(`${schema}: each frame carries its own attributes when a serialiser sees them repeat, then change`, () => {
      const serialiser = create();
      const first = serialiser.serialise(image, 5n);
      const repeated = serialiser.serialise({ ...image, uniqueId: 18 }, 6n);
      const changed = serialiser.serialise(
        {
          ...image,
          uniqueId: 19,
          attributes: [
            { ...(image.attributes[0] as NdAttribute), value: { kind: 'scalar', type: 'float32', value: 4 } },
          ],
        },
        7n,
      );
      assert.deepEqual([first, repeated, changed].map(gainAndUniqueId), [
        [2.5, image.uniqueId],
        [2.5, 18],
        [4, 19],
      ]);
    });
  }

  it('da00: the signal with axes y, x, the unique id and each attribute as variables', () => {
    const message = deserialiseDa00(new Da00Serialiser('CAM').serialise(image, 5n));
    assert.deepEqual(
      message.variables.map((variable) => [variable.name, variable.axes, Array.from(variable.shape, Number)]),
      [
        ['signal', ['y', 'x'], [2, 3]],
        ['unique_id', [], [1]],
        ['Gain', [], [1]],
      ],
    );
  });

  it('refuses an array whose dimensions do not hold its elements', () => {
    const wrong = { ...image, dimensions: [4, 2] };
    assert.throws(
      () => new Ad00Serialiser('CAM').serialise(wrong, 5n),
      (error: unknown) =>
        error instanceof UnsupportedValueError &&
        error.message === 'NTNDArray dimensions 4x2 hold 8 elements, its value 6',
    );
  });
});

function float32Of(bytes: Uint8Array | undefined): number {
  return new Float32Array(bytes?.slice().buffer ?? new ArrayBuffer(4))[0] ?? 0;
}
