import { describe, expect, it } from 'vitest';
import { AGENT_HELP, parseAgentArgs } from '../../../edge-agent/index.js';

const run = (argv: string[], env = {}) => {
  const r = parseAgentArgs(argv, env);
  if (r.kind !== 'run') throw new Error(`expected a run, got ${r.kind}`);
  return r;
};

describe('plantpulse-agent arguments', () => {
  it('has defaults for everything', () => {
    const r = run([]);
    expect(r.logLevel).toBe('info');
    expect(r.options).toMatchObject({ brokerUrl: 'mqtt://127.0.0.1:1883', protocolVersion: 5, clean: true, sites: 1, linesPerSite: 2, machinesPerLine: 5, seed: 42, sampleIntervalMs: 1000, publishIntervalMs: 5000, maxInFlight: 100, mode: 'realtime' });
  });

  it('maps every option', () => {
    const r = run(
      ['--broker', 'mqtts://b:8883', '--username', 'gw', '--client-id', 'plant-7', '--mqtt-version', '4', '--persistent-session', '--max-in-flight', '20', '--sites', '3', '--lines', '4', '--machines', '6', '--seed', '0', '--interval', '250', '--publish-every', '2000', '--samples-per-message', '50', '--burst', '500', '--log-level', 'warn'],
      { PP_AGENT_PASSWORD: 's3cret' },
    );
    expect(r.logLevel).toBe('warn');
    expect(r.options).toEqual({
      brokerUrl: 'mqtts://b:8883',
      username: 'gw',
      password: 's3cret',
      clientId: 'plant-7',
      protocolVersion: 4,
      clean: false,
      maxInFlight: 20,
      sites: 3,
      linesPerSite: 4,
      machinesPerLine: 6,
      seed: 0,
      sampleIntervalMs: 250,
      publishIntervalMs: 2000,
      samplesPerMessage: 50,
      mode: 'burst',
      samplesPerDevice: 500,
    });
  });

  it.each([
    [['--sites', 'two'], /--sites must be an integer ≥ 1, got "two"/],
    [['--machines', '0'], /--machines must be an integer ≥ 1/],
    [['--seed=-1'], /--seed must be an integer ≥ 0/],
    [['--seed', '-1'], /Option '--seed' argument is ambiguous/],
    [['--burst', '1.5'], /--burst must be an integer/],
    [['--interval', ''], /--interval must be an integer/],
    [['--samples-per-message', '5000'], /--samples-per-message must be at most 1000/],
    [['--mqtt-version', '3'], /--mqtt-version must be 4 or 5/],
    [['--broker', 'localhost:1883'], /--broker must be a URL/],
    [['--client-id', 'a/b'], /--client-id must match/],
    [['--log-level', 'loud'], /--log-level must be one of/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--sites'], /Option '--sites <value>' argument missing/],
    [['extra'], /Unexpected argument 'extra'/],
  ])('%j is refused, naming the option', (argv, message) => {
    expect(() => parseAgentArgs(argv)).toThrow(message);
  });

  it('--help and --version', () => {
    expect(parseAgentArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseAgentArgs(['-h', '--sites', 'nonsense'])).toEqual({ kind: 'help' });
    expect(parseAgentArgs(['--version'])).toEqual({ kind: 'version' });
  });

  it('the help text lists every option', () => {
    for (const option of ['--broker', '--username', '--password', '--client-id', '--mqtt-version', '--persistent-session', '--max-in-flight', '--sites', '--lines', '--machines', '--seed', '--interval', '--publish-every', '--samples-per-message', '--burst', '--log-level', '--help', '--version']) {
      expect(AGENT_HELP).toContain(option);
    }
  });
});
