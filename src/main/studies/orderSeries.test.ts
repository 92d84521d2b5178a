import { describe, expect, it } from 'vitest';
import type { Orientation, Vec3 } from '../dicom/dicomModules';
import { orderSeries, type OrderableInstance } from './orderSeries';

const axial: Orientation = [1, 0, 0, 0, 1, 0];
const slice = (
  key: string,
  instanceNumber: number | null,
  z: number | null,
  orientation: Orientation | null = axial,
): OrderableInstance => ({
  key,
  instanceNumber,
  position: z === null ? null : ([-172.5, -180, z] as Vec3),
  orientation: z === null ? null : orientation,
  label: `${key}.dcm`,
});

describe('orderSeries', () => {
  it('orders along the normal in the direction of the instance numbers', () => {
    // dcmqi_ct_3slice: z decreases as the instance number grows.
    const { order, warnings } = orderSeries([slice('b', 2, -127.69), slice('c', 3, -128.69), slice('a', 1, -126.69)]);
    expect(order.map((o) => o.key)).toEqual(['a', 'b', 'c']);
    expect(order.map((o) => o.slicePosition)).toEqual([-126.69, -127.69, -128.69]);
    expect(warnings).toEqual([]);
  });

  it('reports the duplicate position and the gaps of dicom_numpy_ct_series instead of failing', () => {
    // The real positions and instance numbers of the 11 files (CT26 and CT28 share −90 mm).
    const series = [
      slice('CT2', 83, -245),
      slice('CT20', 126, -352.5),
      slice('CT21', 131, -365),
      slice('CT22', 138, -382.5),
      slice('CT23', 190, -512.5),
      slice('CT24', 34, -122.5),
      slice('CT25', 2, -42.5),
      slice('CT26', 21, -90),
      slice('CT27', 145, -400),
      slice('CT28', 21, -90),
      slice('CT29', 80, -237.5),
    ];
    const { order, warnings } = orderSeries(series);
    expect(order.map((o) => o.key)).toEqual([
      'CT25',
      'CT26',
      'CT28',
      'CT24',
      'CT29',
      'CT2',
      'CT20',
      'CT21',
      'CT22',
      'CT27',
      'CT23',
    ]);
    expect(warnings.filter((w) => w.startsWith('Duplicate position'))).toEqual([
      'Duplicate position: instances 21 (CT26.dcm) and 21 (CT28.dcm) share −90.00 mm along the normal',
    ]);
    expect(warnings.filter((w) => w.startsWith('Gap of'))).toHaveLength(3);
    expect(warnings.join('\n')).toContain('Gap of 115.00 mm between instances 34 (CT24.dcm) and 80 (CT29.dcm)');
  });

  it('falls back to instance numbers for mixed orientations and missing positions', () => {
    const sagittal: Orientation = [0, 1, 0, 0, 0, -1];
    const mixed = orderSeries([slice('x', 3, 10), slice('y', 1, 5, sagittal), slice('z', 2, 0)]);
    expect(mixed.order.map((o) => o.key)).toEqual(['y', 'z', 'x']);
    expect(mixed.warnings[0]).toMatch(/^Mixed orientations \(2 image planes\)/);

    const partial = orderSeries([slice('p', 2, 0), slice('q', 1, 2.5), slice('r', 3, null)]);
    expect(partial.order.map((o) => o.key)).toEqual(['q', 'p', 'r']);
    expect(partial.warnings).toEqual(['1 instance(s) without image position placed after the located slices']);

    expect(orderSeries([slice('m', null, null), slice('n', 1, null)]).order.map((o) => o.key)).toEqual(['n', 'm']);
  });
});
