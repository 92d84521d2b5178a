import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const projectRoot = resolve(import.meta.dirname, '../../..');
const vqaRad = resolve(projectRoot, '../shared/data/vqa-rad/testset.json');

/** `node --import tsx src/main/cli.ts eval …` as one process (npm and the tsx CLI would add parent processes). */
function cliArgs(args: string[]): string[] {
  return ['--import', 'tsx', join(projectRoot, 'src/main/cli.ts'), 'eval', ...args];
}

describe.skipIf(!existsSync(vqaRad))(
  'eval CLI in a real child process: killed mid-run, resumed (needs ../shared/data/vqa-rad)',
  () => {
    let dataDir: string;
    const env = (): NodeJS.ProcessEnv => ({ ...process.env, MEDRWR_DATA_DIR: dataDir });

    beforeAll(() => {
      dataDir = mkdtempSync(join(tmpdir(), 'medrwr-eval-cli-'));
    });
    afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

    it('survives SIGKILL mid-run and completes 20 VQA-RAD items × 3 modes on resume, with the report files', async () => {
      const out = join(dataDir, 'report');
      const child = spawn(
        process.execPath,
        cliArgs(['run', '--dataset', vqaRad, '--sample', '20:5', '--dry-run', '--dry-run-delay', '40', '--out', out]),
        { cwd: projectRoot, env: env(), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const killedAfter = await new Promise<number>((resolvePromise, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          const done = [...stdout.matchAll(/^\[(\d+)\/60\]/gm)].map((m) => Number(m[1]));
          if ((done.at(-1) ?? 0) >= 12 && child.exitCode === null && !child.killed) {
            child.kill('SIGKILL');
            resolvePromise(done.at(-1)!);
          }
        });
        child.on('exit', (code) =>
          reject(new Error(`the CLI exited (${code}) before it was killed:\n${stdout}\n${stderr}`)),
        );
      });
      await new Promise((r) => child.once('close', r));
      expect(child.signalCode).toBe('SIGKILL');
      const evalId = /^evalId=(\S+)$/m.exec(stdout)?.[1];
      expect(evalId).toMatch(/^[0-9a-f-]{36}$/);
      expect(existsSync(join(out, 'report.html'))).toBe(false);

      const list = spawnSync(process.execPath, cliArgs(['list']), { cwd: projectRoot, env: env(), encoding: 'utf8' });
      expect(list.status).toBe(0);
      const line = list.stdout.split('\n').find((l) => l.startsWith(evalId!))!;
      expect(line).toContain('interrupted');
      const recorded = Number(/ (\d+)\/60 /.exec(line)?.[1]);
      expect(recorded).toBeGreaterThanOrEqual(killedAfter);
      expect(recorded).toBeLessThan(60);

      const resume = spawnSync(process.execPath, cliArgs(['resume', evalId!, '--out', out]), {
        cwd: projectRoot,
        env: env(),
        encoding: 'utf8',
      });
      expect(resume.stderr).toBe('');
      expect(resume.status).toBe(0);
      const resumedSteps = [...resume.stdout.matchAll(/^\[(\d+)\/60\]/gm)].map((m) => Number(m[1]));
      expect(resumedSteps[0]).toBe(recorded + 1);
      expect(resumedSteps.at(-1)).toBe(60);
      expect(resume.stdout).toContain('· completed · 60/60 results, 0 failed · DRY RUN');

      const csv = readFileSync(join(out, 'results.csv'), 'utf8').trimEnd().split('\r\n');
      expect(csv).toHaveLength(61);
      const keys = csv.slice(1).map((row) => row.split(',').slice(0, 3).join('|'));
      expect(new Set(keys).size).toBe(60);
      expect(readFileSync(join(out, 'results.jsonl'), 'utf8').trimEnd().split('\n')).toHaveLength(60);
      const html = readFileSync(join(out, 'report.html'), 'utf8');
      expect(html).toContain('20 items × 3 modes (direct, rwr, rwr+cdir) = 60 results; 60 recorded, 0 failed');
    });

    it('exits with a usage message on a bad command line', () => {
      const result = spawnSync(process.execPath, cliArgs(['run', '--dataset', vqaRad, '--modes', 'direct,magic']), {
        cwd: projectRoot,
        env: env(),
        encoding: 'utf8',
      });
      expect(result.status).toBe(2);
      expect(result.stderr).toContain('--modes: expected a list of direct, rwr, rwr+cdir, found magic');
    });
  },
);

