/** The error a promise rejects with, for asserting its code and message; throws if the promise resolves. */
export async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e as { code: string; message: string },
  );
  if (!error) throw new Error('expected a failure, found success');
  return error;
}
