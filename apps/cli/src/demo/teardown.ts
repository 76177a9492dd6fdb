/**
 * What the demo must undo however it ends (normal end, error, Ctrl-C): steps run once, newest
 * first, each on its own so one failing step does not leave the rest (a private Redis, children).
 */
export class Teardown {
  private readonly steps: { what: string; run: () => Promise<void> | void }[] = [];
  private running: Promise<void> | null = null;

  add(what: string, run: () => Promise<void> | void): void {
    this.steps.push({ what, run });
  }

  run(report: (line: string) => void = () => undefined): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.reverse()) {
        try {
          await step.run();
        } catch (err) {
          report(`demo: could not ${step.what}: ${(err as Error).message}`);
        }
      }
    })();
    return this.running;
  }

  /**
   * Ctrl-C or a kill while the demo runs: tear down, then exit 130/143 as shells expect. Returns a
   * function that removes the handlers again.
   */
  onSignals(report: (line: string) => void): () => void {
    const handler = (signal: NodeJS.Signals) => {
      report(`demo: ${signal}, stopping everything it started...`);
      void this.run(report).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, handler);
    return () => {
      for (const s of signals) process.off(s, handler);
    };
  }
}
