import { AppError } from '../errors/AppError';

/** A passage, source, case or image id that does not exist (any more). */
export class NotFoundError extends AppError {
  constructor(what: string, id: number | string) {
    super('NOT_FOUND', `${what}: expected an existing id, found ${JSON.stringify(id)}`);
  }
}
