import type { ConfidenceReport, ConfidenceSource } from '../../shared/contract';
import type { GeneratedToken, NextTokenProbe } from '../engine/ports';
import { choiceLetter } from './prompts';

/** How many of the model's most likely next tokens a probe asks for. */
export const PROBE_TOP = 40;

/**
 * The strings whose first token would start each option at the answer position: the letter (for lettered choices)
 * and the option's text, bare, after a space, and capitalised.
 */
export function optionCandidateStrings(options: readonly string[], lettered: boolean): string[][] {
  return options.map((option, i) => {
    const text = option.trim();
    const forms = new Set<string>();
    const add = (s: string): void => {
      if (!s) return;
      forms.add(s);
      forms.add(` ${s}`);
    };
    if (lettered) add(choiceLetter(i));
    add(text);
    add(text.toLowerCase());
    add(text.charAt(0).toUpperCase() + text.slice(1));
    return [...forms];
  });
}

export interface OptionMass {
  /** Unnormalised probability of each option's first tokens (tokens shared by two options are left out). */
  masses: number[];
  /** Tokens that start more than one option, so say nothing about which. */
  ambiguousTokenIds: number[];
  /** Normalised mass of `chosen` (or of the most likely option when the answer matched none). */
  normalised: number | null;
  chosen: number | null;
}

export function optionMass(probe: NextTokenProbe, candidates: readonly string[][], chosen: number | null): OptionMass {
  const byText = new Map(probe.candidates.map((c) => [c.text, c]));
  const owners = new Map<number, Set<number>>();
  const probability = new Map<number, number>();
  candidates.forEach((strings, option) => {
    for (const s of strings) {
      const c = byText.get(s);
      if (!c) continue;
      probability.set(c.tokenId, c.probability);
      const set = owners.get(c.tokenId) ?? new Set<number>();
      set.add(option);
      owners.set(c.tokenId, set);
    }
  });
  const masses = candidates.map(() => 0);
  const ambiguousTokenIds: number[] = [];
  for (const [tokenId, set] of owners) {
    if (set.size > 1) {
      ambiguousTokenIds.push(tokenId);
      continue;
    }
    const [option] = [...set];
    masses[option!] = (masses[option!] ?? 0) + (probability.get(tokenId) ?? 0);
  }
  const total = masses.reduce((a, b) => a + b, 0);
  if (total <= 0) return { masses, ambiguousTokenIds, normalised: null, chosen };
  const pick = chosen ?? masses.indexOf(Math.max(...masses));
  return { masses, ambiguousTokenIds, normalised: (masses[pick] ?? 0) / total, chosen };
}

/** Which option an answer names: a letter ("B", "B.", "(B)") for lettered choices, else the option's text. */
export function matchAnswerToOption(answer: string, options: readonly string[], lettered: boolean): number | null {
  const a = answer.trim().replace(/[.\s]+$/, '');
  if (lettered) {
    const letter = /^\(?([A-Z])\)?(?:[.):]|\s|$)/.exec(a);
    if (letter) {
      const i = letter[1]!.charCodeAt(0) - 65;
      if (i >= 0 && i < options.length) return i;
    }
  }
  const lower = a.toLowerCase();
  const exact = options.findIndex((o) => o.trim().toLowerCase() === lower);
  if (exact >= 0) return exact;
  // The longest option the answer starts with ("no, there is…" → "no"), so "pneumothorax" beats "pneumo".
  let best: number | null = null;
  options.forEach((o, i) => {
    const t = o.trim().toLowerCase();
    if (t && (lower.startsWith(`${t} `) || lower.startsWith(`${t},`)) && (best === null || t.length > options[best]!.length)) {
      best = i;
    }
  });
  return best;
}

export interface FirstTokenConfidence {
  text: string;
  tokenId: number;
  /** From the probe (the model's full softmax), or null when no probe preceded the token. */
  probability: number | null;
  /** True when the token was not among the probe's top tokens: `probability` is then an upper bound. */
  upperBound: boolean;
  /** What the sampler reported for the token (1 under greedy decoding). */
  sampled: number | null;
}

export function firstTokenConfidence(probe: NextTokenProbe | null, token: GeneratedToken): FirstTokenConfidence {
  if (!probe) {
    return { text: token.text, tokenId: token.tokenId, probability: null, upperBound: false, sampled: token.probability };
  }
  // A token known only by its text (the engine did not stream it) is matched by text.
  const hit = probe.top.find((t) => (token.tokenId >= 0 ? t.tokenId === token.tokenId : t.text === token.text));
  if (hit) {
    return { text: token.text, tokenId: token.tokenId, probability: hit.probability, upperBound: false, sampled: token.probability };
  }
  const floor = probe.top.length > 0 ? Math.min(...probe.top.map((t) => t.probability)) : null;
  return { text: token.text, tokenId: token.tokenId, probability: floor, upperBound: floor !== null, sampled: token.probability };
}

/** The report the UI and the audit see, and the value the CDIR trigger compares with the threshold. */
export function confidenceReport(
  firstToken: FirstTokenConfidence | null,
  mass: OptionMass | null,
  source: ConfidenceSource,
): ConfidenceReport {
  const first = firstToken?.probability ?? null;
  const option = mass?.normalised ?? null;
  const useOption = source === 'option-mass' && option !== null;
  return {
    firstToken: first,
    optionMass: option,
    sampled: firstToken?.sampled ?? null,
    used: useOption ? option : first,
    source: useOption ? 'option-mass' : 'first-token',
  };
}

export const EMPTY_CONFIDENCE: ConfidenceReport = {
  firstToken: null,
  optionMass: null,
  sampled: null,
  used: null,
  source: 'first-token',
};
