// Small SVG bar charts for the benchmark report (no dependencies): grouped bars and stacked bars,
// linear axis from zero, an optional horizontal reference line (a target), a legend.

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f'];
const WIDTH = 860;
const HEIGHT = 420;
const MARGIN = { top: 56, right: 20, bottom: 78, left: 70 };

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const fmt = (v: number): string =>
  !Number.isFinite(v)
    ? 'n/a'
    : v >= 100
      ? v.toFixed(0)
      : v >= 10
        ? v.toFixed(1)
        : v >= 1
          ? v.toFixed(2)
          : v.toFixed(3);

/** A "nice" axis maximum and step for values up to `max`. */
function niceAxis(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.25 };
  const raw = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  return { top: Math.ceil(max / step) * step, step };
}

interface ChartSpec {
  title: string;
  yLabel: string;
  /** A horizontal line, e.g. a target. */
  reference?: { value: number; label: string };
}

/** Axes (from zero to above the largest of `max` and the reference), title, reference line, legend. */
function frame(
  spec: ChartSpec,
  max: number,
  body: (y: (v: number) => number) => string[],
  legend: string[],
): string {
  const { title, yLabel, reference } = spec;
  const { top, step } = niceAxis(Math.max(max, reference?.value ?? 0) * 1.08);
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const y = (v: number): number => MARGIN.top + plotH - (Math.min(v, top) / top) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  ];
  for (let v = 0; v <= top + step / 2; v += step) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`,
    );
  }
  parts.push(...body(y));
  if (reference) {
    const ry = y(reference.value).toFixed(1);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${ry}" y2="${ry}" stroke="#c00" stroke-dasharray="6 4"/>`,
      `<text x="${WIDTH - MARGIN.right - 4}" y="${Number(ry) - 4}" text-anchor="end" fill="#c00">${esc(reference.label)}</text>`,
    );
  }
  parts.push(
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`,
    ...legend.map((item, i) => {
      const x = MARGIN.left + i * 170;
      return `<rect x="${x}" y="34" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/><text x="${x + 16}" y="44">${esc(item)}</text>`;
    }),
    '</svg>',
  );
  return parts.join('\n');
}

export interface GroupedBarsSpec extends ChartSpec {
  /** One name per bar of a group (the legend). */
  series: string[];
  groups: { label: string; values: number[] }[];
}

export function groupedBars(spec: GroupedBarsSpec): string {
  const max = Math.max(...spec.groups.flatMap((g) => g.values.filter(Number.isFinite)));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const groupW = plotW / Math.max(1, spec.groups.length);
  const barW = (groupW * 0.8) / Math.max(1, spec.series.length);
  return frame(
    spec,
    max,
    (y) => {
      const out: string[] = [];
      spec.groups.forEach((group, g) => {
        const x0 = MARGIN.left + g * groupW + groupW * 0.1;
        group.values.forEach((value, s) => {
          const v = Number.isFinite(value) ? value : 0;
          const x = x0 + s * barW;
          out.push(
            `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(y(0) - y(v)).toFixed(1)}" fill="${PALETTE[s % PALETTE.length]}"><title>${esc(`${group.label} ${spec.series[s]}: ${fmt(value)}`)}</title></rect>`,
          );
          if (spec.groups.length * spec.series.length <= 24)
            out.push(
              `<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" text-anchor="middle" font-size="10">${fmt(value)}</text>`,
            );
        });
        out.push(
          `<text x="${(x0 + groupW * 0.4).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle">${esc(group.label)}</text>`,
        );
      });
      return out;
    },
    spec.series,
  );
}

export interface StackedBarsSpec extends ChartSpec {
  /** Segment names, bottom to top (the legend). */
  segments: string[];
  bars: { label: string; values: number[] }[];
}

export function stackedBars(spec: StackedBarsSpec): string {
  const totals = spec.bars.map((b) =>
    b.values.reduce((s, v) => s + (Number.isFinite(v) ? Math.max(0, v) : 0), 0),
  );
  const max = Math.max(...totals);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const slot = plotW / Math.max(1, spec.bars.length);
  const barW = Math.min(120, slot * 0.6);
  return frame(
    spec,
    max,
    (y) => {
      const out: string[] = [];
      spec.bars.forEach((bar, b) => {
        const x = MARGIN.left + b * slot + (slot - barW) / 2;
        let base = 0;
        bar.values.forEach((value, s) => {
          const v = Number.isFinite(value) ? Math.max(0, value) : 0;
          out.push(
            `<rect x="${x.toFixed(1)}" y="${y(base + v).toFixed(1)}" width="${barW.toFixed(1)}" height="${(y(base) - y(base + v)).toFixed(1)}" fill="${PALETTE[s % PALETTE.length]}"><title>${esc(`${bar.label} ${spec.segments[s]}: ${fmt(value)}`)}</title></rect>`,
          );
          base += v;
        });
        out.push(
          `<text x="${(x + barW / 2).toFixed(1)}" y="${(y(base) - 4).toFixed(1)}" text-anchor="middle" font-size="11">${fmt(totals[b]!)}</text>`,
          ...bar.label
            .split('\n')
            .map(
              (line, i) =>
                `<text x="${(x + barW / 2).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 16 + i * 14}" text-anchor="middle">${esc(line)}</text>`,
            ),
        );
      });
      return out;
    },
    spec.segments,
  );
}
