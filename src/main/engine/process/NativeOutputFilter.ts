/**
 * Keeps prompt text out of the engine log and out of crash records.
 *
 * llama.node (rn-llama) and mtmd print what they are given to stdout whatever the log level: the formatted chat
 * ("Processing message with role=user, content=…", multi-line), the prompt's token ids, and every text chunk next to
 * an image ("add_text: …"). That is the radiologist's question, retrieved passages and similar-case reports — patient
 * context that must not land in a log file, in an ENGINE_CRASHED message or in the audit's crash record. The printed
 * text is free-form and spans lines, so after an echo starts every line is withheld until one that llama.cpp itself
 * writes (a bracketed level tag or a known log prefix): erring on the side of withholding costs only debug detail.
 */
export class NativeOutputFilter {
  #withholding = false;

  /** The line to log (the echo's own text replaced by a marker), or null when it is prompt text. */
  filter(line: string): string | null {
    const echo = ECHO_STARTS.map((pattern) => pattern.exec(line)).find((m) => m !== null);
    if (echo) {
      this.#withholding = true;
      return `${line.slice(0, echo.index + echo[0].length)} ${WITHHELD}`;
    }
    if (this.#withholding && !ENGINE_LINE.test(line)) return null;
    this.#withholding = false;
    return line;
  }
}

export const WITHHELD = '‹prompt text withheld›';

/** Lines whose remainder (and the lines that follow) are prompt text. */
const ECHO_STARTS: readonly RegExp[] = [
  /Processing message with role=\w+, content=/,
  /Processing \d+ media with prompt:/,
  /prompt_tokens =/,
  /^add_text:/,
];

/** A line llama.cpp, ggml, mtmd or rn-llama write themselves: the end of an echo. */
const ENGINE_LINE =
  /^(\[(INFO|DEBUG|VERBOSE|WARN|WARNING|ERROR)\]|GGML_ASSERT|ggml_|llama_|~llama|common_|clip_|mtmd_|add_media:|image_tokens->|batch_f32 |encoding image|image slice|image decoded|decoding image|set_adapters|adapters_lora|detach_threadpool|attach_threadpool|load_tensors|print_info|graph_reserve|sched_reserve|reserve_compute|warmup:)/;
