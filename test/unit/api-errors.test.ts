// The controller's error registry stays honest: unique codes, key = code, OpenWhisk statuses.
import { API_ERRORS, apiError, isApiError } from '../../api/errors';

describe('API error registry', () => {
  test('every key equals its code and starts with GUST_ERR_', () => {
    for (const [key, entry] of Object.entries(API_ERRORS)) {
      expect(entry.code).toBe(key);
      expect(key).toMatch(/^GUST_ERR_[A-Z]+_[A-Z_]+$/);
    }
  });

  test('every status is a 4xx or 5xx', () => {
    for (const entry of Object.values(API_ERRORS)) {
      expect(entry.statusCode).toBeGreaterThanOrEqual(400);
      expect(entry.statusCode).toBeLessThan(600);
    }
  });

  test.each([
    [
      'GUST_ERR_THROTTLE_RATE',
      [61, 60],
      429,
      'Too many requests in the last minute (count: 61, allowed: 60).',
    ],
    [
      'GUST_ERR_THROTTLE_CONCURRENT',
      [30, 30],
      429,
      'Too many concurrent requests in flight (count: 30, allowed: 30).',
    ],
    ['GUST_ERR_REQUEST_TOO_LARGE', ['exec', 5, 4], 413, 'exec larger than allowed: 5 > 4 bytes.'],
    ['GUST_ERR_ENTITY_EXISTS', [], 409, 'resource already exists'],
    ['GUST_ERR_ACTIVATION_ID_LENGTH', [3], 400, 'Activation id length is 3 but must be 32.'],
  ] as const)('%s renders OpenWhisk text', (code, args, status, message) => {
    const error = apiError(code, ...args);
    expect(isApiError(error)).toBe(true);
    expect(error.statusCode).toBe(status);
    expect(error.message).toBe(message);
  });
});
