// The JSON client of the client plane: the session travels in the HttpOnly cookie.

import { NetworkError, errorFrom } from './errors.js';

/** Calls `path` on `base` and returns its JSON body (or `undefined` for 204). */
export async function call<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(new URL(path, base), {
      method,
      credentials: 'include',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch (cause) {
    throw new NetworkError(`cannot reach ${base}`, { cause });
  }
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}
