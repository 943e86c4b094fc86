/**
 * What a Prometheus endpoint exports, read from its text exposition format: every family it declares (its `# TYPE`
 * line, which prom-client writes for a metric before its first sample) and every series it has samples for.
 */
export interface Series {
  name: string;
  labels: Record<string, string>;
}

export interface Exposition {
  /** Every name a query can select: each family, and a histogram's or summary's series names. */
  names: Set<string>;
  series: Series[];
}

const STRING = String.raw`"((?:[^"\\]|\\.)*)"`;
const SERIES_NAMES: Record<string, string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

export function parseExposition(text: string): Exposition {
  const names = new Set<string>();
  const series: Series[] = [];
  for (const line of text.split('\n')) {
    const declared = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)/.exec(line);
    if (declared) {
      const [, name, type] = declared;
      for (const suffix of SERIES_NAMES[type] ?? ['']) names.add(name + suffix);
      continue;
    }
    if (!line || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0];
    const body = line.startsWith(`${name}{`) ? line.slice(name.length + 1, line.lastIndexOf('}')) : '';
    const labels = Object.fromEntries(
      [...body.matchAll(new RegExp(`([a-zA-Z_][a-zA-Z0-9_]*)=${STRING}`, 'g'))].map(([, key, value]) => [
        key,
        JSON.parse(`"${value}"`) as string,
      ]),
    );
    names.add(name);
    series.push({ name, labels });
  }
  return { names, series };
}
