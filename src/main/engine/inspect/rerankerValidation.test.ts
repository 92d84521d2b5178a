import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, GgufInsights, LlamaLogLevel, readGgufFileInfo, type Llama } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GgufWriter } from '../../../../tests/fixtures/gguf/GgufWriter';
import { ensureTinyModels, type TinyModels } from '../../../../tests/fixtures/gguf/tinyModels';
import { assertLoadable, inspectModel } from './inspectModel';

/**
 * The reranker check reads the GGUF header only, before any native load; it mirrors what node-llama-cpp 3.22 accepts
 * for `createRankingContext` (a classification head and a way to join query and document). Compared here with the
 * library's own `GgufInsights.supportsRanking` on every kind of file, so the two cannot drift apart unnoticed.
 */
let models: TinyModels;
let llama: Llama;
let dir: string;
let headWithoutJoin: string;

beforeAll(async () => {
  models = await ensureTinyModels();
  llama = await getLlama({ build: 'never', gpu: false, logLevel: LlamaLogLevel.error });
  dir = await mkdtemp(join(tmpdir(), 'reranker-validation-'));
  // A BERT head with a 39-piece WordPiece vocabulary and no separator: llama.cpp's default separator (102) is past
  // its end and "bert" vocabularies have no eos, so nothing can join the query and the document.
  const tokens = ['[PAD]', '[UNK]', '[CLS]', ...[...'abcdefghijklmnopqrstuvwxyz0123456789'].map((c) => `▁${c}`)];
  headWithoutJoin = join(dir, 'bert-head-no-separator.gguf');
  await new GgufWriter()
    .string('general.architecture', 'bert')
    .u32('bert.context_length', 64)
    .u32('bert.embedding_length', 8)
    .u32('bert.block_count', 1)
    .u32('bert.feed_forward_length', 16)
    .u32('bert.attention.head_count', 2)
    .f32('bert.attention.layer_norm_epsilon', 1e-12)
    .u32('bert.pooling_type', 4)
    .string('tokenizer.ggml.model', 'bert')
    .array('tokenizer.ggml.tokens', 8, tokens)
    .array('tokenizer.ggml.token_type', 5, tokens.map(() => 1))
    .tensor('token_embd.weight', [8, tokens.length], new Float32Array(8 * tokens.length))
    .tensor('blk.0.attn_q.weight', [8, 8], new Float32Array(64))
    .tensor('cls.weight', [8, 8], new Float32Array(64))
    .write(headWithoutJoin);
});

afterAll(async () => {
  await llama?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('reranker validation before loading', () => {
  it('agrees with node-llama-cpp on which files can rank', async () => {
    const cases: [string, string, boolean][] = [
      ['BERT cross-encoder', models.reranker, true],
      ['Qwen3-style reranker (rerank template)', models.qwen3Reranker, true],
      ['BERT encoder without a head', models.bertEncoder, false],
      ['llama chat model', models.textModel, false],
      ['llama embedding model', models.embeddingModel, false],
      ['BERT head with nothing to join query and document', headWithoutJoin, false],
    ];
    for (const [what, path, canRank] of cases) {
      const ours = await inspectModel(path);
      const theirs = (await GgufInsights.from(await readGgufFileInfo(path), llama)).supportsRanking;
      expect(theirs, what).toBe(canRank);
      expect(ours.text!.rankingHead.length > 0 && ours.text!.rankingJoin !== null, what).toBe(canRank);
    }
  });

  it('says how query and document are joined', async () => {
    expect((await inspectModel(models.reranker)).text).toMatchObject({ rankingHead: ['cls.weight', 'cls.output.weight'], rankingJoin: 'separator' });
    expect((await inspectModel(models.qwen3Reranker)).text).toMatchObject({ rankingHead: ['cls.output.weight'], rankingJoin: 'template' });
    expect((await inspectModel(models.qwen3Reranker)).inspection.isReranker).toBe(true);
  });

  it('refuses a head with nothing to join query and document, naming what it expected', async () => {
    const model = await inspectModel(headWithoutJoin);
    expect(model.inspection).toMatchObject({ isReranker: true, problems: [] });
    expect(() => assertLoadable(model, 'reranker')).toThrow(
      expect.objectContaining({
        code: 'MODEL_INVALID',
        message:
          'bert-head-no-separator.gguf: expected a reranker that can join a query and a document (a separator or end-of-sequence token, or a "tokenizer.chat_template.rerank" template with {query} and {document}), found none',
      }),
    );
    expect(() => assertLoadable(model, 'embedding')).toThrow(expect.objectContaining({ code: 'MODEL_INVALID' }));
  });
});
