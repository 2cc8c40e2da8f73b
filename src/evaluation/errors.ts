/** Unusable evaluation input (a missing folder, a bad CSV row, no windows file): the message names the place. */
export class EvaluationInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvaluationInputError';
  }
}
