/**
 * The InfluxDB input options that `twinloop replay` and `twinloop fit` share: which server and
 * database, the time range, filters; credentials only from the environment (a command line is
 * visible to every user of the machine in `ps`).
 */
import { UsageError, numberOption } from '../commands/usage.js';
import { checkMeasurement } from '../../runtime/store/influx-points.js';
import { parseReplayTime } from '../../runtime/replay/time.js';
import { DEFAULT_PAGE_SIZE, influxHttpQuery, type InfluxQuery, type InfluxRange } from '../../runtime/replay/influx-source.js';

export const INFLUX_OPTIONS = {
  influx: { type: 'string' },
  database: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  measurement: { type: 'string' },
  tag: { type: 'string', multiple: true },
  site: { type: 'string' },
  line: { type: 'string' },
  'retention-policy': { type: 'string' },
  'page-size': { type: 'string' },
} as const;

export const INFLUX_HELP_ENV = `  Credentials: INFLUX_USERNAME and INFLUX_PASSWORD from the environment (never on the command
  line); without them, no authentication.`;

type InfluxValues = { [K in keyof typeof INFLUX_OPTIONS]?: (typeof INFLUX_OPTIONS)[K] extends { multiple: true } ? string[] : string };

/** The option names that only make sense with --influx (to refuse them with --input). */
export const INFLUX_ONLY = Object.keys(INFLUX_OPTIONS).filter((k) => k !== 'influx') as (keyof typeof INFLUX_OPTIONS)[];

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

function time(raw: string | undefined, name: string): number {
  if (raw === undefined) throw new UsageError(`--${name} TIME is required with --influx (ISO-8601 or epoch ms)`);
  try {
    return parseReplayTime(raw);
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

const list = (xs: string[] | undefined) =>
  (xs ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** Check the options; `assets` and `assetTag` come from the command's own options. */
export function influxOptions(
  v: InfluxValues,
  assets: string[],
  assetTag = 'asset',
  env: NodeJS.ProcessEnv = process.env,
): { query: InfluxQuery; range: InfluxRange; pageSize: number; describe: string } {
  const url = v.influx!;
  const database = v.database?.trim() ?? '';
  if (database === '') throw new UsageError('--database DB is required with --influx');
  if (!NAME.test(database)) throw new UsageError(`--database must be 1 to 64 letters, digits, _ . or -, got '${database}'`);
  const fromMs = time(v.from, 'from');
  const toMs = time(v.to, 'to');
  if (!(toMs > fromMs))
    throw new UsageError(`--to (${new Date(toMs).toISOString()}) must be after --from (${new Date(fromMs).toISOString()})`);
  let measurement: string;
  try {
    measurement = checkMeasurement(v.measurement ?? 'reading', 'BAD_CONFIG');
  } catch (err) {
    throw new UsageError(`--${(err as Error).message}`);
  }
  const rp = v['retention-policy'];
  if (rp !== undefined && !NAME.test(rp)) throw new UsageError(`--retention-policy must be letters, digits, _ . or -, got '${rp}'`);
  const pageSize =
    numberOption(v['page-size'], 'page-size', (n) => Number.isInteger(n) && n >= 1 && n <= 1_000_000, 'a whole number from 1 to 1000000') ??
    DEFAULT_PAGE_SIZE;
  const where: Record<string, string> = {};
  if (v.site) where.site = v.site;
  if (v.line) where.line = v.line;
  let query: InfluxQuery;
  try {
    query = influxHttpQuery(url, database, { username: env.INFLUX_USERNAME, password: env.INFLUX_PASSWORD });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const range: InfluxRange = { measurement, assetTag, assets: list(assets), tags: list(v.tag), where, retentionPolicy: rp, fromMs, toMs };
  const filters = [
    ...(range.assets.length ? [`${assetTag} ${range.assets.join(', ')}`] : []),
    ...(range.tags.length ? [`tag ${range.tags.join(', ')}`] : []),
    ...Object.entries(where).map(([k, x]) => `${k} ${x}`),
  ];
  const describe = `measurement ${measurement} of database ${database} from ${new Date(fromMs).toISOString()} to ${new Date(toMs).toISOString()}${filters.length ? ` (${filters.join('; ')})` : ''}`;
  return { query, range, pageSize, describe };
}
