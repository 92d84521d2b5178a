import { AppError } from './AppError';

/** A capability that exists in the contract but whose service is not configured (or not built) in this process. */
export class NotAvailableError extends AppError {
  constructor(capability: string, why: string) {
    super('NOT_AVAILABLE', `${capability} is not available: ${why}`);
  }
}
