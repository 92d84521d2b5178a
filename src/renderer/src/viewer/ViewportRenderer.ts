import type { CachedFrame } from './frameCache';
import { imageMatrix, type Geometry, type ViewState } from './viewport';
import type { WindowLevel } from './windowing';

/**
 * Shows the current frame: the canvas holds the image at its own resolution (windowed through the LUT only when the
 * frame, window or inversion changes), and zoom, pan and flips are a CSS transform, which the compositor applies with
 * bilinear filtering off the main thread. A window/level drag therefore costs one LUT pass and one putImageData per
 * frame, and a pan or zoom costs nothing on the main thread. Changes coalesce into one update per animation frame.
 */
export class ViewportRenderer {
  readonly #canvas: HTMLCanvasElement;
  readonly #context: CanvasRenderingContext2D;
  #imageData: ImageData | null = null;
  #frame: CachedFrame | null = null;
  #window: WindowLevel = { center: 40, width: 400 };
  #invert = false;
  #view: ViewState | null = null;
  #width = 1;
  #height = 1;
  #imageDirty = true;
  #handle: number | null = null;
  /** Milliseconds spent in the last windowing pass (for diagnostics). */
  lastDrawMs = 0;

  constructor(canvas: HTMLCanvasElement) {
    this.#canvas = canvas;
    this.#context = canvas.getContext('2d', { alpha: false })!;
    canvas.style.transformOrigin = '0 0';
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

  /** The viewport's size in CSS pixels. */
  resize(cssWidth: number, cssHeight: number): void {
    this.#width = Math.max(1, cssWidth);
    this.#height = Math.max(1, cssHeight);
    this.schedule();
  }

  geometry(): Geometry | null {
    const frame = this.#frame?.pixels;
    if (!frame) return null;
    const spacing = frame.pixelSpacing;
    const aspect = spacing && spacing[0] > 0 && spacing[1] > 0 ? spacing[0] / spacing[1] : 1;
    return { canvasWidth: this.#width, canvasHeight: this.#height, columns: frame.columns, rows: frame.rows, aspect };
  }

  /** Applies what is scheduled now (from inside an animation-frame callback: the change shows in this very frame). */
  flush(): void {
    if (this.#handle === null) return;
    cancelAnimationFrame(this.#handle);
    this.#handle = null;
    this.draw();
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
    const frame = this.#frame;
    const geometry = this.geometry();
    this.#canvas.style.visibility = frame && this.#view ? 'visible' : 'hidden';
    if (!frame || !geometry || !this.#view) return;
    const { rows, columns } = frame.pixels;
    if (this.#imageDirty) {
      const started = performance.now();
      if (this.#canvas.width !== columns || this.#canvas.height !== rows) {
        this.#canvas.width = columns;
        this.#canvas.height = rows;
        this.#imageData = null;
      }
      this.#imageData ??= this.#context.createImageData(columns, rows);
      frame.windowing.render(this.#window, this.#invert, new Uint32Array(this.#imageData.data.buffer));
      this.#context.putImageData(this.#imageData, 0, 0);
      this.#imageDirty = false;
      this.lastDrawMs = performance.now() - started;
    }
    const m = imageMatrix(this.#view, geometry);
    this.#canvas.style.transform = `matrix(${m.a}, 0, 0, ${m.d}, ${m.e}, ${m.f})`;
  }
}
