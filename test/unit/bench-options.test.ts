/** `npm run bench` flags: `--only` takes a comma-separated list of sections; `--compare` needs a section it can compare. */
import { parseBenchOptions } from '../../bench/run';

it('runs every section and writes BENCHMARKS.md without flags', () => {
  expect(parseBenchOptions([])).toEqual({ sections: new Set(['ingest', 'latency', 'cold-start', 'cost', 'outbound', 'ably']), partial: false, compareRef: undefined, runs: 9 });
});

it('runs only the listed sections, comma-separated, and then leaves BENCHMARKS.md alone', () => {
  expect(parseBenchOptions(['--only', 'ingest,latency'])).toMatchObject({ sections: new Set(['ingest', 'latency']), partial: true });
  expect(parseBenchOptions(['--only=cold-start'])).toMatchObject({ sections: new Set(['cold-start']), partial: true });
  expect(parseBenchOptions(['--only', 'latency', '--compare', 'main'])).toMatchObject({ sections: new Set(['latency']), compareRef: 'main' });
  expect(parseBenchOptions(['--only', 'cold-start', '--runs', '3', '--compare', 'main'])).toMatchObject({ sections: new Set(['cold-start']), runs: 3, compareRef: 'main' });
});

it('refuses unknown sections and a --compare with no runtime section', () => {
  expect(() => parseBenchOptions(['--only', 'ingest,speed'])).toThrow('unknown: speed');
  expect(() => parseBenchOptions(['--only', ''])).toThrow('--only takes a comma-separated list of ingest, latency, cold-start, cost');
  expect(() => parseBenchOptions(['--only', 'cost', '--compare', 'main'])).toThrow('--compare measures the ingest, latency and cold-start sections');
  expect(() => parseBenchOptions(['--runs', '0'])).toThrow('--runs must be a positive integer');
});
