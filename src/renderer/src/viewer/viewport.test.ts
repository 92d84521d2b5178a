import { describe, expect, it } from 'vitest';
import { canvasToImage, imageMatrix, initialView, zoomAt, type Geometry } from './viewport';

const g: Geometry = { canvasWidth: 800, canvasHeight: 600, columns: 512, rows: 512, aspect: 1 };

describe('viewport geometry', () => {
  it('fits and centres the image', () => {
    const m = imageMatrix(initialView, g);
    expect(m.a).toBeCloseTo(600 / 512);
    expect(m.e).toBeCloseTo(100);
    expect(m.f).toBeCloseTo(0);
    expect(canvasToImage(400, 300, initialView, g)).toEqual({ column: 256, row: 256 });
  });

  it('keeps the point under the cursor fixed when zooming', () => {
    const before = canvasToImage(250, 120, initialView, g);
    const zoomed = zoomAt(initialView, 2.5, 250, 120, g);
    const after = canvasToImage(250, 120, zoomed, g);
    expect(after.column).toBeCloseTo(before.column);
    expect(after.row).toBeCloseTo(before.row);
  });

  it('mirrors the mapping when flipped and honours non-square pixels', () => {
    const flipped = { ...initialView, flipH: true };
    expect(canvasToImage(100 + 1, 300, flipped, g).column).toBeCloseTo(512 - 1 / (600 / 512));
    const tall = { ...g, rows: 256, aspect: 2 };
    expect(imageMatrix(initialView, tall).d / imageMatrix(initialView, tall).a).toBeCloseTo(2);
  });
});
