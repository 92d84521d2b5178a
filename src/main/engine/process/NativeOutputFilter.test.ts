import { describe, expect, it } from 'vitest';
import { NativeOutputFilter, WITHHELD } from './NativeOutputFilter';

/** Lines as the engine process printed them in a real run (llama.node 1.7.15, tiny model + projector), in order. */
const printed = [
  '[INFO] processMedia:442 [DEBUG] Processing message with role=user, content=user: <__media__>',
  'Is there a mass in the left lung? Error in prior report.</s>',
  'assistant: ',
  '[INFO] processMedia:443 [DEBUG] Processing 1 media with prompt: user: <__media__>',
  'Is there a mass in the left lung? Error in prior report.</s>',
  'assistant: ',
  '[INFO] processMedia:444 [DEBUG] Current context state: n_past=0, n_ctx=512',
  '[INFO] tokenizeWithMedia:384 [DEBUG] Chunk 0: type=TEXT, n_tokens=7',
  'add_text: user: ',
  'add_media: preproc_out has 1 entries, grid_x = 0, grid_y = 0, has_overview = 0',
  'image_tokens->nx = 16',
  'add_text: ',
  'Is there a mass in the left lung? Error in prior report.</s>',
  'assistant: ',
  'encoding image slice...',
  'clip_image_batch_encode: output embedding shape [64, 16, 1]',
  '[INFO] loadPrompt:402 ',
  'loadPrompt: prompt_tokens = 1 259 120 118 280 61 259 71',
  '',
  '[INFO] loadPrompt:580 [DEBUG] Input processed: n_past=47, embd.size=47, num_prompt_tokens=47, has_media=1',
  'common_perf_print: prompt eval time =       5.07 ms /    40 tokens',
  'llama_context: warning: n_ctx_seq < n_ctx_train',
];

describe('NativeOutputFilter', () => {
  const filter = new NativeOutputFilter();
  const kept = printed.filter((l) => l.trim()).map((l) => filter.filter(l)).filter((l): l is string => l !== null);

  it('withholds every line of prompt text, and the text on the line that starts an echo', () => {
    expect(kept.join('\n')).not.toMatch(/left lung|prior report|assistant:|user:|259 120/);
    expect(kept).toContain(`[INFO] processMedia:442 [DEBUG] Processing message with role=user, content= ${WITHHELD}`);
    expect(kept).toContain(`add_text: ${WITHHELD}`);
    expect(kept).toContain(`loadPrompt: prompt_tokens = ${WITHHELD}`);
  });

  it('keeps what llama.cpp says about itself, warnings included', () => {
    expect(kept).toContain('[INFO] processMedia:444 [DEBUG] Current context state: n_past=0, n_ctx=512');
    expect(kept).toContain('image_tokens->nx = 16');
    expect(kept).toContain('clip_image_batch_encode: output embedding shape [64, 16, 1]');
    expect(kept).toContain('llama_context: warning: n_ctx_seq < n_ctx_train');
    expect(kept.at(-2)).toMatch(/^common_perf_print/);
  });

  it('passes output that never echoes a prompt through unchanged', () => {
    const plain = new NativeOutputFilter();
    const lines = ['llama_model_loader: loaded meta data', 'GGML_ASSERT(x) failed', 'some line of its own'];
    expect(lines.map((l) => plain.filter(l))).toEqual(lines);
  });
});
