import { classifyInitFailure, classifyRun } from '../../api/invoke/classify';
import { MAX_RESULT_BYTES, WHISK_MESSAGES as messages } from '../../common/whisk-messages';

describe('classifyRun follows OpenWhisk’s invoker', () => {
  it.each([
    ['a 200 object without error is a success', 200, '{"a":1}', 'success', { a: 1 }],
    [
      'a 200 object with error is an application error keeping only error',
      200,
      '{"error":"x","a":1}',
      'application error',
      { error: 'x' },
    ],
    ['a 200 array is a success', 200, '[1,2]', 'success', [1, 2]],
    [
      'a 200 string is a developer error',
      200,
      '"hi"',
      'action developer error',
      { error: messages.invalidResponse('"hi"') },
    ],
    [
      'a 200 non-JSON body is a developer error',
      200,
      'oops',
      'action developer error',
      { error: messages.invalidResponse('oops') },
    ],
    [
      'a 502 with error is a developer error with that error',
      502,
      '{"error":"The action did not return a dictionary."}',
      'action developer error',
      { error: 'The action did not return a dictionary.' },
    ],
    [
      'a 500 without error is a developer error',
      500,
      'boom',
      'action developer error',
      { error: messages.invalidResponse('boom') },
    ],
  ])('%s', (_name, status, body, expectedStatus, result) => {
    const r = classifyRun(status, body);
    expect(r).toMatchObject({ status: expectedStatus, result, success: expectedStatus === 'success' });
    expect(r.size).toBe(Buffer.byteLength(body));
  });

  it('reports a reply over 1 MB as an application error with a truncated copy', () => {
    const body = JSON.stringify({ big: 'x'.repeat(MAX_RESULT_BYTES) });
    const r = classifyRun(200, body);
    expect(r.status).toBe('application error');
    expect((r.result as { error: string }).error).toMatch(
      /^The action produced a response that exceeded the allowed length: \d+ > 1048576 bytes/,
    );
    expect(r.statusCode).toBe(1);
  });
});

describe('classifyInitFailure', () => {
  it('keeps the runtime’s error when the body has one', () => {
    expect(classifyInitFailure('{"error":"Cannot initialize the action more than once."}')).toMatchObject({
      status: 'action developer error',
      statusCode: 2,
      result: { error: 'Cannot initialize the action more than once.' },
    });
  });
  it('wraps any other body', () => {
    expect(classifyInitFailure('nope').result).toEqual({
      error: 'The action failed during initialization: nope',
    });
  });
});
