import type { EvalRequest, ReasoningMode } from '../../../shared/contract';
import { InvalidInputError } from '../../errors/AppError';
import type { EvalService } from '../../eval/EvalService';
import type { NamespaceHandlers } from '../handlers';

const formats = ['vqa-rad', 'slake', 'jsonl'];
const modes: ReasoningMode[] = ['direct', 'rwr', 'rwr+cdir'];

/** Checks the shape of a request from the renderer; the service checks the content (files, items). */
function validateRequest(request: EvalRequest): EvalRequest {
  if (typeof request !== 'object' || request === null)
    throw new InvalidInputError('eval.start', 'a request object', String(request));
  const { dataset } = request;
  if (
    typeof dataset !== 'object' ||
    dataset === null ||
    typeof dataset.path !== 'string' ||
    dataset.path.trim() === ''
  ) {
    throw new InvalidInputError('eval.start dataset.path', 'a file path', JSON.stringify(dataset?.path ?? null));
  }
  if (!formats.includes(dataset.format)) {
    throw new InvalidInputError('eval.start dataset.format', formats.join(' | '), JSON.stringify(dataset.format));
  }
  if (!Array.isArray(request.modes) || request.modes.length === 0 || request.modes.some((m) => !modes.includes(m))) {
    throw new InvalidInputError(
      'eval.start modes',
      `a non-empty subset of ${modes.join(', ')}`,
      JSON.stringify(request.modes),
    );
  }
  return request;
}

function validateId(args: { evalId: string }): string {
  if (typeof args?.evalId !== 'string' || args.evalId === '') {
    throw new InvalidInputError('evalId', 'an evaluation id', JSON.stringify(args?.evalId ?? null));
  }
  return args.evalId;
}

/** The `eval.*` channels over the evaluation service. */
export function createEvalHandlers(evals: EvalService): NamespaceHandlers<'eval'> {
  return {
    'eval.start': (request) => evals.start(validateRequest(request)),
    'eval.resume': (args) => evals.resume(validateId(args)),
    'eval.list': () => evals.list(),
    'eval.get': (args) => evals.get(validateId(args)),
    'eval.results': (query) => evals.results({ ...query, evalId: validateId(query) }),
    'eval.report': (args) => evals.report(validateId(args)),
    'eval.export': (args) => {
      if (args?.format !== 'csv' && args?.format !== 'jsonl') {
        throw new InvalidInputError('eval.export format', 'csv | jsonl', JSON.stringify(args?.format ?? null));
      }
      return evals.export(validateId(args), args.format);
    },
    'eval.remove': (args) => ({ removed: evals.remove(validateId(args)) }),
  };
}