/**
 * Issue 8's "done" through the CLI: the tiny real model (in the engine's child process) answers 20 VQA-RAD items in
 * all three modes; the CLI process is killed with SIGKILL mid-run and a new process resumes it to the report.
 */
describe.skipIf(!existsSync(vqaRad))(
  'eval CLI on the tiny real model: killed mid-run, resumed (needs ../shared/data)',
  () => {
    let dataDir: string;

    beforeAll(() => {
      dataDir = mkdtempSync(join(tmpdir(), 'medrwr-eval-cli-model-'));
    });
    afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

    it('completes 20 items × 3 modes after a SIGKILL, with the same model recorded', async () => {
      const { ensureTinyModels } = await import('../../../tests/fixtures/gguf/tinyModels');
      const models = await ensureTinyModels();
      const env = { ...process.env, MEDRWR_DATA_DIR: dataDir };
      const out = join(dataDir, 'report');
      const child = spawn(
        process.execPath,
        cliArgs([
          'run',
          '--dataset',
          vqaRad,
          '--sample',
          '20:5',
          '--reasoner',
          models.textModel,
          '--mmproj',
          models.mmproj,
          // The default grammar bounds (2000 thought / 300 query characters): a looping thought is closed, a long one is
          // closed when only the answer's share of the token budget is left, so every item answers.
          '--grammar',
          '--max-tokens',
          '256',
          '--k',
          '1',
          '--rounds',
          '1',
          '--out',
          out,
        ]),
        { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      await new Promise<void>((resolvePromise, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          const done = [...stdout.matchAll(/^\[(\d+)\/60\]/gm)].map((m) => Number(m[1]));
          if ((done.at(-1) ?? 0) >= 8 && child.exitCode === null && !child.killed) {
            child.kill('SIGKILL');
            resolvePromise();
          }
        });
        child.on('exit', (code) =>
          reject(new Error(`the CLI exited (${code}) before it was killed:\n${stdout}\n${stderr.slice(-3000)}`)),
        );
      });
      await new Promise((r) => child.once('close', r));
      const evalId = /^evalId=(\S+)$/m.exec(stdout)?.[1];
      expect(evalId).toMatch(/^[0-9a-f-]{36}$/);
      // A fresh data directory: the evaluation waited for the bundled knowledge base to be built, and said so.
      expect(stderr).toMatch(/building the bundled knowledge base first[^\n]*\nbuilt the bundled knowledge base \(\d+ file\(s\)\)/);

      const resume = spawnSync(process.execPath, cliArgs(['resume', evalId!, '--out', out]), {
        cwd: projectRoot,
        env,
        encoding: 'utf8',
        timeout: 540_000,
      });
      expect(resume.status, resume.stderr.slice(-3000)).toBe(0);
      const steps = [...resume.stdout.matchAll(/^\[(\d+)\/60\]/gm)].map((m) => Number(m[1]));
      expect(steps[0]).toBeGreaterThanOrEqual(9);
      expect(steps.at(-1)).toBe(60);
      expect(resume.stdout).toMatch(/· completed · 60\/60 results, 0 failed\n/);
      const csv = readFileSync(join(out, 'results.csv'), 'utf8').trimEnd().split('\r\n');
      expect(csv).toHaveLength(61);
      // Real answers with the model's own probabilities, in every mode; CDIR re-reasons (every random confidence is low).
      const results = readFileSync(join(out, 'results.jsonl'), 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { mode: string; answer: string | null; confidence: { used: number | null }; cdirTriggered: boolean });
      expect(results.filter((r) => !r.answer?.trim())).toEqual([]);
      for (const r of results) {
        expect(r.confidence.used).toBeGreaterThan(0);
        expect(r.confidence.used).toBeLessThan(1);
      }
      expect(results.filter((r) => r.mode === 'rwr+cdir' && r.cdirTriggered)).toHaveLength(20);
      const html = readFileSync(join(out, 'report.html'), 'utf8');
      expect(html).toContain('tiny-llama-chat.gguf');
      expect(html).not.toContain('DRY RUN');
    }, 600_000);
  },
);
