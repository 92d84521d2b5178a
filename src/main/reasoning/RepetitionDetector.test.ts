import { describe, expect, it } from 'vitest';
import { RepetitionDetector } from './RepetitionDetector';

const feed = (text: string, detector = new RepetitionDetector({ every: 1 })): number => {
  const tokens = text.match(/.{1,3}/gs) ?? [];
  const at = tokens.findIndex((t) => detector.push(t));
  return at === -1 ? -1 : tokens.slice(0, at + 1).join('').length;
};

describe('RepetitionDetector', () => {
  it('stops a sentence said over and over soon after it spans 160 characters', () => {
    const at = feed('the lesion is '.repeat(100));
    expect(at).toBeGreaterThanOrEqual(160);
    expect(at).toBeLessThan(200);
  });

  it('stops a short unit only once the run is long', () => {
    expect(feed('atat'.repeat(10))).toBe(-1);
    expect(feed('atat'.repeat(60))).toBeGreaterThan(0);
  });

  it('leaves ordinary clinical text alone', () => {
    const text =
      'A crescent-shaped hyperdense collection along the left convexity crosses the coronal suture. There is ' +
      'mild midline shift to the right. No fracture is seen. Findings are consistent with an acute subdural ' +
      'hematoma; compare with prior imaging if available. Grey-white differentiation is preserved.';
    expect(feed(text.repeat(1))).toBe(-1);
    expect(feed('- no fracture\n- no shift\n- no mass\n- no bleed\n')).toBe(-1);
  });

  it('ignores whitespace-only runs', () => {
    expect(feed(' '.repeat(400))).toBe(-1);
  });
});
