import type { Orientation, Vec3 } from '../dicom/dicomModules';

export interface OrderableInstance {
  key: string;
  instanceNumber: number | null;
  position: Vec3 | null;
  orientation: Orientation | null;
  /** For messages: the file name. */
  label: string;
}

export interface SeriesOrder {
  /** Keys in display order, with each instance's position along the series normal (null when unknown). */
  order: { key: string; slicePosition: number | null }[];
  warnings: string[];
}

const duplicateTolerance = 0.01; // mm
const gapFactor = 1.5;
const maxListed = 3;

function normalOf(o: Orientation): Vec3 {
  const [rx, ry, rz, cx, cy, cz] = o;
  const n: Vec3 = [ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx];
  const length = Math.hypot(...n) || 1;
  return [n[0] / length, n[1] / length, n[2] / length];
}

function byInstanceNumber(a: OrderableInstance, b: OrderableInstance): number {
  return (
    (a.instanceNumber ?? Infinity) - (b.instanceNumber ?? Infinity) ||
    a.label.localeCompare(b.label, 'en', { numeric: true })
  );
}

function name(instance: OrderableInstance): string {
  return instance.instanceNumber === null ? instance.label : `${instance.instanceNumber} (${instance.label})`;
}

function mm(value: number): string {
  return `${value.toFixed(2).replace('-', '−')} mm`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function listed(items: string[], noun: string): string[] {
  if (items.length <= maxListed) return items;
  return [...items.slice(0, maxListed), `…and ${items.length - maxListed} more ${noun}`];
}

/**
 * Orders a series for display: along the normal of its image planes (ties and unknown positions by instance number),
 * pointing the same way as the instance numbers, and reports what makes it unlike a clean volume — duplicate
 * positions, gaps, irregular spacing, mixed orientations — as warnings instead of failing.
 */
export function orderSeries(instances: OrderableInstance[]): SeriesOrder {
  const warnings: string[] = [];
  const located = instances.filter((i) => i.position && i.orientation);
  const unlocated = instances.filter((i) => !(i.position && i.orientation)).sort(byInstanceNumber);
  if (located.length < 2) {
    return { order: [...instances].sort(byInstanceNumber).map((i) => ({ key: i.key, slicePosition: null })), warnings };
  }
  const normal = normalOf(located[0]!.orientation!);
  const planes = new Set<string>();
  for (const instance of located) {
    const n = normalOf(instance.orientation!);
    const dot = n[0] * normal[0] + n[1] * normal[1] + n[2] * normal[2];
    planes.add(Math.abs(dot) > 0.9999 ? 'same' : n.map((v) => v.toFixed(3)).join(','));
  }
  if (planes.size > 1) {
    warnings.push(`Mixed orientations (${planes.size} image planes): ordered by instance number, not as a volume`);
    return {
      order: [...instances].sort(byInstanceNumber).map((i) => ({ key: i.key, slicePosition: null })),
      warnings,
    };
  }
  const projected = located.map((instance) => ({
    instance,
    position: instance.position![0] * normal[0] + instance.position![1] * normal[1] + instance.position![2] * normal[2],
  }));
  projected.sort((a, b) => a.position - b.position || byInstanceNumber(a.instance, b.instance));
  const first = projected[0]!.instance.instanceNumber;
  const last = projected[projected.length - 1]!.instance.instanceNumber;
  if (first !== null && last !== null && first > last) {
    projected.reverse();
    // Keep ties in instance-number order after reversing.
    projected.sort((a, b) => b.position - a.position || byInstanceNumber(a.instance, b.instance));
  }

  const duplicates: string[] = [];
  const spacings: { spacing: number; from: OrderableInstance; to: OrderableInstance }[] = [];
  for (let i = 1; i < projected.length; i++) {
    const previous = projected[i - 1]!;
    const current = projected[i]!;
    const spacing = Math.abs(current.position - previous.position);
    if (spacing < duplicateTolerance) {
      duplicates.push(
        `Duplicate position: instances ${name(previous.instance)} and ${name(current.instance)} share ${mm(current.position)} along the normal`,
      );
    } else {
      spacings.push({ spacing, from: previous.instance, to: current.instance });
    }
  }
  warnings.push(...listed(duplicates, 'duplicate positions'));
  if (spacings.length >= 2) {
    const typical = median(spacings.map((s) => s.spacing));
    const gaps = spacings
      .filter((s) => s.spacing > gapFactor * typical)
      .map(
        (s) =>
          `Gap of ${mm(s.spacing)} between instances ${name(s.from)} and ${name(s.to)} (median spacing ${mm(typical)}): slices may be missing`,
      );
    warnings.push(...listed(gaps, 'gaps'));
    const smallest = Math.min(...spacings.map((s) => s.spacing));
    if (gaps.length === 0 && smallest < typical / gapFactor) {
      warnings.push(`Irregular slice spacing: ${mm(smallest)} to ${mm(Math.max(...spacings.map((s) => s.spacing)))}`);
    }
  }
  if (unlocated.length > 0) {
    warnings.push(`${unlocated.length} instance(s) without image position placed after the located slices`);
  }
  return {
    order: [
      ...projected.map((p) => ({ key: p.instance.key, slicePosition: p.position })),
      ...unlocated.map((i) => ({ key: i.key, slicePosition: null })),
    ],
    warnings,
  };
}
