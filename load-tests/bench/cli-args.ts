/**
 * The `--name value` options of a bench script: `argOf(process.argv.slice(2))('--rounds', '3')`
 * gives the value after `--rounds`, or the default when the option is absent.
 */
export function argOf(argv: readonly string[]): { (name: string): string | undefined; (name: string, dflt: string): string } {
  return ((name: string, dflt?: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : dflt;
  }) as { (name: string): string | undefined; (name: string, dflt: string): string };
}
