/** Pure view geometry: fit, zoom about a point, pan, flips, and the inverse mapping for the pixel-value probe. */

export interface ViewState {
  zoom: number;
  panX: number;
  panY: number;
  flipH: boolean;
  flipV: boolean;
}

export const initialView: ViewState = { zoom: 1, panX: 0, panY: 0, flipH: false, flipV: false };

export interface Geometry {
  canvasWidth: number;
  canvasHeight: number;
  columns: number;
  rows: number;
  /** Row spacing / column spacing, so non-square pixels display with the right proportions. Defaults to 1. */
  aspect: number;
}

export interface Matrix {
  a: number;
  d: number;
  e: number;
  f: number;
}

export function fitScale(g: Geometry): number {
  return Math.min(g.canvasWidth / g.columns, g.canvasHeight / (g.rows * g.aspect));
}

/** The canvas transform (no rotation or skew: a, d scale; e, f translate) that draws the image for `view`. */
export function imageMatrix(view: ViewState, g: Geometry): Matrix {
  const k = fitScale(g) * view.zoom;
  const a = k * (view.flipH ? -1 : 1);
  const d = k * g.aspect * (view.flipV ? -1 : 1);
  return {
    a,
    d,
    e: g.canvasWidth / 2 + view.panX - (a * g.columns) / 2,
    f: g.canvasHeight / 2 + view.panY - (d * g.rows) / 2,
  };
}

/** Canvas point → image pixel (column, row), possibly outside the image. */
export function canvasToImage(x: number, y: number, view: ViewState, g: Geometry): { column: number; row: number } {
  const m = imageMatrix(view, g);
  return { column: (x - m.e) / m.a, row: (y - m.f) / m.d };
}

/** Zooms by `factor` keeping the image point under (x, y) in place. Zoom stays within 0.05×…40×. */
export function zoomAt(view: ViewState, factor: number, x: number, y: number, g: Geometry): ViewState {
  const zoom = Math.min(40, Math.max(0.05, view.zoom * factor));
  const applied = zoom / view.zoom;
  const cx = x - g.canvasWidth / 2;
  const cy = y - g.canvasHeight / 2;
  return { ...view, zoom, panX: cx - applied * (cx - view.panX), panY: cy - applied * (cy - view.panY) };
}
