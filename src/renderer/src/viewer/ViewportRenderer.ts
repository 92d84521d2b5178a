import type { CachedFrame } from './frameCache';
import { imageMatrix, type Geometry, type ViewState } from './viewport';
import type { WindowLevel } from './windowing';

/**
 * Draws the current frame on a canvas: windowing into an offscreen image buffer (only when the frame, window or
 * inversion changed), then one transformed drawImage. All changes are coalesced into one draw per animation frame.
 */
export class ViewportRenderer {
  readonly #canvas: HTMLCanvasElement;
  readonly #context: CanvasRenderingContext2D;
  readonly #image = document.createElement('canvas');
  readonly #imageContext: CanvasRenderingContext2D;
  #imageData: ImageData | null = null;
  #frame: CachedFrame | null = null;
  #window: WindowLevel = { center: 40, width: 400 };
  #invert = false;
  #view: ViewState | null = null;
  #imageDirty = true;
  #handle: number | null = null;
  /** Milliseconds spent in the last draw, windowing included (for the bench and diagnostics). */
  lastDrawMs = 0;

  constructor(canvas: HTMLCanvasElement) {
    this.#canvas = canvas;
    this.#context = canvas.getContext('2d', { alpha: false })!;
    this.#imageContext = this.#image.getContext('2d')!;
  }

  setFrame(frame: CachedFrame | null): void {
    if (frame === this.#frame) return;
    this.#frame = frame;
    this.#imageDirty = true;
    this.schedule();
  }

  setWindow(window: WindowLevel, invert: boolean): void {
    if (window.center === this.#window.center && window.width === this.#window.width && invert === this.#invert) return;
    this.#window = window;
    this.#invert = invert;
    this.#imageDirty = true;
    this.schedule();
  }

  setView(view: ViewState): void {
    this.#view = view;
    this.schedule();
  }

  /** Matches the canvas's backing store to its CSS size × devicePixelRatio. */
  resize(cssWidth: number, cssHeight: number): void {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(cssWidth * ratio));
    const height = Math.max(1, Math.round(cssHeight * ratio));
    if (this.#canvas.width !== width || this.#canvas.height !== height) {
      this.#canvas.width = width;
      this.#canvas.height = height;
    }
    this.schedule();
  }

  geometry(): Geometry | null {
    const frame = this.#frame?.pixels;
    if (!frame) return null;
    const ratio = window.devicePixelRatio || 1;
    const spacing = frame.pixelSpacing;
    const aspect = spacing && spacing[0] > 0 && spacing[1] > 0 ? spacing[0] / spacing[1] : 1;
    return {
      canvasWidth: this.#canvas.width / ratio,
      canvasHeight: this.#canvas.height / ratio,
      columns: frame.columns,
      rows: frame.rows,
      aspect,
    };
  }

  dispose(): void {
    if (this.#handle !== null) cancelAnimationFrame(this.#handle);
    this.#handle = null;
  }

  private schedule(): void {
    this.#handle ??= requestAnimationFrame(() => {
      this.#handle = null;
      this.draw();
    });
  }

  private draw(): void {
    const started = performance.now();
    const ctx = this.#context;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, this.#canvas.width, this.#canvas.height);
    const frame = this.#frame;
    const geometry = this.geometry();
    if (!frame || !geometry || !this.#view) return;
    const { rows, columns } = frame.pixels;
    if (this.#imageDirty) {
      if (!this.#imageData || this.#imageData.width !== columns || this.#imageData.height !== rows) {
        this.#image.width = columns;
        this.#image.height = rows;
        this.#imageData = this.#imageContext.createImageData(columns, rows);
      }
      frame.windowing.render(this.#window, this.#invert, new Uint32Array(this.#imageData.data.buffer));
      this.#imageContext.putImageData(this.#imageData, 0, 0);
      this.#imageDirty = false;
    }
    const ratio = window.devicePixelRatio || 1;
    const m = imageMatrix(this.#view, geometry);
    ctx.setTransform(m.a * ratio, 0, 0, m.d * ratio, m.e * ratio, m.f * ratio);
    // Bilinear interpolation, as OHIF and Weasis display by default.
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(this.#image, 0, 0);
    this.lastDrawMs = performance.now() - started;
  }
}
