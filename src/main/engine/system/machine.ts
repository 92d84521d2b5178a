import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, freemem } from 'node:os';

let cores: number | null = null;

/**
 * Physical CPU cores (not hyper-threads): llama.cpp's matrix work gains nothing from SMT siblings and loses when
 * oversubscribed. Linux: unique (physical id, core id) pairs of /proc/cpuinfo; macOS: hw.physicalcpu; otherwise
 * half the logical processors (at least 1).
 */
export function physicalCores(): number {
  if (cores !== null) return cores;
  const logical = availableParallelism();
  let found: number | null = null;
  try {
    if (process.platform === 'linux') {
      const pairs = new Set<string>();
      let physical = '0';
      for (const line of readFileSync('/proc/cpuinfo', 'utf8').split('\n')) {
        const [key, value] = line.split(':').map((s) => s.trim());
        if (key === 'physical id') physical = value ?? '0';
        else if (key === 'core id') pairs.add(`${physical}:${value}`);
      }
      if (pairs.size > 0) found = pairs.size;
    } else if (process.platform === 'darwin') {
      found = Number(execFileSync('sysctl', ['-n', 'hw.physicalcpu'], { encoding: 'utf8' }).trim()) || null;
    }
  } catch {
    found = null;
  }
  // A container may be limited to fewer CPUs than the host has cores.
  cores = Math.max(1, Math.min(found ?? Math.ceil(logical / 2), logical));
  return cores;
}

/** Memory the system can give a new model without swapping: MemAvailable on Linux, free memory elsewhere. */
export function availableMemoryBytes(): number {
  if (process.platform === 'linux') {
    try {
      const match = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
      if (match) return Number(match[1]) * 1024;
    } catch {
      // fall through
    }
  }
  return freemem();
}
