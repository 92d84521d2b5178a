import { describe, expect, it } from 'vitest';
import { normalizeAnswer, yesNoPolarity } from './normalizeAnswer';
import { mapToChoice, scoreAnswer, tokenRecall } from './scoreAnswer';

const closed = (answer: string, choices: string[] | null = null) => ({
  answer,
  answerType: 'closed' as const,
  choices,
});
const open = (answer: string) => ({ answer, answerType: 'open' as const, choices: null });

describe('normalizeAnswer', () => {
  it('lower-cases, drops punctuation and articles, and writes small numbers as digits', () => {
    expect(normalizeAnswer('  The T2-weighted image. ')).toBe('t2 weighted image');
    expect(normalizeAnswer('Two')).toBe('2');
    expect(normalizeAnswer('ＭＲＩ')).toBe('mri');
    expect(normalizeAnswer('a')).toBe('');
  });

  it('reads the polarity of a yes/no answer from its first token', () => {
    expect(yesNoPolarity('Yes, there is a mass.')).toBe('yes');
    expect(yesNoPolarity('no')).toBe('no');
    expect(yesNoPolarity('There is no mass')).toBeNull();
  });
});

describe('scoreAnswer', () => {
  it('scores closed yes/no questions by polarity', () => {
    expect(scoreAnswer(closed('Yes', ['yes', 'no']), 'yes, clearly').correct).toBe(true);
    expect(scoreAnswer(closed('no'), 'No.').correct).toBe(true);
    expect(scoreAnswer(closed('no'), 'yes')).toMatchObject({ correct: false, rule: 'yes-no', matchedChoice: 'yes' });
    expect(scoreAnswer(closed('yes'), 'probably')).toMatchObject({ correct: false, matchedChoice: null });
    // Answered by the option's letter (the loop offers "A) yes", "B) no").
    expect(scoreAnswer(closed('no', ['yes', 'no']), 'B')).toMatchObject({ correct: true, matchedChoice: 'no' });
    expect(scoreAnswer(closed('no', ['yes', 'no']), 'A')).toMatchObject({ correct: false, matchedChoice: 'yes' });
  });

  it('maps answers to options by text, letter label, or the one option contained', () => {
    const choices = ['CT', 'MRI', 'X-ray'];
    expect(mapToChoice('mri', choices)).toBe('MRI');
    expect(mapToChoice('B) MRI', choices)).toBe('MRI');
    expect(mapToChoice('(c)', choices)).toBe('X-ray');
    expect(mapToChoice('A.', choices)).toBe('CT');
    expect(mapToChoice('This is an MRI of the brain', choices)).toBe('MRI');
    expect(mapToChoice('CT or MRI', choices)).toBeNull();
    expect(mapToChoice('A mass', choices)).toBeNull();
    expect(scoreAnswer(closed('MRI', choices), 'b)')).toMatchObject({ correct: true, rule: 'choice' });
    expect(scoreAnswer(closed('MRI', choices), 'CT')).toMatchObject({ correct: false, matchedChoice: 'CT' });
  });

  it('scores other closed questions by whole-word containment either way', () => {
    expect(scoreAnswer(closed('Right side'), 'right').correct).toBe(true);
    expect(scoreAnswer(closed('left'), 'The left side').correct).toBe(true);
    expect(scoreAnswer(closed('Left'), 'leftward').correct).toBe(false);
    expect(scoreAnswer(closed('supratentorial'), 'infratentorial').correct).toBe(false);
  });

  it('scores open questions by exact match and records token recall', () => {
    expect(scoreAnswer(open('Left temporal lobe'), 'left temporal lobe.')).toMatchObject({ correct: true, recall: 1 });
    const partial = scoreAnswer(open('left temporal lobe'), 'temporal lobe');
    expect(partial.correct).toBe(false);
    expect(partial.recall).toBeCloseTo(2 / 3, 12);
    expect(scoreAnswer(open('4'), 'four')).toMatchObject({ correct: true, recall: 1 });
    expect(tokenRecall('ring enhancing lesion', 'a lesion, ring-enhancing')).toBe(1);
  });

  it('counts a missing answer as wrong', () => {
    expect(scoreAnswer(open('brain'), null)).toEqual({
      correct: false,
      recall: 0,
      rule: 'no-answer',
      matchedChoice: null,
    });
    expect(scoreAnswer(closed('yes'), '  ')).toMatchObject({ correct: false, recall: null, rule: 'no-answer' });
  });
});
