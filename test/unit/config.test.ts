import { parseMinContainers, parseStemCells } from '../../common/config';

describe('configuration parsing', () => {
  it('reads stem-cell targets as <kind>:<MB>=<count>', () => {
    expect(parseStemCells('nodejs:20:256=2, nodejs:20:512=1')).toEqual([
      { kind: 'nodejs:20', memoryMB: 256, count: 2 },
      { kind: 'nodejs:20', memoryMB: 512, count: 1 },
    ]);
    expect(parseStemCells('')).toEqual([]);
  });

  it('reads per-action minimums as <namespace>/<action>=<count>, packages included', () => {
    expect(parseMinContainers('guest/hello=2,guest/pkg/echo=1')).toEqual({
      'guest/hello': 2,
      'guest/pkg/echo': 1,
    });
    expect(parseMinContainers('')).toEqual({});
  });

  it.each([
    ['GUST_STEM_CELLS', () => parseStemCells('nodejs:20:256')],
    ['GUST_MIN_CONTAINERS', () => parseMinContainers('guest/hello')],
  ])('names %s in the error for a malformed entry', (variable, parse) => {
    expect(parse).toThrow(variable);
  });
});
