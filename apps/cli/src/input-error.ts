/** Bad input from the command line (exit 2, one line on stderr): never a stack trace. */
export class CliInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliInputError';
  }
}
