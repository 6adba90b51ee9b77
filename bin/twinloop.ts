#!/usr/bin/env node
/**
 * `twinloop` command line: a small dispatcher. Each command lives in bin/commands/<name>.ts and
 * exports `async (argv: string[]) => number | void` (the exit code); it is loaded only when used.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './commands/usage.js';
import { TwinError } from '../runtime/model/errors.js';

type Command = (argv: string[]) => Promise<number | void>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  start: {
    summary: 'Node-RED with the TwinLoop nodes, the embedded broker, the simulator and the demo flow',
    load: async () => (await import('./commands/start.js')).startCommand,
  },
  sim: {
    summary: 'run the plant simulator (OPC UA server + MQTT JSON/Sparkplug B publisher)',
    load: async () => (await import('./commands/sim.js')).simCommand,
  },
  ledger: {
    summary: 'check an audit ledger: `twinloop ledger verify FILE` names the first broken record (`ledger export`: from NATS)',
    load: async () => (await import('./commands/ledger.js')).ledgerCommand,
  },
  deploy: {
    summary: 'deploy a prebuilt flow to a running Node-RED (Admin API) after checking its environment variables',
    load: async () => (await import('./commands/deploy.js')).deployCommand,
  },
  replay: {
    summary: 'run a flow over recorded data (CSV or InfluxDB), in event time, writing what TwinLoop nodes send as JSON lines',
    load: async () => (await import('./commands/replay.js')).replayCommand,
  },
  evaluate: {
    summary: 'score alarms against labelled windows: NAB score, precision/recall/F1, false alarms per day, delay, SVG timeline',
    load: async () => (await import('./commands/evaluate.js')).evaluateCommand,
  },
  fit: {
    summary: 'fit models from history: `twinloop fit --kind rul` learns remaining useful life from run-to-failure data',
    load: async () => (await import('./commands/fit.js')).fitCommand,
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    'Usage: twinloop <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `twinloop <command> --help` for the options of a command; `twinloop --version` prints the version.',
    '',
    'Exit codes (every command):',
    '  0  done (a check passed, a run finished, a server stopped on Ctrl-C)',
    '  1  failed: a check found a problem (ledger verify: a broken chain) or the work could not be done',
    '     (a port in use, Node-RED or InfluxDB unreachable or refusing, a file that cannot be written)',
    '  2  bad usage or bad input: an unknown command or option, a missing, unreadable or malformed file',
    '     (flow, CSV, env file, ledger), variables a flow needs and the env file does not set',
  ].join('\n');
}

/** The package's version (dist/bin → ../../package.json). */
export function version(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`twinloop: unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')}; see twinloop --help)\n`);
    return 2;
  }
  try {
    return (await (await cmd.load())(rest)) ?? 0;
  } catch (err) {
    // node:util parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes and multi-line hints.
    const parseError = String((err as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS_');
    if (err instanceof UsageError || parseError) {
      const reason = String((err as Error).message)
        .split('\n')[0]
        .replace(/\.$/, '');
      process.stderr.write(`twinloop ${name}: ${reason} (see twinloop ${name} --help)\n`);
      return 2;
    }
    // TwinError: the input (a flow, a CSV, a model's data) is wrong, and the message says where (2);
    // a server that cannot be reached or refuses (CONNECTION) means the work could not be done (1).
    if (err instanceof TwinError) {
      process.stderr.write(`twinloop ${name}: ${err.message}\n`);
      return err.code === 'CONNECTION' ? 1 : 2;
    }
    process.stderr.write(`twinloop ${name}: ${(err as Error).message ?? String(err)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== 0) process.exit(code);
    },
    (err) => {
      process.stderr.write(`twinloop: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
